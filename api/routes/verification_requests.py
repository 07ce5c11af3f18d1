"""Verification requests: queued here for `headatlas verify` to run; the API never loads a model."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api import submissions
from api.deps import CatalogDep, SettingsDep, WindowDep, require_writer
from api.errors import problem_responses
from api.paths import verification_request_path
from catalog.models import RequestStatus
from catalog.schemas import VerificationRequestCreate, VerificationRequestPublic, VerificationRequestsPage

router = APIRouter(prefix="/verification-requests", tags=["verification"])

# A request id in a path.
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Request id.", examples=[1])]


@router.get("", responses=problem_responses(422))
async def list_verification_requests(
    catalog: CatalogDep,
    window: WindowDep,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
) -> VerificationRequestsPage:
    """List verification requests, oldest first."""
    return await catalog.call(submissions.list_verification_requests, window=window, status=status_)


@router.get("/{request_id}", responses=problem_responses(404, 422))
async def read_verification_request(catalog: CatalogDep, request_id: RequestId) -> VerificationRequestPublic:
    """Show one verification request and its status."""
    return await catalog.call(submissions.get_verification_request, request_id=request_id)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require_writer)],
    responses={
        200: {"model": VerificationRequestPublic, "description": "Already queued"},
        **problem_responses(401, 403, 413, 422),
    },
)
async def queue_verification(
    catalog: CatalogDep, settings: SettingsDep, request: VerificationRequestCreate, response: Response
) -> VerificationRequestPublic:
    """Queue a verification of an allow-listed bundled model; the same queued request is not repeated (200)."""
    queued, created = await catalog.call(
        submissions.queue_verification, request=request, allowlist=settings.verify_allowlist
    )
    response.status_code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
    response.headers["Location"] = verification_request_path(queued.id)
    return queued
