"""`headatlas site build`: the documentation site, generated from the catalog.

sitegen (and with it mkdocs and matplotlib) is imported inside the command, so that other commands start quickly.
"""

import time
from pathlib import Path

import click

from catalog.db import upgrade
from catalog.settings import Settings
from cli.common import engine_of, reaching


@click.group("site")
def site_group() -> None:
    """The documentation site: a page per stage, head type, model and paper, with heatmaps."""


@site_group.command("build")
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the built HTML; emptied first. [env: HEADATLAS_SITE_DIR; default: site/build]",
)
@click.pass_obj
def build_command(settings: Settings, output: Path | None) -> None:
    """Generate every page and figure from the catalog and build the site with mkdocs, strictly.

    A broken link fails the build. `headatlas serve` then serves the site at /.

    \b
    Example:
      headatlas site build
      headatlas --database-url sqlite:///other.db site build --output /tmp/site
    """
    from sitegen.build import SiteBuildError, build_site

    engine = engine_of(settings)
    with reaching(engine):
        upgrade(engine)
    started = time.perf_counter()

    def progress(step: str) -> None:
        click.echo(f"[{time.perf_counter() - started:5.1f} s] {step} …", err=True)

    try:
        report = build_site(settings, output=output, progress=progress)
    except (SiteBuildError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.steps.items())
    click.echo(
        f"Built {report.pages} pages and {report.figures} figures into {report.output} in {report.seconds:.1f} s"
        + (f" ({steps})" if steps else "")
    )
