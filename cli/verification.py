"""Commands that verify head types on models and read the results.

torch and transformers are imported inside the commands that need them, so
that catalog commands start quickly.
"""

import sys

import click

from catalog import verification
from catalog.matrix import transferability_matrix
from catalog.settings import Settings
from cli import text
from cli.common import catalog_session, engine_of, errors_as_usage, json_option, print_result, reaching


@click.command("verify")
@click.option(
    "--model",
    "model_name",
    required=True,
    help="Bundled name (smollm2, gemma3, qwen2.5-coder), toy-iteration, .gguf file, folder or hub id.",
)
@click.option(
    "--detector",
    "detector_names",
    multiple=True,
    default=["all"],
    show_default=True,
    help="Detector name, or all (repeatable).",
)
@click.option("--seed", default=0, show_default=True, help="The first seed; the run uses seeds SEED to SEED+SEEDS-1.")
@click.option(
    "--seeds",
    "n_seeds",
    type=click.IntRange(min=2),
    help="How many seeds each detector draws fresh probe material with (default 5); verdicts are tested across them. "
    "Detectors whose material is fixed run the first seed and are tested across its prompts.",
)
@click.option("--force", is_flag=True, help="Re-run detectors that already have a complete run.")
@click.option(
    "--ignore-task-gate",
    is_flag=True,
    help="Score heads even where the model does the task at chance; such runs are stored as exploratory, "
    "without verdicts.",
)
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda", "mps", "auto"]),
    help="Where the model runs; auto spreads it over the devices there are. [env: HEADATLAS_DEVICE; default: cpu]",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "bfloat16", "float16"]),
    help="The model's weights and activations; scores are accumulated in float32. "
    "[env: HEADATLAS_DTYPE; default: float32]",
)
@json_option
@click.pass_obj
def verify_command(
    settings: Settings,
    model_name: str,
    detector_names: tuple[str, ...],
    seed: int,
    n_seeds: int | None,
    force: bool,
    ignore_task_gate: bool,
    device: str | None,
    dtype: str | None,
    as_json: bool,
) -> None:
    """Score every head of a model with detectors and store runs, scores and verdicts.

    Each run is stored whole when it finishes; an interrupted verification keeps
    the runs it completed, and running it again does the rest.

    \b
    Example:
      headatlas verify --model smollm2 --detector induction
      headatlas verify --model gemma3 --detector all --seeds 10
    """
    from tqdm import tqdm

    from ingest.model_loading import ModelLoadError
    from ingest.verify import VerifyOptions, verify_model

    def progress(detectors, model: str):  # type: ignore[no-untyped-def]
        bar = tqdm(detectors, file=sys.stderr, unit="detector", disable=None)
        for detector in bar:
            bar.set_description(f"{model} / {detector.name}")
            yield detector

    from ingest.evidence import DEFAULT_SEEDS

    options = VerifyOptions(
        model=model_name,
        detectors=detector_names,
        seed=seed,
        seeds=n_seeds or DEFAULT_SEEDS,
        force=force,
        ignore_task_gate=ignore_task_gate,
        device=device or settings.device,
        dtype=dtype or settings.dtype,
    )
    engine = engine_of(settings)
    with errors_as_usage(), reaching(engine):
        try:
            report = verify_model(engine, options, cache_dir=settings.cache_dir, progress=progress)
        except ModelLoadError as error:
            raise click.UsageError(f"{error}\nRun `headatlas models` to see the bundled models.") from error
    print_result(report, as_json, text.verify_report)


@click.command("verdicts")
@click.option("--model", help="Model slug, e.g. smollm2-135m-instruct.")
@click.option("--detector", help="Detector name, e.g. induction.")
@click.option("--head-type", help="Head type slug, e.g. induction-head.")
@click.option("--all-heads", is_flag=True, help="Also list heads that do not show the behaviour.")
@click.option("--min-score", type=float, help="Only heads scoring at least this.")
@json_option
@click.pass_obj
def verdicts_command(settings: Settings, model, detector, head_type, all_heads: bool, min_score, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List verified heads: score, baseline, threshold and verdict, best first.

    \b
    Example:
      headatlas verdicts --model smollm2-135m-instruct --detector induction
    """
    with catalog_session(settings) as session, errors_as_usage():
        verdicts = verification.list_verdicts(
            session=session,
            model=model,
            detector=detector,
            head_type=head_type,
            found_only=not all_heads,
            min_score=min_score,
        )
    print_result(verdicts, as_json, text.verdicts)


@click.command("runs")
@click.option("--model", help="Model slug.")
@click.option("--detector", help="Detector name.")
@json_option
@click.pass_obj
def runs_command(settings: Settings, model, detector, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List stored verification runs with their parameters and timings.

    \b
    Example:
      headatlas runs --model gemma-3-270m
    """
    with catalog_session(settings) as session, errors_as_usage():
        runs = verification.list_runs(session=session, model=model, detector=detector)
    print_result(runs, as_json, text.runs)


@click.command("matrix")
@click.option("--stage", help="Only head types of this stage (KR, ICI, LR, EP).")
@click.option("--model", "models", multiple=True, help="Only this model (repeatable), e.g. smollm2.")
@click.option("--all-types", is_flag=True, help="Also list head types no run has tested.")
@json_option
@click.pass_obj
def matrix_command(
    settings: Settings, stage: str | None, models: tuple[str, ...], all_types: bool, as_json: bool
) -> None:
    """The transferability matrix: head types × models, found or not, at which depth, how strongly.

    Beside each head type stand the model families the survey's figure marks it
    with, so that what the survey reports and what our runs found read side by side.

    \b
    Example:
      headatlas matrix --stage ICI --model smollm2
      headatlas matrix --json
    """
    with catalog_session(settings) as session, errors_as_usage():
        data = transferability_matrix(session, stage=stage, models=list(models), tested_only=not all_types)
    print_result(data, as_json, text.matrix)


@click.command("detectors")
@json_option
@click.pass_obj
def detectors_command(settings: Settings, as_json: bool) -> None:
    """List the registered detectors: head type, method, rule, threshold and its source.

    \b
    Example:
      headatlas detectors --json
    """
    from ingest.detector_listing import detector_rows

    print_result(detector_rows(settings.cache_dir), as_json, text.detectors)


@click.command("models")
@json_option
@click.pass_obj
def models_command(settings: Settings, as_json: bool) -> None:
    """List the bundled models and the toy, and whether they are installed.

    \b
    Example:
      headatlas models
    """
    from ingest.model_files import load_sources, missing_requirements
    from ingest.toy_checkpoint import TOY_NAME, trained_toy_folder

    rows = [
        {
            "name": name,
            "slug": source.slug,
            "quantization": source.quantization,
            "installed": not missing_requirements(source),
            "install": f"make {source.make_target}",
        }
        for name, source in sorted(load_sources().items())
    ]
    toy = {"name": TOY_NAME, "slug": TOY_NAME, "quantization": None}
    installed = (trained_toy_folder(settings.cache_dir) / "config.json").is_file()
    rows.append({**toy, "installed": installed, "install": "trained on first use (about two minutes)"})
    print_result(rows, as_json, text.bundled_models)
