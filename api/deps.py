"""What handlers ask for: the settings, a catalog session, a page window, a writer's token, bounded text."""

import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from api.errors import ApiProblem, ProblemParameter
from catalog import exports
from catalog.head_list_formats import registered
from catalog.schemas import Page
from catalog.search import MAX_QUERY_LENGTH
from catalog.settings import Settings

P = TypeVar("P", bound=Page)  # type: ignore[type-arg]

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
# worker thread, and those hops cost more than the work (the API answered 1.5-2x more requests per second
# without them, bench/api.py). Handlers stay `def`, so queries run in worker threads; only closing the
# session, which hands its connection back to the pool (a rollback), runs on the event loop.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


async def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> AsyncIterator[Session]:
    with Session(engine) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Window:
    """Which part of a list to return."""

    limit: int
    offset: int

    def page(self, page_type: type[P], items: Sequence[Any]) -> P:
        """The page of `items` this window shows."""
        return page_type.of(items, limit=self.limit, offset=self.offset)


async def get_window(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Most entries to return.")] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Entries to skip.")] = 0,
) -> Window:
    return Window(limit=limit, offset=offset)


WindowDep = Annotated[Window, Depends(get_window)]


async def reject_nul(request: Request) -> None:
    """No parameter may hold a NUL character, which PostgreSQL cannot store or compare."""
    items = [("path", k, str(v)) for k, v in request.path_params.items()]
    items += [("query", k, v) for k, v in request.query_params.multi_items()]
    errors = [ProblemParameter.at(w, k, "Contains a NUL character") for w, k, v in items if "\0" in v]
    if errors:
        raise ApiProblem("invalid-parameter", "Parameters may not contain NUL characters", errors)


async def reject_unknown_parameters(request: Request) -> None:
    """A query parameter the endpoint does not take is refused, naming it and the ones it takes.

    Ignoring it would answer another question than the one asked: `?headtype=` (for `head_type`) would list
    every head.
    """
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
    """The query parameters the route and every dependency under it declare."""
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(field.alias for field in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


_bearer = HTTPBearer(auto_error=False, description="The token this server was started with (HEADATLAS_API_TOKEN).")


async def require_writer(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Writes need the configured bearer token: 401 without one, 403 with a wrong one or none configured."""
    if settings.api_token is None:
        raise ApiProblem("writes-disabled", "This server accepts no writes: it was started without HEADATLAS_API_TOKEN")
    header = ProblemParameter.at("header", "Authorization", "")
    if credentials is None:
        header.detail = "Send `Authorization: Bearer <token>`"
        raise ApiProblem("unauthorized", "A write needs a bearer token", [header], {"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(credentials.credentials.encode(), settings.api_token.get_secret_value().encode()):
        header.detail = "The token is not this server's"
        raise ApiProblem("forbidden", "The bearer token is not this server's", [header])


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
