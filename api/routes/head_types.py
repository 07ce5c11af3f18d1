"""Head types: the named functions heads are reported or verified to have."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_NAME_LENGTH, CatalogDep, TextQuery, WindowDep
from api.errors import problem_responses
from catalog import crud, verification
from catalog.crud import HeadTypeSort
from catalog.schemas import HeadTypeDetail, HeadTypesPage

router = APIRouter(prefix="/head-types", tags=["head types"], responses=problem_responses(400, 404, 422))


@router.get("")
async def list_head_types(
    catalog: CatalogDep,
    window: WindowDep,
    stage: Annotated[str | None, Query(max_length=8, description="Stage code, any case.", examples=["ICI"])] = None,
    mechanism: Annotated[
        str | None,
        Query(max_length=MAX_NAME_LENGTH, description="Mechanism slug.", examples=["lr-in-context-learning"]),
    ] = None,
    family: Annotated[
        str | None,
        Query(
            max_length=MAX_NAME_LENGTH,
            description="A model family the survey's figure marks the head type with.",
            examples=["llama", "gpt"],
        ),
    ] = None,
    verified_on: Annotated[
        str | None,
        Query(
            max_length=MAX_NAME_LENGTH,
            description="Model slug: only head types a run found on this model.",
            examples=["smollm2-135m-instruct"],
        ),
    ] = None,
    q: TextQuery = None,
    sort: Annotated[
        HeadTypeSort, Query(description="taxonomy (the survey's order), name, -name, or relevance to q.")
    ] = ("taxonomy"),
) -> HeadTypesPage:
    """List head types, filtered by stage, mechanism, survey family, verification or text, and sorted."""
    head_types = await catalog.call(
        crud.find_head_types,
        stage=stage,
        mechanism=mechanism,
        family=family,
        verified_on=verified_on,
        text=q,
        sort=sort,
    )
    return window.page(HeadTypesPage, head_types)


@router.get("/{slug}")
async def read_head_type(
    catalog: CatalogDep,
    slug: Annotated[str, Path(max_length=MAX_NAME_LENGTH, examples=["induction-head", "name-mover-head"])],
) -> HeadTypeDetail:
    """Show one head type in full: QK and OV, papers, reported heads, and what our runs found per model."""
    return await catalog.call(verification.get_head_type_detail, slug=slug)
