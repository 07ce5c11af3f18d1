"""Ranked full-text search across every kind of entry."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CatalogDep, WindowDep
from api.errors import problem_responses
from api.schemas import SearchPage, SearchResult
from catalog.search import CANDIDATES, MAX_QUERY_LENGTH, SearchKind, search

router = APIRouter(prefix="/search", tags=["search"], responses=problem_responses(400, 422))


@router.get("")
async def search_catalog(
    catalog: CatalogDep,
    window: WindowDep,
    q: Annotated[
        str, Query(min_length=1, max_length=MAX_QUERY_LENGTH, description="Words to find.", examples=["induction"])
    ],
    kind: Annotated[list[SearchKind] | None, Query(description="Only these kinds (repeatable).")] = None,
) -> SearchPage:
    """Search head types, papers, stages, mechanisms, methods, benchmarks and models, best match first."""
    hits = await catalog.call(search, query=q, kinds=list[str](kind) if kind else None, limit=CANDIDATES)
    return window.page(SearchPage, [SearchResult(**hit.model_dump()) for hit in hits])
