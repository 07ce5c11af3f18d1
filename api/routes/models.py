"""Models: the exact checkpoints papers report heads in, or our runs verified."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from api.deps import MAX_NAME_LENGTH, CatalogDep, ExportFormat, ModelSlug, WindowDep, export_response
from api.errors import problem_responses
from catalog import crud, exports
from catalog.schemas import ModelPublic, ModelsPage

router = APIRouter(prefix="/models", tags=["models"], responses=problem_responses(400, 404, 422))


@router.get("")
async def list_models(
    catalog: CatalogDep,
    window: WindowDep,
    family: Annotated[
        str | None, Query(max_length=MAX_NAME_LENGTH, description="Architecture family.", examples=["llama"])
    ] = None,
    kind: Annotated[
        str | None, Query(max_length=MAX_NAME_LENGTH, description="pretrained, instruct or toy.", examples=["instruct"])
    ] = None,
    verified: Annotated[bool | None, Query(description="Only models with (true) or without (false) a run.")] = None,
) -> ModelsPage:
    """List models by slug, filtered by family, kind and whether a run verified them."""
    return window.page(ModelsPage, await catalog.call(crud.list_models, family=family, kind=kind, verified=verified))


@router.get("/{slug}")
async def read_model(catalog: CatalogDep, slug: ModelSlug) -> ModelPublic:
    """Show one model: its checkpoint, shape and how many heads papers report in it."""
    return await catalog.call(crud.get_model, slug=slug)


@router.get("/{slug}/export", response_class=PlainTextResponse)
async def export_verified_heads(
    catalog: CatalogDep,
    slug: ModelSlug,
    head_type: Annotated[str, Query(max_length=MAX_NAME_LENGTH, examples=["induction-head"])],
    format: ExportFormat,  # noqa: A002 - the parameter's public name
) -> PlainTextResponse:
    """Our newest run's verdicts for a head type on this model, in a format other tools read.

    DuoAttention's TSV gets a gate per KV head: 1 where a query head it serves was found, else 0.
    """
    head_list = await catalog.call(exports.verified_list, model=slug, head_type=head_type)
    return export_response(exports.export(head_list, format.value, verified=True), format.value, f"{slug}-{head_type}")
