"""What a knowledge load may not do to the rows verification and submissions wrote.

The knowledge files own head types, methods, papers and reported heads, but
runs, verdicts and submitted heads point at them. A load that would drop a
row they point at, or give a verified model another shape, is refused with the
runs named.
"""

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, col, select

from catalog.models import MODEL_SHAPE, HeadType, Method, Model, Paper, ReportedHead, Run, Verdict
from ingest.knowledge_files import KnowledgeError, ModelEntry

SHOWN_RUNS = 5  # runs named in an error; the count says how many more


def check_verified_shapes(session: Session, entries: list[ModelEntry]) -> None:
    """A model verification loaded keeps the shape its checkpoint has: models.yaml cannot rewrite it."""
    verified = {m.slug: m for m in session.exec(select(Model).where(col(Model.identity).is_not(None)))}
    for entry in entries:
        model = verified.get(entry.slug)
        if model is None:
            continue
        stored, given = (tuple(getattr(row, field) for field in MODEL_SHAPE) for row in (model, entry))
        if stored != given:
            raise KnowledgeError(
                f"models.yaml: model {entry.slug!r}, fields {', '.join(MODEL_SHAPE)}: {given} contradicts {stored}, "
                f"the shape of the checkpoint verification loaded ({model.identity})"
            )


def check_stale_rows(session: Session, stale: list[SQLModel]) -> None:
    """Refuse to drop a head type, method or paper that runs or submitted heads point at."""
    for row in stale:
        if isinstance(row, HeadType):
            runs = _runs_of(session, Run.head_type_id == row.id, col(Run.id).in_(_verdict_runs(row.id)))
            submitted = _submitted(session, ReportedHead.head_type_id == row.id)
            _refuse_if_used(f"head_types/: head type {row.slug!r}", runs, submitted)
        elif isinstance(row, Method):
            _refuse_if_used(f"methods.yaml: method {row.slug!r}", _runs_of(session, Run.method_id == row.id), 0)
        elif isinstance(row, Paper):
            _refuse_if_used(f"papers.yaml: paper {row.key!r}", [], _submitted(session, ReportedHead.paper_id == row.id))


def _verdict_runs(head_type_id: int | None):  # type: ignore[no-untyped-def]
    return select(Verdict.run_id).where(Verdict.head_type_id == head_type_id).distinct()


def _runs_of(session: Session, *conditions) -> list[tuple[Run, str]]:  # type: ignore[no-untyped-def]
    query = select(Run, Model.slug).join(Model, Model.id == Run.model_id).where(or_(*conditions)).order_by(Run.id)
    return list(session.exec(query))  # type: ignore[arg-type]


def _submitted(session: Session, condition) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).select_from(ReportedHead).where(condition, ReportedHead.origin == "submission")
    return session.exec(query).one()


def _refuse_if_used(what: str, runs: list[tuple[Run, str]], submissions: int) -> None:
    if not runs and not submissions:
        return
    uses = []
    if runs:
        shown = ", ".join(f"run {run.id} ({slug}, {run.detector}, seed {run.seed})" for run, slug in runs[:SHOWN_RUNS])
        more = f" and {len(runs) - SHOWN_RUNS} more" if len(runs) > SHOWN_RUNS else ""
        uses.append(f"{len(runs)} run(s) refer to it: {shown}{more}")
    if submissions:
        uses.append(f"{submissions} submitted reported head(s) refer to it")
    raise KnowledgeError(f"{what} is no longer in the knowledge files, but {'; '.join(uses)}; keep it")
