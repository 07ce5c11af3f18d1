"""How a published list compares with our runs of its head type on the same model, or why it could not be compared.

Per list and head type: the list's top k heads (by score where it scores
them, else in its order; k at most TOP_K, our convention) against our newest
run's top k on the same model: their overlap, the Spearman correlation of the
scores both give, and which of the list's heads our run finds or scores
without finding. A per-KV-head list is compared through the query heads each
KV head serves. Where no run tested the type on that model, the list is not
checked, and says what command would check it; its profile (share of heads,
relative depths, scores) stands beside the type's profile in the models we
did verify, so that families can be compared where indices cannot.
"""

from dataclasses import dataclass
from statistics import quantiles

from sqlmodel import Session, select

from catalog import models as m
from catalog.head_list_formats import ListedHead, registered, to_query_heads
from catalog.schemas import DatasetHeadPublic, HeadProfile, ListReproduction, VerdictPublic, VerifiedProfile
from catalog.verification import list_verdicts

# The most heads of a list compared: a headatlas convention, about the 2% of a 7B model's 1,024 heads.
TOP_K = 20


@dataclass(frozen=True)
class Shape:
    n_layers: int
    n_heads: int
    n_kv_heads: int


def reproduce(
    session: Session, format_name: str, heads: list[DatasetHeadPublic]
) -> tuple[list[ListReproduction], list[VerifiedProfile]]:
    """Every (list, head type) of one dataset's heads (in format `format_name`) compared, and its types' profiles."""
    groups: dict[tuple[str, str, str], list[DatasetHeadPublic]] = {}
    for head in heads:
        groups.setdefault((head.file, head.model, head.head_type), []).append(head)
    detectors = _detectors_by_head_type(session)
    counted_above = registered()[format_name].counted_above
    results = [
        _reproduce_one(session, file, model, head_type, listed, detectors.get(head_type), counted_above)
        for (file, model, head_type), listed in groups.items()
    ]
    types = sorted({head.head_type for head in heads})
    return results, [p for head_type in types for p in verified_profiles(session, head_type)]


def _reproduce_one(  # noqa: PLR0913 - one list's identity, its heads, and how its source counts them
    session: Session,
    file: str,
    model: str,
    head_type: str,
    listed: list[DatasetHeadPublic],
    detector: str | None,
    counted_above: float | None,
) -> ListReproduction:
    shape = _shape(session, model)
    query_heads = _as_query_heads(listed, shape)
    top = top_heads(query_heads, counted_above)
    profile = list_profile(query_heads, top, shape)
    ours = _newest_run(list_verdicts(session=session, model=model, head_type=head_type, found_only=False))
    common = {"file": file, "model": model, "head_type": head_type, "top_k": len(top), "profile": profile}
    if not ours:
        return ListReproduction(
            **common, status=_why_unchecked(session, model), command=_command(session, model, detector)
        )
    scored = {(v.layer, v.head): v for v in ours}
    our_top = {(v.layer, v.head) for v in sorted(ours, key=lambda v: -v.score)[: len(top)]}
    in_ours = [h for h in top if (h.layer, h.head) in scored]
    return ListReproduction(
        **common,
        status="checked",
        command=None,
        overlap=sum((h.layer, h.head) in our_top for h in top),
        rank_correlation=spearman(
            [h.score for h in query_heads if h.score is not None and (h.layer, h.head) in scored],
            [scored[h.layer, h.head].score for h in query_heads if h.score is not None and (h.layer, h.head) in scored],
        ),
        confirmed=[_label(h) for h in in_ours if scored[h.layer, h.head].shows_behaviour],
        contradicted=[_label(h) for h in in_ours if not scored[h.layer, h.head].shows_behaviour],
    )


