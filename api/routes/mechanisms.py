"""The survey's mechanisms: the sub-categories of each stage."""

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import MAX_NAME_LENGTH, CatalogDep, WindowDep
from api.errors import problem_responses
from catalog import crud
from catalog.schemas import MechanismPublic, MechanismsPage

router = APIRouter(prefix="/mechanisms", tags=["taxonomy"], responses=problem_responses(404, 422))


@router.get("")
async def list_mechanisms(catalog: CatalogDep, window: WindowDep) -> MechanismsPage:
    """List the mechanisms, stage by stage, each with its head types."""
    return window.page(MechanismsPage, await catalog.call(crud.list_mechanisms))


@router.get("/{slug}")
async def read_mechanism(
    catalog: CatalogDep,
    slug: Annotated[str, Path(max_length=MAX_NAME_LENGTH, examples=["ici-syntactic-information"])],
) -> MechanismPublic:
    """Show one mechanism by its slug."""
    return await catalog.call(crud.get_mechanism, slug=slug)
