"""The application: `create_app(settings)` builds everything, the engine included; nothing happens at import.

`headatlas serve` runs it with uvicorn after migrating the catalog. The API is
at /api/v1/ (OpenAPI at /api/v1/openapi.json, interactive docs at
/api/v1/docs), and the built documentation site, when there is one, at /.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from swagger_ui_bundle import swagger_ui_path

from api.caching import CachingMiddleware
from api.catalog_access import CatalogAccess, pool_size
from api.deps import check_parameters
from api.errors import PROBLEM_MEDIA_TYPE, add_problem_handlers, problem_responses
from api.methods import HeadAndOptionsMiddleware
from api.paths import API_PREFIX, DOCS_PATH, OPENAPI_PATH, PROBLEMS_PATH
from api.routes import ROUTERS
from api.settings import ApiSettings
from api.writes import WriteGate
from catalog.db import make_engine

# Smallest answer worth compressing, in bytes, and how hard to compress (6: zlib's default speed/size balance).
GZIP_MINIMUM_SIZE = 1000
GZIP_LEVEL = 6

DESCRIPTION = """\
A reference catalog of attention heads in large language models: the taxonomy
of the survey *Attention Heads of Large Language Models* (stages, mechanisms,
head types), its papers, methods and benchmarks, the heads papers report, and
our own verification runs with a score and a verdict for every head.

Lists answer `{"data": [...], "count": total, "limit": …, "offset": …}`. Errors
answer `application/problem+json` (RFC 9457) naming each parameter at fault.
Reads carry an ETag and `Cache-Control: public, max-age=60`; writes need
`Authorization: Bearer <token>`. The API never loads a model: verification
requests are queued for `headatlas verify`.
"""


# The groups of operations in the OpenAPI document and the interactive docs, in reading order.
OPENAPI_TAGS = [
    {"name": "index", "description": "Where everything is, the error types, and whether the catalog answers."},
    {"name": "taxonomy", "description": "The survey's four stages and their mechanisms."},
    {"name": "head types", "description": "Named head functions: what they attend to and write, papers, heads."},
    {"name": "models", "description": "Checkpoints and their heads, with every score our runs gave each head."},
    {"name": "papers", "description": "The survey's references, with BibTeX."},
    {"name": "literature", "description": "The survey's methods and benchmarks."},
    {"name": "verification", "description": "Our runs, the transferability matrix, and queued verifications."},
    {"name": "search", "description": "Ranked full-text search over every kind of entry."},
    {"name": "reported heads", "description": "Heads papers report; submitting one needs the bearer token."},
]


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the application on `settings` (by default, HEADATLAS_* from the environment)."""
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="headatlas",
        version=_package_version(),
        description=DESCRIPTION,
        openapi_url=OPENAPI_PATH,
        docs_url=None,  # served by _serve_docs, with its assets, so that it works offline
        redoc_url=None,
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url, pool_size=pool_size(settings.slots))
    app.state.catalog = CatalogAccess(app.state.engine, settings.slots, settings.api_wait_seconds)
    for router in ROUTERS:
        app.include_router(
            router, prefix=API_PREFIX, dependencies=[Depends(check_parameters)], responses=problem_responses(503)
        )
    app.state.resources = _resources()
    add_problem_handlers(app)
    _serve_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Outermost last: CORS answers preflights first; caching sees the bytes gzip sends, and a HEAD as its GET;
    # a write is refused before its body is read.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    app.add_middleware(WriteGate, settings=settings, router=app.router, prefix="/api/")
    app.add_middleware(CachingMiddleware, prefix="/api/")
    app.add_middleware(HeadAndOptionsMiddleware, router=app.router, prefix="/api/")
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "Location"],
        )
    _serve_site(app, settings.site_dir)
    return app


def _resources() -> dict[str, str]:
    """Each resource list by name, as the front page links them: the routers' own prefixes, and the problem types."""
    lists = {router.prefix.strip("/"): API_PREFIX + router.prefix for router in ROUTERS if "{" not in router.prefix}
    return {name: path for name, path in lists.items() if name} | {"problems": PROBLEMS_PATH}


def _serve_docs(app: FastAPI) -> None:
    """Swagger UI at /api/v1/docs from the assets installed with the package (swagger-ui-bundle), not a CDN."""
    assets = f"{DOCS_PATH}/assets"
    app.router.routes.append(Mount(assets, app=StaticFiles(directory=str(swagger_ui_path)), name="docs-assets"))

    @app.get(DOCS_PATH, include_in_schema=False)
    def read_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_PATH,
            title="headatlas API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )


class SiteMount(Mount):
    """The docs site at /, leaving every /api/ path to the API, so that its 404s and 405s stay its own."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


class SiteFiles(StaticFiles):
    """The built site's files, where a page's folder-style address (/models/x/) leads to its file (/models/x.html).

    The site is built a file per page, so that it also works from `file://`;
    served, the shorter addresses readers and papers cite keep working.
    """

    async def get_response(self, path: str, scope: Scope) -> Response:
        address = scope["path"]
        if address.endswith("/") and address != "/" and self.lookup_path(path + ".html")[1] is not None:
            return RedirectResponse(address.rstrip("/") + ".html", status_code=301)  # its relative links need it
        return await super().get_response(path, scope)


def _serve_site(app: FastAPI, site_dir: Path) -> None:
    if (site_dir / "index.html").is_file():
        app.router.routes.append(SiteMount("/", app=SiteFiles(directory=site_dir, html=True), name="site"))
        return

    @app.get("/", include_in_schema=False)
    def read_root() -> dict[str, str]:
        return {
            "name": "headatlas",
            "api": f"{API_PREFIX}/",
            "docs": DOCS_PATH,
            "openapi": OPENAPI_PATH,
            "site": f"The documentation site is not built at {site_dir}; the API is complete without it.",
        }


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error answer as application/problem+json and no unused 422 schemas."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = FastAPI.openapi(app)  # builds and keeps app.openapi_schema, changed in place below
    for path in schema["paths"].values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    for unused in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(unused, None)
    return schema


def _package_version() -> str:
    try:
        return version("headatlas")
    except PackageNotFoundError:
        return "0.0.0"
