"""Which reported head a verdict cites: one rule, whatever order runs and reports were written in.

A verdict on a head cites the report of the same head and head type, from the
first paper by key when several papers report it, or none. The run writer
applies the rule to the verdicts it adds; the knowledge load and submissions,
which add and remove reports under existing verdicts, apply it again to all.
"""

from collections.abc import Collection

from sqlalchemy import select as core_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from catalog.models import Head, Paper, ReportedHead, Verdict


def cited_reports(session: Session, model_id: int, head_type_id: int) -> dict[int, int]:
    """The report each head of the model would cite for this head type, by head id."""
    rows = session.exec(
        select(ReportedHead.head_id, ReportedHead.id)
        .join(Head, Head.id == ReportedHead.head_id)
        .join(Paper, Paper.id == ReportedHead.paper_id)
        .where(Head.model_id == model_id, ReportedHead.head_type_id == head_type_id)
        .order_by(col(Paper.key))
    )
    cited: dict[int, int] = {}
    for head_id, report_id in rows:
        cited.setdefault(head_id, report_id)  # type: ignore[arg-type]
    return cited


def relink_verdicts(session: Session, *, leaving: Collection[int] = ()) -> None:
    """Make every verdict cite what the rule says now; `leaving` are reports about to be deleted."""
    report = (
        core_select(ReportedHead.id)
        .join(Paper, Paper.id == ReportedHead.paper_id)
        .where(ReportedHead.head_id == Verdict.head_id, ReportedHead.head_type_id == Verdict.head_type_id)
        .order_by(col(Paper.key))
        .limit(1)
    )
    if leaving:
        report = report.where(col(ReportedHead.id).not_in(list(leaving)))
    cited = report.scalar_subquery()
    session.exec(  # type: ignore[call-overload]
        update(Verdict).where(col(Verdict.reported_head_id).is_distinct_from(cited)).values(reported_head_id=cited)
    )
