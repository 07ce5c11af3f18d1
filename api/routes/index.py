"""The API's front page and the description of its error types."""

from fastapi import APIRouter, Request

from api.errors import PROBLEM_TYPES
from api.paths import DOCS_PATH, OPENAPI_PATH, PROBLEMS_PATH
from api.schemas import ApiIndex, ProblemTypePublic

router = APIRouter(tags=["index"])


@router.get("/")
async def read_index(request: Request) -> ApiIndex:
    """List where each resource of the API lives."""
    return ApiIndex(
        name="headatlas", version="v1", resources=request.app.state.resources, docs=DOCS_PATH, openapi=OPENAPI_PATH
    )


@router.get("/problems")
async def list_problem_types() -> list[ProblemTypePublic]:
    """List the kinds of error the API answers with; each error's `type` points here."""
    return [
        ProblemTypePublic(type=f"{PROBLEMS_PATH}#{name}", status=t.status, title=t.title, description=t.description)
        for name, t in PROBLEM_TYPES.items()
    ]
