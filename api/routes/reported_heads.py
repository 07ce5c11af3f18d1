"""Reported heads: heads papers say have a head type; users can submit more, with their source."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from api import submissions
from api.deps import MAX_NAME_LENGTH, CatalogDep, WindowDep, require_writer
from api.errors import problem_responses
from api.paths import head_path
from catalog import crud
from catalog.schemas import ReportedHeadCreate, ReportedHeadPublic, ReportedHeadsPage

router = APIRouter(prefix="/reported-heads", tags=["reported heads"])

# A name filter on reported heads.
NameQuery = Annotated[str | None, Query(max_length=MAX_NAME_LENGTH)]


@router.get("", responses=problem_responses(400, 422))
async def list_reported_heads(
    catalog: CatalogDep,
    window: WindowDep,
    stage: Annotated[str | None, Query(max_length=8, examples=["ICI"])] = None,
    mechanism: NameQuery = None,
    model: Annotated[str | None, Query(max_length=MAX_NAME_LENGTH, examples=["gpt2-small"])] = None,
    paper: Annotated[str | None, Query(max_length=MAX_NAME_LENGTH, examples=["IOI_23_ICLR_Redwood"])] = None,
    head_type: Annotated[str | None, Query(max_length=MAX_NAME_LENGTH, examples=["name-mover-head"])] = None,
) -> ReportedHeadsPage:
    """List the heads papers report, filtered by stage, mechanism, model, paper and head type."""
    return await catalog.call(
        crud.reported_heads_page,
        window=window,
        stage=stage,
        mechanism=mechanism,
        model=model,
        paper=paper,
        head_type=head_type,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_writer)],
    responses={
        200: {"model": ReportedHeadPublic, "description": "Already in the catalog"},
        **problem_responses(401, 403, 413, 422),
    },
)
async def submit_reported_head(
    catalog: CatalogDep, submission: ReportedHeadCreate, response: Response
) -> ReportedHeadPublic:
    """Submit a head a paper reports, with where and how; sending it again changes nothing (200)."""
    reported, created = await catalog.call(submissions.submit_reported_head, submission=submission)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = head_path(reported.model, reported.layer, reported.head)
    return reported