def verified_profiles(session: Session, head_type: str) -> list[VerifiedProfile]:
    """The type's profile in each model whose newest run of it found heads."""
    by_model: dict[str, list[VerdictPublic]] = {}
    for verdict in list_verdicts(session=session, head_type=head_type, found_only=False):
        by_model.setdefault(verdict.model, []).append(verdict)
    profiles = []
    for model, verdicts in sorted(by_model.items()):
        newest = _newest_run(verdicts)
        found = [ListedHead(v.layer, v.head, v.score) for v in newest if v.shows_behaviour]
        if found:
            every = [ListedHead(v.layer, v.head, v.score) for v in newest]
            profiles.append(
                VerifiedProfile(
                    model=model, head_type=head_type, profile=list_profile(every, found, _shape(session, model))
                )
            )
    return profiles


def top_heads(heads: list[ListedHead], counted_above: float | None = None) -> list[ListedHead]:
    """The heads compared: those the source counts (a score above its cut), else the first TOP_K by score or order."""
    if counted_above is not None:
        return [h for h in heads if h.score is not None and h.score > counted_above]
    if heads and all(h.score is not None for h in heads):
        return sorted(heads, key=lambda h: -h.score)[:TOP_K]  # type: ignore[operator]  # all scored
    return heads[:TOP_K]


def list_profile(every: list[ListedHead], top: list[ListedHead], shape: Shape) -> HeadProfile:
    """Where `top` sits in the model and how `every` scores."""
    depths = [h.layer / max(1, shape.n_layers - 1) for h in top]
    scores = [h.score for h in every if h.score is not None]
    return HeadProfile(
        heads=len(top),
        share=len(top) / (shape.n_layers * shape.n_heads),
        depth_quartiles=_quartiles(depths),
        score_quartiles=_quartiles(scores) if scores else None,
    )


def spearman(first: list[float], second: list[float]) -> float | None:
    """Spearman's rank correlation with average ranks for ties; None for fewer than 3 pairs or a constant side."""
    if len(first) < 3:
        return None
    a, b = _ranks(first), _ranks(second)
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    covariance = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    spread = (sum((x - mean_a) ** 2 for x in a) * sum((y - mean_b) ** 2 for y in b)) ** 0.5
    return covariance / spread if spread else None


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _quartiles(values: list[float]) -> list[float]:
    """[min, lower quartile, median, upper quartile, max], rounded to three decimals."""
    if len(values) == 1:
        return [round(values[0], 3)] * 5
    inner = quantiles(values, n=4, method="inclusive")
    return [round(v, 3) for v in (min(values), *inner, max(values))]


def _as_query_heads(listed: list[DatasetHeadPublic], shape: Shape) -> list[ListedHead]:
    heads = [ListedHead(h.layer, h.head, h.score, h.label) for h in listed]
    if listed and listed[0].unit == "kv-head":
        return to_query_heads(heads, shape.n_heads, shape.n_kv_heads)
    return heads


def _newest_run(verdicts: list[VerdictPublic]) -> list[VerdictPublic]:
    newest = max((v.run_id for v in verdicts), default=None)
    return [v for v in verdicts if v.run_id == newest]


def _why_unchecked(session: Session, model: str) -> str:
    model_id = select(m.Model.id).where(m.Model.slug == model).scalar_subquery()
    verified = session.exec(select(m.Run.id).where(m.Run.model_id == model_id).limit(1)).first() is not None
    return (
        "not checked: no run of this head type on this model" if verified else "not checked: model not available here"
    )


def _command(session: Session, model: str, detector: str | None) -> str:
    """What checks the list where the model can be loaded: every detector, or the one runs record for the type."""
    hub_id = session.exec(select(m.Model.hub_id).where(m.Model.slug == model)).one() or model
    return f"headatlas verify --model {hub_id}" + (f" --detector {detector}" if detector else "")


def _detectors_by_head_type(session: Session) -> dict[str, str]:
    """A detector that tests each head type, as the runs in the catalog record it."""
    rows = session.exec(select(m.HeadType.slug, m.Run.detector).join(m.Run, m.Run.head_type_id == m.HeadType.id))
    return dict(sorted(set(rows)))


def _shape(session: Session, model: str) -> Shape:
    row = session.exec(select(m.Model).where(m.Model.slug == model)).one()
    return Shape(row.n_layers, row.n_heads, row.n_kv_heads)


def _label(head: ListedHead) -> str:
    return f"L{head.layer}H{head.head}"
