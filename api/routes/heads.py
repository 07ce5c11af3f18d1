"""A model's heads: every score our runs gave them and every report about them."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_INDEX, MAX_NAME_LENGTH, CatalogDep, ModelSlug, WindowDep
from api.errors import problem_responses
from catalog import verification
from catalog.schemas import HeadAttentionPage, HeadPublic, HeadsPage
from catalog.verification import HeadSort, VerdictFilter

router = APIRouter(prefix="/models/{slug}/heads", tags=["models"], responses=problem_responses(400, 404, 422))

# A layer index in a query, bounded.
LayerQuery = Annotated[int | None, Query(ge=0, le=MAX_INDEX)]


@router.get("")
async def list_heads(
    catalog: CatalogDep,
    slug: ModelSlug,
    window: WindowDep,
    detector: Annotated[
        str | None, Query(max_length=MAX_NAME_LENGTH, description="Detector name.", examples=["induction"])
    ] = None,
    head_type: Annotated[
        str | None, Query(max_length=MAX_NAME_LENGTH, description="Head type slug.", examples=["induction-head"])
    ] = None,
    min_score: Annotated[
        float | None, Query(allow_inf_nan=False, description="Only scores at least this.", examples=[0.5])
    ] = None,
    verdict: Annotated[
        VerdictFilter | None, Query(description="found: shows the behaviour; not_found: scored and does not.")
    ] = None,
    layer_min: LayerQuery = None,
    layer_max: LayerQuery = None,
    sort: Annotated[HeadSort, Query(description="position (layer, head) or -score (best first).")] = "position",
) -> HeadsPage:
    """List a model's heads with their scores, filtered by detector, head type, score, verdict and layers."""
    return await catalog.call(
        verification.list_model_heads,
        model=slug,
        detector=detector,
        head_type=head_type,
        min_score=min_score,
        verdict=verdict,
        layer_min=layer_min,
        layer_max=layer_max,
        sort=sort,
        limit=window.limit,
        offset=window.offset,
    )


# A head's place, 0-based, in a path.
LayerPath = Annotated[int, Path(ge=0, le=MAX_INDEX, description="Layer, 0-based.", examples=[3])]
HeadPath = Annotated[int, Path(ge=0, le=MAX_INDEX, description="Head, 0-based.", examples=[0])]


@router.get("/{layer}/{head}")
async def read_head(catalog: CatalogDep, slug: ModelSlug, layer: LayerPath, head: HeadPath) -> HeadPublic:
    """Show one head: every score of every run, and every paper that reports it."""
    return await catalog.call(verification.get_head, model=slug, layer=layer, head=head)


@router.get("/{layer}/{head}/attention")
async def list_head_attention(
    catalog: CatalogDep, slug: ModelSlug, layer: LayerPath, head: HeadPath, window: WindowDep
) -> HeadAttentionPage:
    """List one head's attention on the prompt each run kept of its probe (the head page's pictures), run by run."""
    return window.page(
        HeadAttentionPage, await catalog.call(verification.get_head_attention, model=slug, layer=layer, head=head)
    )
