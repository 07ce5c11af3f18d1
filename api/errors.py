"""Every error the API returns is one `application/problem+json` document (RFC 9457).

The shape is always the same: type, title, status, detail, instance, and
`errors`, a list naming each parameter or body field at fault and why. The
handlers below turn the catalog's exceptions and the framework's into it;
tests/api/test_error_shape.py pins it across endpoints.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.paths import API_PREFIX, PROBLEMS_PATH
from catalog.errors import CatalogError, InvalidFieldError, InvalidParameterError, NotFoundError

logger = logging.getLogger(__name__)

# The media type of every error body.
PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: str
    description: str


# Every kind of problem the API answers with, by the name its type URI ends with.
PROBLEM_TYPES: dict[str, ProblemType] = {
    "invalid-parameter": ProblemType(
        400, "Invalid parameter", "A parameter names something the catalog does not hold, or a text has no words."
    ),
    "unauthorized": ProblemType(401, "Unauthorized", "A write needs the header `Authorization: Bearer <token>`."),
    "forbidden": ProblemType(403, "Forbidden", "The bearer token is not this server's."),
    "writes-disabled": ProblemType(
        403,
        "Writes disabled",
        "This server has no API token configured (HEADATLAS_API_TOKEN), so it accepts no writes.",
    ),
    "not-found": ProblemType(404, "Not found", "Nothing at this path, or nothing in the catalog by that name."),
    "method-not-allowed": ProblemType(405, "Method not allowed", "The path exists but not with this method."),
    "too-large": ProblemType(413, "Content too large", "A request body is larger than this server accepts."),
    "invalid-request": ProblemType(
        422, "Invalid request", "A parameter or body field is missing, of the wrong type, out of bounds or too long."
    ),
    "unavailable": ProblemType(503, "Service unavailable", "The catalog database cannot be read."),
    "overloaded": ProblemType(
        503, "Service busy", "Every catalog connection stayed busy; retry after the seconds `Retry-After` gives."
    ),
    "server-error": ProblemType(500, "Internal server error", "A bug: the server failed to answer."),
}


# The problem each of the catalog's errors is (catalog.errors); any other exception is a bug, a 500.
CATALOG_PROBLEMS: dict[type[CatalogError], str] = {
    NotFoundError: "not-found",
    InvalidFieldError: "invalid-request",
    InvalidParameterError: "invalid-parameter",
}


# Where a parameter at fault is.
Location = Literal["query", "path", "header", "body"]


# One parameter or body field at fault.
class ProblemParameter(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    location: Location = Field(alias="in")
    name: str
    detail: str

    @classmethod
    def at(cls, location: str, name: str, detail: str) -> "ProblemParameter":
        """The parameter `name` in `location` (one of Location), at fault because of `detail`."""
        return cls.model_validate({"in": location, "name": name, "detail": detail})


# An error, as RFC 9457 problem details; the body of every 4xx and 5xx answer.
class Problem(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "/api/v1/problems#invalid-request",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "limit: Input should be less than or equal to 200",
                    "instance": "/api/v1/head-types?limit=500",
                    "errors": [{"in": "query", "name": "limit", "detail": "Input should be less than or equal to 200"}],
                }
            ]
        }
    )

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemParameter]


@dataclass
class ApiProblem(Exception):
    """Raised by the API's own code to answer with a problem of a known type."""

    kind: str
    detail: str
    errors: list[ProblemParameter] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each a Problem (main.py sets the media type)."""
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase + ": " + _descriptions(status)}
        for status in statuses
    }


def _descriptions(status: int) -> str:
    return " ".join(t.description for t in PROBLEM_TYPES.values() if t.status == status)


def problem_response(
    request: Request,
    kind: str,
    detail: str,
    errors: list[ProblemParameter] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem_type = PROBLEM_TYPES[kind]
    instance = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    problem = Problem(
        type=f"{PROBLEMS_PATH}#{kind}",
        title=problem_type.title,
        status=problem_type.status,
        detail=detail,
        instance=instance,
        errors=errors or [],
    )
    return JSONResponse(
        problem.model_dump(by_alias=True),
        status_code=problem_type.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def add_problem_handlers(app: FastAPI) -> None:
    """Answer every error of the app, the framework's and the catalog's, as a Problem."""

    @app.exception_handler(ApiProblem)
    async def on_api_problem(request: Request, error: ApiProblem) -> JSONResponse:
        return problem_response(request, error.kind, error.detail, error.errors, error.headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [_validation_parameter(item) for item in error.errors()]
        detail = "; ".join(f"{e.name}: {e.detail}" for e in errors[:5])
        return problem_response(request, "invalid-request", detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            detail = f"Nothing at {request.url.path}; the API's resources are listed at {API_PREFIX}/"
            return problem_response(request, "not-found", detail)
        if error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            detail = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed or 'none'}"
            return problem_response(request, "method-not-allowed", detail, headers=error.headers)
        kind = next((k for k, t in PROBLEM_TYPES.items() if t.status == error.status_code), "server-error")
        return problem_response(request, kind, str(error.detail), headers=error.headers)

    @app.exception_handler(CatalogError)
    async def on_catalog_error(request: Request, error: CatalogError) -> JSONResponse:
        kind = next(kind for kind_of, kind in CATALOG_PROBLEMS.items() if isinstance(error, kind_of))
        return problem_response(request, kind, str(error), [_parameter_at_fault(request, error)])

    @app.exception_handler(ValidationError)
    async def on_invalid_data(request: Request, error: ValidationError) -> JSONResponse:
        return await on_bug(request, error)  # our data failed our own schema: a bug, not the caller's fault

    @app.exception_handler(PoolTimeoutError)
    async def on_pool_exhausted(request: Request, error: PoolTimeoutError) -> JSONResponse:
        logger.error("No pooled connection on %s: %s", request.url.path, error)  # catalog_access should prevent it
        detail = "No catalog connection came free in time; retry"
        return problem_response(request, "overloaded", detail, headers={"Retry-After": "1"})

    @app.exception_handler(OperationalError)
    async def on_database_error(request: Request, error: OperationalError) -> JSONResponse:
        logger.error("Catalog database error on %s: %s", request.url.path, error)
        detail = "The catalog database cannot be read; is it reachable and migrated (`headatlas ingest knowledge`)?"
        return problem_response(request, "unavailable", detail)

    @app.exception_handler(Exception)
    async def on_bug(request: Request, error: Exception) -> JSONResponse:
        logger.exception("Unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, "server-error", "The server failed to answer; this is a bug.")


def _validation_parameter(item: dict[str, Any]) -> ProblemParameter:
    """One of pydantic's errors as what it is about: ('query', 'kind', 0) is the query parameter kind,
    ('body', 'detectors', 0) the body field detectors.0."""
    location, *path = item["loc"] or ("body",)
    if location not in ("query", "path", "header", "body"):
        location, path = "body", list(item["loc"])
    if location == "body":
        name = ".".join(str(part) for part in path) or "body"
    else:
        name = str(path[0]) if path else location
    detail = item["msg"]
    if item["type"] == "missing":
        detail = "Field required" if location == "body" else "Parameter required"
    return ProblemParameter.at(location, name, detail)


def _parameter_at_fault(request: Request, error: CatalogError) -> ProblemParameter:
    """The parameter a catalog error names, where the request holds it: the body for a field sent to be stored."""
    if isinstance(error, InvalidFieldError):
        location = "body"
    else:
        location = "path" if error.parameter in request.path_params else "query"
    return ProblemParameter.at(location, error.parameter, str(error))
