"""Every detector on every family: tiny random checkpoints of each, verified with the task gate ignored.

A random model is at chance on every task, so a gated run would stop before
any head is scored; `ignore_task_gate` scores them anyway (exploratory runs),
so that every scoring path, causal ones included, runs on every family.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from catalog.db import make_engine
from catalog.models import HeadScore, Model, Run, RunStatus, Verdict
from catalog.settings import KNOWLEDGE_DIR
from ingest.detectors.positional import PositionalDetector
from ingest.families import FAMILIES
from ingest.plugins import detectors
from ingest.verify import VerifyOptions, verify_model
from ingest.write_knowledge import ingest_knowledge
from tests.utils.tiny_models import TINY_CONFIGS, tiny_checkpoint

# What a run on a model at chance may end as; "failed" and "not-verifiable" (gate ignored) may not.
SCORED_OR_WHY_NOT = {RunStatus.COMPLETE, RunStatus.EXPLORATORY, RunStatus.NOT_APPLICABLE}


def test_every_family_record_has_a_tiny_model_checked_here() -> None:
    assert set(TINY_CONFIGS) == set(FAMILIES)


@pytest.fixture(scope="module")
def tiny_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('families') / 'catalog.db'}")
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("model_type", sorted(FAMILIES))
def test_every_detector_scores_a_tiny_model_of_the_family_or_says_why_not(
    model_type: str, tiny_catalog: Engine, smollm2, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tiny_checkpoint(model_type, smollm2.tokenizer, tmp_path / f"tiny-{model_type}")
    options = VerifyOptions(model=str(folder), seeds=2, ignore_task_gate=True)
    report = verify_model(tiny_catalog, options, cache_dir=tmp_path)
    statuses = {outcome.detector: outcome.status for outcome in report.outcomes}
    assert set(statuses) == set(detectors())
    assert {name: status for name, status in statuses.items() if status not in SCORED_OR_WHY_NOT} == {}
    assert RunStatus.EXPLORATORY in statuses.values()  # task detectors scored although at chance


def test_an_exploratory_run_stores_scores_but_no_verdicts(tiny_catalog: Engine) -> None:
    with Session(tiny_catalog) as session:
        run = session.exec(select(Run).where(Run.detector == "name_mover", Run.status == "exploratory")).first()
        assert run is not None and "at chance" in (run.error or "")
        scores = session.exec(select(func.count()).where(HeadScore.run_id == run.id, HeadScore.score.is_not(None)))
        verdicts = session.exec(select(func.count()).where(Verdict.run_id == run.id))
        assert scores.one() > 0 and verdicts.one() == 0


def test_a_detector_that_raises_leaves_a_failed_run_while_the_others_complete(
    engine: Engine, smollm2, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(PositionalDetector, "measure", broken)
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    folder = tiny_checkpoint("gpt2", smollm2.tokenizer, tmp_path / "tiny-gpt2")
    options = VerifyOptions(model=str(folder), detectors=("positional", "previous_token"), seeds=2)
    report = verify_model(engine, options, cache_dir=tmp_path)
    assert [(outcome.detector, outcome.status) for outcome in report.outcomes] == [
        ("positional", "failed"),
        ("previous_token", "complete"),
    ]
    with Session(engine) as session:
        failed = session.exec(select(Run).where(Run.detector == "positional")).one()
        assert failed.status == "failed" and failed.error == "RuntimeError: injected failure"
        assert session.exec(select(Model.family).where(Model.slug == report.model)).one() == "gpt2"
