"""The survey's four stages."""

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CatalogDep, WindowDep
from api.errors import problem_responses
from catalog import crud
from catalog.schemas import StagePublic, StagesPage

router = APIRouter(prefix="/stages", tags=["taxonomy"], responses=problem_responses(404, 422))


@router.get("")
async def list_stages(catalog: CatalogDep, window: WindowDep) -> StagesPage:
    """List the survey's four stages, each with its mechanisms and their head types."""
    return window.page(StagesPage, await catalog.call(crud.list_stages))


@router.get("/{code}")
async def read_stage(
    catalog: CatalogDep,
    code: Annotated[str, Path(max_length=8, description="Stage code, any case.", examples=["ICI", "kr"])],
) -> StagePublic:
    """Show one stage by its code (KR, ICI, LR or EP)."""
    return await catalog.call(crud.get_stage, code=code)
