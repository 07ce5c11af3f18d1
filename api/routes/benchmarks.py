"""Benchmarks: the datasets of the survey's two evaluation tables."""

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import MAX_NAME_LENGTH, CatalogDep, WindowDep
from api.errors import problem_responses
from catalog import crud
from catalog.schemas import BenchmarkPublic, BenchmarksPage

router = APIRouter(prefix="/benchmarks", tags=["literature"], responses=problem_responses(404, 422))


@router.get("")
async def list_benchmarks(catalog: CatalogDep, window: WindowDep) -> BenchmarksPage:
    """List the benchmarks of the survey's tables, with the papers citing them."""
    return window.page(BenchmarksPage, await catalog.call(crud.list_benchmarks))


@router.get("/{slug}")
async def read_benchmark(
    catalog: CatalogDep, slug: Annotated[str, Path(max_length=MAX_NAME_LENGTH, examples=["ioi"])]
) -> BenchmarkPublic:
    """Show one benchmark by its slug."""
    return await catalog.call(crud.get_benchmark, slug=slug)
