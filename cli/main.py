"""The `headatlas` command line.

Each command parses its flags, calls one library function and prints the
result as text or, with --json, as the same JSON the API serves. Errors in the
input become one line that says what to fix, and a non-zero exit.
"""

import json
from collections.abc import Callable
from pathlib import Path

import click
from pydantic import BaseModel
from sqlmodel import Session

from catalog import crud, datasets, exports
from catalog.errors import NotFoundError
from catalog.parquet_export import CARD, export_catalog
from catalog.search import SEARCH_KINDS, search
from catalog.settings import Settings, get_settings
from cli import text
from cli.common import catalog_session, engine_of, errors_as_usage, json_option, print_result, reaching
from cli.serve import serve_command
from cli.site import site_group
from cli.verification import (
    detectors_command,
    matrix_command,
    models_command,
    runs_command,
    verdicts_command,
    verify_command,
)
from ingest.write_knowledge import ingest_knowledge


@click.group()
@click.option(
    "--database-url",
    help="SQLAlchemy URL of the catalog. [env: HEADATLAS_DATABASE_URL; default: sqlite:///headatlas.db]",
)
@click.version_option(package_name="headatlas")
@click.pass_context
def main(context: click.Context, database_url: str | None) -> None:
    """headatlas: a catalog of attention heads in large language models.

    \b
    Example:
      headatlas ingest knowledge
      headatlas search induction
      headatlas show induction-head
    """
    context.obj = Settings(database_url=database_url) if database_url else get_settings()


@main.group()
def ingest() -> None:
    """Write to the catalog."""


