"""Methods: the survey's ways of finding what a head does."""

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import MAX_NAME_LENGTH, CatalogDep, WindowDep
from api.errors import problem_responses
from catalog import crud
from catalog.schemas import MethodPublic, MethodsPage

router = APIRouter(prefix="/methods", tags=["literature"], responses=problem_responses(404, 422))


@router.get("")
async def list_methods(catalog: CatalogDep, window: WindowDep) -> MethodsPage:
    """List the survey's methods, Modeling-Free then Modeling-Required, with representative papers."""
    return window.page(MethodsPage, await catalog.call(crud.list_methods))


@router.get("/{slug}")
async def read_method(
    catalog: CatalogDep, slug: Annotated[str, Path(max_length=MAX_NAME_LENGTH, examples=["zero-ablation"])]
) -> MethodPublic:
    """Show one method by its slug."""
    return await catalog.call(crud.get_method, slug=slug)
