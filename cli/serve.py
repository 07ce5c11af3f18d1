"""`headatlas serve`: the REST API and the documentation site over HTTP.

uvicorn and the API are imported inside the command, so that other commands start quickly.
"""

import os
from pathlib import Path

import click

from catalog.db import upgrade
from catalog.settings import Settings
from cli.common import engine_of, reaching


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes (uvicorn).")
@click.option(
    "--site-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Built documentation site to serve at /. [env: HEADATLAS_SITE_DIR; default: site/build]",
)
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every request.")
@click.pass_obj
def serve_command(
    settings: Settings, host: str, port: int, workers: int, site_dir: Path | None, access_log: bool
) -> None:
    """Serve the REST API at /api/v1/ and the built documentation site at /.

    The catalog is migrated first. Writes need HEADATLAS_API_TOKEN; without it the
    API only reads. Interactive API docs are at /api/v1/docs.

    \b
    Example:
      headatlas serve --port 8000
      HEADATLAS_API_TOKEN=secret headatlas --database-url postgresql://postgres@127.0.0.1/test serve
    """
    import uvicorn

    from api.main import create_app
    from api.settings import ApiSettings

    settings = ApiSettings(**(settings.model_dump() | ({"site_dir": site_dir} if site_dir else {})))
    engine = engine_of(settings)
    with reaching(engine):
        upgrade(engine)
    click.echo(f"headatlas API at http://{host}:{port}/api/v1/ (docs: /api/v1/docs)", err=True)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, access_log=access_log)
        return
    # Worker processes build their own app from the environment, so pass the settings through it.
    os.environ["HEADATLAS_DATABASE_URL"] = settings.database_url
    os.environ["HEADATLAS_SITE_DIR"] = str(settings.site_dir)
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, workers=workers, access_log=access_log)
