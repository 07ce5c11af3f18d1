"""Ranked full-text search over everything in the catalog.

The database finds and ranks candidates with its own full-text engine (FTS5's
bm25 on SQLite, a weighted tsvector on PostgreSQL, both stemming English); one
shared tie-break then puts an exact name or alias match first and prefers head
types, so that "induction" gives Induction Head before the papers about it.
"""

import re
from typing import Literal

from sqlalchemy import text
from sqlmodel import Session, select

from catalog.errors import InvalidParameterError
from catalog.models import (
    Benchmark,
    HeadType,
    HeadTypePaper,
    Mechanism,
    Method,
    Model,
    Paper,
    SearchDocument,
    Stage,
)
from catalog.schemas import SearchHit
from catalog.sync import Syncer, TableCount

SearchKind = Literal["head_type", "paper", "stage", "mechanism", "method", "benchmark", "model"]
SEARCH_KINDS: list[str] = list(SearchKind.__args__)  # type: ignore[attr-defined]

# Longest query accepted, in characters.
MAX_QUERY_LENGTH = 200
# Candidates fetched from the full-text engine before the shared tie-break.
CANDIDATES = 200
# How much each kind weighs in the ranking: what users look for most comes first.
KIND_WEIGHT = {
    "head_type": 3.0,
    "mechanism": 2.0,
    "stage": 2.0,
    "method": 1.5,
    "benchmark": 1.5,
    "model": 1.5,
    "paper": 1.0,
}
# Words of a query that carry no meaning for matching.
WORD = re.compile(r"\w+", re.UNICODE)


def search(session: Session, query: str, *, kinds: list[str] | None = None, limit: int = 20) -> list[SearchHit]:
    """Find catalog entries matching all words of `query` (or, failing that, any word).

    Args:
        session: an open catalog session.
        query: free text; punctuation is ignored.
        kinds: restrict to these kinds (see SEARCH_KINDS).
        limit: the most hits to return.

    Returns:
        Hits, best first, each with a score that only orders this result.
    """
    words = query_words(query)
    for kind in kinds or []:
        if kind not in SEARCH_KINDS:
            raise InvalidParameterError("kind", f"Unknown search kind {kind!r}; choose one of {SEARCH_KINDS}")
    match_all = _candidates(session, words, "all")
    rows = match_all or _candidates(session, words, "any")
    hits = [_rank(row, query) for row in rows if not kinds or row.kind in kinds]
    hits.sort(key=lambda hit: (-hit.score, hit.title))
    return hits[:limit]


def query_words(query: str) -> list[str]:
    """The words of a query; ValueError if it has none or is too long."""
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidParameterError("q", f"Search query is {len(query)} characters; the most is {MAX_QUERY_LENGTH}")
    words = [word.lower() for word in WORD.findall(query)]
    if not words:
        raise InvalidParameterError("q", f"Search query {query!r} has no words to search for")
    return words


def _candidates(session: Session, words: list[str], mode: Literal["all", "any"]):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        joiner = " & " if mode == "all" else " | "
        sql = text(
            "SELECT id, kind, slug, title, aliases, ts_rank_cd(document, q, 1) AS relevance "
            "FROM search_document, to_tsquery('english', :q) AS q "
            "WHERE document @@ q ORDER BY relevance DESC LIMIT :n"
        )
        return session.execute(sql, {"q": joiner.join(words), "n": CANDIDATES}).all()
    joiner = " " if mode == "all" else " OR "
    sql = text(
        "SELECT d.id, d.kind, d.slug, d.title, d.aliases, "
        "-bm25(search_fts, 10.0, 5.0, 1.0) AS relevance "
        "FROM search_fts JOIN search_document d ON d.id = search_fts.rowid "
        "WHERE search_fts MATCH :q ORDER BY bm25(search_fts, 10.0, 5.0, 1.0) LIMIT :n"
    )
    return session.execute(sql, {"q": joiner.join(f'"{w}"' for w in words), "n": CANDIDATES}).all()


def _rank(row, query: str) -> SearchHit:  # type: ignore[no-untyped-def]
    names = [row.title, *row.aliases.split(" | ")]
    exact = any(_name_key(name) == _name_key(query) for name in names if name)
    score = float(row.relevance) * KIND_WEIGHT[row.kind] + (1000.0 if exact else 0.0)
    return SearchHit(kind=row.kind, slug=row.slug, title=row.title, score=round(score, 4))


def _name_key(name: str) -> tuple[str, ...]:
    """A name reduced so that "name movers" and "Name Mover Head" compare equal."""
    words = [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in WORD.findall(name.lower())]
    return tuple(words[:-1] if len(words) > 1 and words[-1] == "head" else words)


def rebuild_search_index(session: Session) -> TableCount:
    """Make search_document describe the catalog as it is now, then refresh the FTS index."""
    syncer = Syncer(session)
    syncer.sync(SearchDocument, ("kind", "slug"), list(_documents(session)))
    syncer.delete_stale()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    return syncer.counts["search_document"]


def _documents(session: Session):  # type: ignore[no-untyped-def]
    paper_titles: dict[int, list[str]] = {}
    for head_type_id, title in session.exec(
        select(HeadTypePaper.head_type_id, Paper.title).join(Paper, Paper.id == HeadTypePaper.paper_id)
    ):
        paper_titles.setdefault(head_type_id, []).append(title)
    for h in session.exec(select(HeadType)):
        body = [
            h.summary,
            h.description,
            h.qk,
            h.ov,
            h.input_feature,
            h.output_feature,
            *paper_titles.get(h.id, []),
        ]
        yield _document("head_type", h.slug, h.name, h.aliases, body)
    for p in session.exec(select(Paper)):
        yield _document(
            "paper",
            p.key,
            p.title,
            [],
            [", ".join(p.authors), p.venue, str(p.year), p.arxiv_id or ""],
        )
    for s in session.exec(select(Stage)):
        yield _document("stage", s.code, s.name, [s.code], [s.summary])
    for m in session.exec(select(Mechanism)):
        yield _document("mechanism", m.slug, m.name, [], [m.summary])
    for method in session.exec(select(Method)):
        yield _document("method", method.slug, method.name, [], [method.kind_name, method.core_operation])
    for b in session.exec(select(Benchmark)):
        yield _document("benchmark", b.slug, b.name, [], [b.task_type, b.main_task, b.source])
    for model in session.exec(select(Model)):
        yield _document("model", model.slug, model.name, [model.hub_id or ""], [model.family, model.kind])


def _document(kind: str, slug: str, title: str, aliases: list[str], body: list[str]) -> dict[str, str]:
    return {
        "kind": kind,
        "slug": slug,
        "title": title,
        "aliases": " | ".join(aliases),
        "body": "\n".join(body),
    }
