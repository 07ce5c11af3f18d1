"""The API's front page and the description of its error types."""

from fastapi import APIRouter

from api.errors import PROBLEM_TYPES, PROBLEMS_PATH
from api.schemas import ApiIndex, ProblemTypePublic

router = APIRouter(tags=["index"])

# Each resource list by name, as the front page links it.
RESOURCES = {
    name: f"/api/v1/{name}"
    for name in (
        "health",
        "stages",
        "mechanisms",
        "head-types",
        "models",
        "papers",
        "methods",
        "benchmarks",
        "datasets",
        "runs",
        "matrix",
        "search",
        "reported-heads",
        "verification-requests",
        "problems",
    )
}


@router.get("/")
def read_index() -> ApiIndex:
    """List where each resource of the API lives."""
    return ApiIndex(
        name="headatlas",
        version="v1",
        resources=RESOURCES,
        docs="/api/v1/docs",
        openapi="/api/v1/openapi.json",
    )


@router.get("/problems")
def list_problem_types() -> list[ProblemTypePublic]:
    """List the kinds of error the API answers with; each error's `type` points here."""
    return [
        ProblemTypePublic(type=f"{PROBLEMS_PATH}#{name}", status=t.status, title=t.title, description=t.description)
        for name, t in PROBLEM_TYPES.items()
    ]
