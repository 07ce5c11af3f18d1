"""What handlers ask for: the settings, the catalog, a page window, a writer's token, bounded text."""

from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.catalog_access import CatalogAccess
from api.errors import ApiProblem, ProblemParameter
from api.settings import ApiSettings
from api.writes import writer_problem
from catalog import exports
from catalog.head_list_formats import registered
from catalog.search import MAX_QUERY_LENGTH
from catalog.windows import Window

# Most entries one page of a list holds, and how many it holds unless asked.
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# Largest offset accepted; far beyond any list the catalog holds.
MAX_OFFSET = 1_000_000_000
# Longest text accepted in any parameter (search's own bound), and longest name (slug, key).
MAX_TEXT_LENGTH = MAX_QUERY_LENGTH
MAX_NAME_LENGTH = 200
# Largest layer or head index accepted in a path or filter.
MAX_INDEX = 100_000


# The dependencies are `async def` though they await nothing: FastAPI runs a plain `def` dependency in a
# worker thread, and those hops cost more than the work. Handlers are `async def` too, and hand their
# catalog work to CatalogAccess, which runs it on a worker thread in a session closed before the answer is
# serialised (api/catalog_access.py).


async def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_catalog(request: Request) -> CatalogAccess:
    return request.app.state.catalog  # type: ignore[no-any-return]


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
CatalogDep = Annotated[CatalogAccess, Depends(get_catalog)]


async def get_window(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Most entries to return.")] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Entries to skip.")] = 0,
) -> Window:
    return Window(limit=limit, offset=offset)


WindowDep = Annotated[Window, Depends(get_window)]


async def check_parameters(request: Request) -> None:
    """Refuse a NUL character in any parameter, and a query parameter the endpoint does not take.

    PostgreSQL can neither store nor compare NUL. An unknown parameter is refused,
    naming it and the ones the endpoint takes: ignoring it would answer another
    question than the one asked (`?headtype=` for `head_type` would list every head).
    One dependency for both, on every route: FastAPI resolves each dependency of each request anew.
    """
    items = [("path", k, str(v)) for k, v in request.path_params.items()]
    items += [("query", k, v) for k, v in request.query_params.multi_items()]
    errors = [ProblemParameter.at(w, k, "Contains a NUL character") for w, k, v in items if "\0" in v]
    if errors:
        raise ApiProblem("invalid-parameter", "Parameters may not contain NUL characters", errors)
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    accepted = _query_parameters(route)
    unknown = sorted({name for name in request.query_params if name not in accepted})
    if unknown:
        takes = ", ".join(sorted(accepted)) or "none"
        errors = [
            ProblemParameter.at("query", name, f"Not a parameter of this endpoint; it takes: {takes}")
            for name in unknown
        ]
        raise ApiProblem(
            "invalid-parameter", f"Unknown query parameter {', '.join(unknown)}; this endpoint takes: {takes}", errors
        )


def _query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameters the route and every dependency under it declare, found once per route."""
    key = (route.path, frozenset(route.methods))  # routes are not hashable; the same code declares the same
    if key not in _DECLARED:
        _DECLARED[key] = _declared_query_parameters(route)
    return _DECLARED[key]


_DECLARED: dict[tuple[str, frozenset[str]], frozenset[str]] = {}


def _declared_query_parameters(route: APIRoute) -> frozenset[str]:
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(field.alias for field in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


_bearer = HTTPBearer(auto_error=False, description="The token this server was started with (HEADATLAS_API_TOKEN).")


async def require_writer(
    request: Request,
    settings: SettingsDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],  # for the OpenAPI document
) -> None:
    """Writes need the configured bearer token: 401 without one, 403 with a wrong one or none configured.

    WriteGate (api/writes.py) refuses them already, before their body is read; this keeps a route safe on its own.
    """
    if problem := writer_problem(settings, request.headers.get("authorization")):
        raise problem


# Text parameters, each bounded.
TextQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_TEXT_LENGTH,
        description=f"Words to look for, ignoring case (at most {MAX_TEXT_LENGTH} characters).",
    ),
]
ModelSlug = Annotated[
    str,
    Path(max_length=MAX_NAME_LENGTH, description="Model slug.", examples=["smollm2-135m-instruct", "gpt2-small"]),
]

# The formats a head list exports in (catalog.exports).
ExportFormatName = StrEnum("ExportFormatName", {name: name for name in exports.EXPORT_FORMATS})  # type: ignore[misc]
ExportFormat = Annotated[ExportFormatName, Query(description="The file format to write.")]


def export_response(text: str, format_name: str, stem: str) -> PlainTextResponse:
    """An exported list as a download named after what it holds."""
    suffix = {"csv": ".csv", "jsonl": ".jsonl"}.get(format_name) or registered()[format_name].suffix
    headers = {"Content-Disposition": f'attachment; filename="{stem}{suffix}"'}
    return PlainTextResponse(text, media_type=exports.MEDIA_TYPES[format_name], headers=headers)
