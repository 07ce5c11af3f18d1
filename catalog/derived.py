"""Data the catalog derives from what its writers store, rebuilt whole after a migration introduces it.

Writers keep it current as they write (paper match texts with the knowledge,
verification summaries with every run and report); a catalog migrated from a
revision before DERIVED_SINCE gets it computed once, with the current code.
"""

from sqlmodel import Session, select

from catalog import models as m
from catalog.matrix import refresh_verification_summaries

# The first schema revision holding derived data.
DERIVED_SINCE = "0010"


def needs_rebuild(revision_before: str | None) -> bool:
    """Whether a catalog migrated from `revision_before` lacks the derived data (None: it was empty)."""
    return revision_before is not None and revision_before < DERIVED_SINCE


def rebuild_derived(session: Session) -> None:
    for paper in session.exec(select(m.Paper)):
        paper.match_text = m.paper_match_text(paper.key, paper.title, paper.authors)
    refresh_verification_summaries(session)
