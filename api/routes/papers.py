"""Papers: the survey's references, each with its BibTeX."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from api.deps import MAX_NAME_LENGTH, CatalogDep, TextQuery, WindowDep
from api.errors import problem_responses
from catalog import crud
from catalog.schemas import PaperPublic, PapersPage

router = APIRouter(prefix="/papers", tags=["papers"], responses=problem_responses(404, 422))

# The media type of a BibTeX entry.
BIBTEX_MEDIA_TYPE = "application/x-bibtex"
# A paper key in a path.
PaperKey = Annotated[str, Path(max_length=MAX_NAME_LENGTH, description="Paper key.", examples=["IOI_23_ICLR_Redwood"])]


@router.get("")
async def list_papers(
    catalog: CatalogDep,
    window: WindowDep,
    q: TextQuery = None,
    year: Annotated[int | None, Query(ge=1900, le=2100, description="Year of publication.", examples=[2024])] = None,
) -> PapersPage:
    """List papers, newest first, filtered by year and by text in the key, title or authors."""
    return await catalog.call(crud.papers_page, window=window, text=q, year=year)


@router.get("/{key}")
async def read_paper(catalog: CatalogDep, key: PaperKey) -> PaperPublic:
    """Show one paper, with its BibTeX and the head types it is cited for."""
    return await catalog.call(crud.get_paper, key=key)


@router.get(
    "/{key}/bibtex",
    response_class=PlainTextResponse,
    responses={200: {"content": {BIBTEX_MEDIA_TYPE: {"schema": {"type": "string"}}}, "description": "BibTeX"}},
)
async def read_paper_bibtex(catalog: CatalogDep, key: PaperKey) -> PlainTextResponse:
    """Give one paper's BibTeX entry, to paste into a bibliography."""
    paper = await catalog.call(crud.get_paper, key=key)
    return PlainTextResponse(paper.bibtex, media_type=BIBTEX_MEDIA_TYPE)