@ingest.command("knowledge")
@click.option(
    "--path",
    type=click.Path(path_type=Path),
    default=None,
    help="Knowledge directory. [default: the one shipped in catalog/knowledge]",
)
@json_option
@click.pass_obj
def ingest_knowledge_command(settings, path: Path | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Validate the knowledge files and load them; running it twice changes nothing.

    \b
    Example:
      headatlas ingest knowledge --path catalog/knowledge
    """
    engine = engine_of(settings)
    with errors_as_usage(), reaching(engine):
        counts = ingest_knowledge(engine, path or settings.knowledge_dir)
    if as_json:
        click.echo(json.dumps({table: vars(count) for table, count in counts.items()}, indent=2))
    else:
        click.echo(text.ingest_report(counts))


@main.command("summary")
@json_option
@click.pass_obj
def summary_command(settings, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Count what the catalog holds.

    \b
    Example:
      headatlas summary --json
    """
    with catalog_session(settings) as session:
        print_result(crud.catalog_summary(session=session), as_json, text.summary)


@main.command("search")
@click.argument("query")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(SEARCH_KINDS),
    help="Only this kind (repeatable).",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@json_option
@click.pass_obj
def search_command(settings, query: str, kinds: tuple[str, ...], limit: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Full-text search over head types, papers, stages, methods, benchmarks and models.

    \b
    Example:
      headatlas search "name mover" --kind head_type
    """
    with catalog_session(settings) as session, errors_as_usage():
        hits = search(session, query, kinds=list(kinds) or None, limit=limit)
    print_result(hits, as_json, text.search_hits)


@main.command("show")
@click.argument("name")
@json_option
@click.pass_obj
def show_command(settings, name: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show one entry in full: a head type, paper key, model, stage, mechanism, method or benchmark.

    \b
    Example:
      headatlas show name-mover-head
      headatlas show IOI_23_ICLR_Redwood
    """
    with catalog_session(settings) as session:
        entry = _find_entry(session, name)
    print_result(entry, as_json, text.entry)


@main.command("datasets")
@json_option
@click.pass_obj
def datasets_command(settings, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List the published head lists: source, licence, index convention and how many heads.

    \b
    Example:
      headatlas datasets
      headatlas show duo-attention-gates
    """
    with catalog_session(settings) as session:
        found = datasets.list_datasets(session=session)
    print_result(found, as_json, text.datasets)


@main.command("export")
@click.option("--model", help="Model slug, e.g. smollm2-135m-instruct.")
@click.option("--dataset", help="A published dataset's list for the model, e.g. duo-attention-gates.")
@click.option("--head-type", help="Our newest run's verdicts for this head type, e.g. retrieval-head.")
@click.option("--all", "whole", is_flag=True, help="The whole catalog, a Parquet file per table (--format parquet).")
@click.option("--format", "format_name", required=True, help=f"One of: {', '.join(exports.EXPORT_FORMATS)}, parquet.")
@click.option("--output", type=click.Path(path_type=Path), help="Write here instead of to stdout (a folder for --all).")
@click.pass_obj
def export_command(settings, model, dataset, head_type, whole, format_name, output) -> None:  # type: ignore[no-untyped-def]
    """Write head lists in formats other tools read: a published one, our verdicts, or the whole catalog.

    \b
    Example:
      headatlas export --model mistral-7b-instruct-v0.2 --dataset duo-attention-gates --format duo-attention-tsv
      headatlas export --model smollm2-135m-instruct --head-type retrieval-head --format duo-attention-tsv
      headatlas export --all --format parquet --output atlas-parquet/
    """
    if whole:
        _export_catalog(settings, format_name, output, model or dataset or head_type)
        return
    if model is None or (dataset is None) == (head_type is None):
        raise click.UsageError("Give --model and either --dataset (a published list) or --head-type (our verdicts)")
    with catalog_session(settings) as session, errors_as_usage():
        try:
            head_list = (
                exports.dataset_list(session=session, slug=dataset, model=model)
                if dataset
                else exports.verified_list(session=session, model=model, head_type=head_type)
            )
        except NotFoundError as error:
            raise click.ClickException(str(error)) from error
        written = exports.export(head_list, format_name, verified=dataset is None)
    if output is None:
        click.echo(written, nl=False)
    else:
        output.write_text(written, encoding="utf-8")


def _export_catalog(settings: Settings, format_name: str, output: Path | None, narrowed: str | None) -> None:
    if format_name != "parquet" or output is None or narrowed:
        raise click.UsageError(
            "--all writes the whole catalog: give --format parquet and --output FOLDER, nothing else"
        )
    with catalog_session(settings) as session, errors_as_usage():
        written = export_catalog(session, output)
    click.echo(f"Wrote {len(written.rows)} tables ({sum(written.rows.values())} rows) and {CARD} to {output}")


@main.command("heads")
@click.option("--stage", help="Stage code, e.g. ICI.")
@click.option("--mechanism", help="Mechanism slug, e.g. ici-syntactic-information.")
@click.option("--head-type", help="Head type slug, e.g. name-mover-head.")
@click.option("--model", help="Model slug, e.g. gpt2-small.")
@click.option("--paper", help="Paper key, e.g. IOI_23_ICLR_Redwood.")
@json_option
@click.pass_obj
def heads_command(settings, stage, mechanism, head_type, model, paper, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List reported heads, filtered.

    \b
    Example:
      headatlas heads --model gpt2-small --stage ICI
    """
    with catalog_session(settings) as session, errors_as_usage():
        heads = crud.list_reported_heads(
            session=session,
            stage=stage,
            mechanism=mechanism,
            model=model,
            paper=paper,
            head_type=head_type,
        )
    print_result(heads, as_json, text.reported_heads)


# Lookups tried in turn by `show`, most specific first.
SHOW_LOOKUPS: list[Callable[[Session, str], BaseModel]] = [
    lambda s, n: crud.get_head_type(session=s, slug=n),
    lambda s, n: crud.get_paper(session=s, key=n),
    lambda s, n: crud.get_model(session=s, slug=n),
    lambda s, n: crud.get_stage(session=s, code=n),
    lambda s, n: crud.get_mechanism(session=s, slug=n),
    lambda s, n: crud.get_method(session=s, slug=n),
    lambda s, n: crud.get_benchmark(session=s, slug=n),
    lambda s, n: datasets.get_dataset(session=s, slug=n),
]


def _find_entry(session: Session, name: str) -> BaseModel:
    """The entry called `name`, as written, else in lower or upper case (slugs, stage codes)."""
    for spelling in dict.fromkeys([name, name.lower(), name.upper()]):
        for lookup in SHOW_LOOKUPS:
            try:
                return lookup(session, spelling)
            except NotFoundError:
                continue
    try:
        hints = [f"{hit.slug} ({hit.kind})" for hit in search(session, name, limit=5)]
    except ValueError:
        hints = []
    hint = f" Did you mean: {', '.join(hints)}?" if hints else " Try `headatlas search WORDS`."
    raise click.UsageError(f"Nothing in the catalog is called {name!r}.{hint}")


for command in (
    verify_command,
    verdicts_command,
    runs_command,
    matrix_command,
    detectors_command,
    models_command,
    serve_command,
):
    main.add_command(command)
main.add_command(site_group)
