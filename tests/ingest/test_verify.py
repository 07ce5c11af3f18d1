"""Verification stores each run whole, skips what is done, and leaves nothing half-written."""

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from catalog.models import HeadScore, Model, Run, Verdict
from catalog.settings import KNOWLEDGE_DIR
from catalog.verification import list_runs, list_verdicts
from ingest.verify import VerifyOptions, verify_model
from ingest.write_knowledge import ingest_knowledge
from tests.utils.tiny_models import tiny_checkpoint

pytestmark = pytest.mark.model

# Two quick detectors (about a second each on SmolLM2).
QUICK = ("positional", "attention_sink")


@pytest.fixture
def verify(engine: Engine, smollm2, monkeypatch: pytest.MonkeyPatch, tmp_path):  # type: ignore[no-untyped-def]
    """verify_model on the shared, already loaded SmolLM2."""
    monkeypatch.setattr("ingest.verify.load_model", lambda name, cache_dir, **_placement: smollm2)
    ingest_knowledge(engine, KNOWLEDGE_DIR)

    def run(*names: str, force: bool = False):  # type: ignore[no-untyped-def]
        return verify_model(engine, VerifyOptions(model="smollm2", detectors=names, force=force), cache_dir=tmp_path)

    return run


def count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_a_run_stores_every_heads_score_and_verdict(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("positional")
    assert count(engine, Run) == 1
    assert count(engine, HeadScore) == 30 * 9
    assert count(engine, Verdict) == 30 * 9


def test_the_model_is_recorded_with_its_facts(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("positional")
    with Session(engine) as session:
        model = session.exec(select(Model).where(Model.slug == "smollm2-135m-instruct")).one()
    assert (model.n_layers, model.n_heads, model.n_kv_heads, model.family) == (30, 9, 3, "llama")
    assert model.quantization == "GGUF Q4_1"


def test_run_metadata_names_seed_rule_source_and_timings(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("positional")
    with Session(engine) as session:
        (run,) = list_runs(session=session, model="smollm2-135m-instruct")
    assert run.seed == 0 and run.status == "complete" and run.head_type == "positional-head"
    assert "SpecialHead_19_ACL_Russia" in str(run.params["threshold_source"])
    assert run.timings["total"] > 0 and run.code_version


def test_verdicts_list_the_heads_found_best_first(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("positional")
    with Session(engine) as session:
        found = list_verdicts(session=session, model="smollm2-135m-instruct", detector="positional")
    assert found and all(v.shows_behaviour for v in found)
    assert [v.score for v in found] == sorted((v.score for v in found), reverse=True)
    assert found[0].label == "L16H0"


def test_a_second_verification_skips_completed_runs(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("positional")
    report = verify("positional", "attention_sink")
    assert [o.status for o in report.outcomes] == ["skipped", "complete"]
    assert count(engine, Run) == 2


def test_a_verification_whose_runs_are_all_stored_answers_without_loading_the_model(
    engine: Engine, verify, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    first = verify("positional")

    def no_load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("ingest.verify.load_model", no_load)
    again = verify("positional")
    assert [(o.detector, o.status, o.run_id) for o in again.outcomes] == [
        ("positional", "skipped", first.outcomes[0].run_id)
    ]


def test_forcing_replaces_the_run_instead_of_adding_one(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("positional")
    verify("positional", force=True)
    assert count(engine, Run) == 1
    assert count(engine, HeadScore) == 30 * 9


def test_an_interrupted_run_leaves_nothing_and_resumes(engine: Engine, verify, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import ingest.write_runs

    real = ingest.write_runs.cited_reports
    calls = {"n": 0}

    def interrupt_the_second_write(*args):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # the second run's row is already flushed when this is called
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(ingest.write_runs, "cited_reports", interrupt_the_second_write)
    with pytest.raises(KeyboardInterrupt):
        verify(*QUICK)
    assert count(engine, Run) == 1  # the first detector's run, complete; nothing of the second
    assert count(engine, HeadScore) == 30 * 9
    monkeypatch.undo()
    report = verify(*QUICK)
    assert [o.status for o in report.outcomes] == ["skipped", "complete"]


def test_verifying_before_the_knowledge_is_loaded_says_so(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="run `headatlas ingest knowledge` before verifying"):
        verify_model(engine, VerifyOptions(model="smollm2", detectors=("positional",)), cache_dir=tmp_path)


def test_unknown_detector_is_refused_before_anything_is_loaded(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="Unknown detector 'inductoin'; choose one of"):
        verify_model(engine, VerifyOptions(model="no-such-model", detectors=("inductoin",)), cache_dir=tmp_path)


def test_verdicts_confirm_or_contradict_reported_heads_of_the_same_model(engine: Engine, verify, knowledge_dir) -> None:  # type: ignore[no-untyped-def]
    (knowledge_dir / "reported_heads" / "test-smollm2.yaml").write_text(
        "paper: SpecialHead_19_ACL_Russia\nmodel: smollm2-135m-instruct\nindex_base: 0\n"
        "index_convention: layer.head\ngroups:\n"
        "  - {head_type: positional-head, location: test, evidence: a test report, heads: ['16.0', '0.0']}\n"
    )
    ingest_knowledge(engine, knowledge_dir)
    verify("positional")
    with Session(engine) as session:
        verdicts = list_verdicts(session=session, detector="positional", found_only=False)
    reported = {v.label: v.shows_behaviour for v in verdicts if v.reported}
    assert reported == {"L16H0": True, "L0H0": False}  # one reproduced, one contradicted


def test_a_task_done_at_chance_is_stored_as_not_verifiable_without_verdicts(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    report = verify("correct_letter")
    assert report.outcomes[0].status == "not-verifiable"
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        assert (run.status, run.task_total, run.task_chance) == ("not-verifiable", 5 * 48, 0.25)  # pooled over seeds
        assert run.error.startswith("not verifiable on this model: it does the task at chance")
        assert session.exec(select(func.count()).select_from(Verdict)).one() == 0


def test_a_not_verifiable_run_is_not_repeated(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("correct_letter")
    assert verify("correct_letter").outcomes[0].status == "skipped"


def test_a_task_detectors_run_lists_its_task_accuracy(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("negative_name_mover")
    with Session(engine) as session:
        (run,) = list_runs(session=session)
    assert run.status == "complete" and (run.task.correct, run.task.total, run.task.chance) == (238, 5 * 48, 0.5)
    assert run.head_type == "negative-name-mover-head" and run.heads_found == 1


def test_a_run_draws_five_seeds_by_default_and_stores_its_test(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("previous_token")
    with Session(engine) as session:
        (run,) = list_runs(session=session)
    assert run.seeds == [0, 1, 2, 3, 4]
    assert run.evidence["correction"] == "benjamini-hochberg" and run.evidence["min_pass_rate"] == 0.8
    assert "paired t-test" in str(run.evidence["test"]) and "across seeds" in str(run.evidence["test"])


def test_a_detector_whose_material_the_seed_does_not_change_runs_one_seed_and_tests_its_prompts(
    engine: Engine,
    verify,  # type: ignore[no-untyped-def]
) -> None:
    verify("positional")  # the probe sentences are fixed; the seed moves only the control
    with Session(engine) as session:
        (run,) = list_runs(session=session)
    assert run.seeds == [0]
    assert "across prompts" in str(run.evidence["test"]) and "over prompts" in str(run.evidence["interval"])


def test_every_verdict_carries_its_interval_pass_rate_and_corrected_p_value(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    verify("previous_token")
    with Session(engine) as session:
        verdicts = list_verdicts(session=session, detector="previous_token", found_only=False)
    for v in verdicts:
        assert v.score_low <= v.score <= v.score_high
        assert 0.0 <= v.pass_rate <= 1.0 and v.q_value >= v.p_value
    assert all(v.pass_rate >= 0.8 and v.q_value < 0.05 for v in verdicts if v.shows_behaviour)


def test_a_run_over_other_seeds_is_not_taken_for_a_done_one(engine: Engine, verify, smollm2, tmp_path) -> None:  # type: ignore[no-untyped-def]
    verify("previous_token")
    again = verify_model(
        engine, VerifyOptions(model="smollm2", detectors=("previous_token",), seeds=3), cache_dir=tmp_path
    )
    assert [o.status for o in again.outcomes] == ["complete"]
    with Session(engine) as session:
        assert [run.seeds for run in list_runs(session=session)] == [[0, 1, 2]]


def test_heads_whose_ablation_does_not_confirm_them_are_not_found(engine: Engine, verify, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ingest.confirmation import Confirmation
    from ingest.detectors.positional import PositionalDetector

    def fails(self, lens, heads, *, seed):  # type: ignore[no-untyped-def]
        return Confirmation(heads, "m", "lowers", 1.0, 0.2, 0.1, 0.3, [0.0] * 19, 1.0)

    monkeypatch.setattr(PositionalDetector, "confirm", fails)
    verify("positional")
    with Session(engine) as session:
        (run,) = list_runs(session=session)
        assert run.heads_found == 0 and run.confirmation["status"] == "not confirmed"
        assert run.confirmation["heads"]  # the candidates stay on record


def test_pattern_detectors_probing_the_same_tokens_share_their_passes(engine: Engine, smollm2, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # previous_token and duplicate_token read the same repeated tokens; duplicate_token's control is other tokens.
    # Planned, each seed costs two passes; run apart, previous_token one and duplicate_token two.
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    folder = tiny_checkpoint("llama", smollm2.tokenizer, tmp_path / "tiny-llama")
    options = VerifyOptions(model=str(folder), detectors=("previous_token", "duplicate_token"), seeds=2)
    report = verify_model(engine, options, cache_dir=tmp_path)
    assert sum(outcome.timings["passes_forward"] for outcome in report.outcomes) == 2 * 2


def test_a_folder_named_like_a_catalog_model_leaves_that_model_alone(engine: Engine, smollm2, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    folder = tiny_checkpoint("llama", smollm2.tokenizer, tmp_path / "smollm2-135m-instruct")
    report = verify_model(engine, VerifyOptions(model=str(folder), detectors=("positional",)), cache_dir=tmp_path)
    with Session(engine) as session:
        catalogued = session.exec(select(Model).where(Model.slug == "smollm2-135m-instruct")).one()
    assert report.model != "smollm2-135m-instruct"
    assert (catalogued.n_layers, catalogued.n_heads, catalogued.identity) == (30, 9, None)


def test_another_checkpoint_under_a_catalogued_slug_is_refused_naming_both(engine: Engine, verify) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from ingest.write_runs import ModelIdentityError, find_model

    report = verify("positional")
    with Session(engine) as session:
        verified = session.exec(select(Model).where(Model.slug == report.model)).one()
    impostor = replace(verified_facts(verified), identity="folder-sha256:" + "0" * 64)
    with pytest.raises(ModelIdentityError, match=r"is gguf-sha256:b179.*loaded is folder-sha256:0000"):
        find_model(engine, impostor)


def verified_facts(model: Model):  # type: ignore[no-untyped-def]
    from ingest.model_loading import ModelFacts

    return ModelFacts(
        **{name: getattr(model, name) for name in ModelFacts.__dataclass_fields__ if name != "identity"},
        identity=model.identity,
    )  # type: ignore[arg-type]


def test_a_run_that_fails_to_write_leaves_no_model_behind(engine: Engine, smollm2, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ingest_knowledge(engine, KNOWLEDGE_DIR)
    folder = tiny_checkpoint("llama", smollm2.tokenizer, tmp_path / "tiny")

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr("ingest.write_runs._delete_runs", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        verify_model(engine, VerifyOptions(model=str(folder), detectors=("positional",)), cache_dir=tmp_path)
    with Session(engine) as session:
        assert session.exec(select(Model).where(Model.identity.is_not(None))).first() is None  # type: ignore[union-attr]
