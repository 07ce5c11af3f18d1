"""What users send through the API, its only writes: reported heads with their source, and verification requests.

These are the only writes outside `ingest`, and they are narrow: a submitted
reported head is stored with origin "submission" (the knowledge ingest never
touches those rows), and a verification request is only recorded, for
`headatlas verify` to run; nothing here loads a model.
"""

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog import models as m
from catalog.citations import relink_verdicts
from catalog.crud import list_reported_heads, require_known
from catalog.errors import InvalidFieldError, InvalidParameterError, NotFoundError
from catalog.matrix import refresh_verification_summaries
from catalog.schemas import (
    ReportedHeadCreate,
    ReportedHeadPublic,
    VerificationRequestCreate,
    VerificationRequestPublic,
    VerificationRequestsPage,
)
from catalog.windows import Window, sql_page


def submit_reported_head(*, session: Session, submission: ReportedHeadCreate) -> tuple[ReportedHeadPublic, bool]:
    """Store a reported head unless the catalog already has it for this head, head type and paper.

    Args:
        session: an open catalog session; the submission is committed here.
        submission: the head as the paper prints it, with the paper's index base.

    Returns:
        The reported head as stored, and whether this call created it.
    """
    paper_id = _known_id(session, m.Paper.id, m.Paper.key, submission.paper, "paper", field="paper")
    type_id = _known_id(session, m.HeadType.id, m.HeadType.slug, submission.head_type, "head type", field="head_type")
    _known_id(session, m.Model.id, m.Model.slug, submission.model, "model", field="model")
    model = session.exec(select(m.Model).where(m.Model.slug == submission.model)).one()
    base = submission.index_base
    layer, head = submission.layer - base, submission.head - base
    for field, value, size in (("layer", layer, model.n_layers), ("head", head, model.n_heads)):
        if not 0 <= value < size:
            raise InvalidFieldError(
                field,
                f"{model.slug} has {field}s {base} to {size - 1 + base} when counted from {base}; "
                f"{getattr(submission, field)} is outside them",
            )
    head_id = _head_id(session, model, layer, head)
    created = _insert_once(
        session,
        m.ReportedHead(
            head_id=head_id,
            head_type_id=type_id,
            paper_id=paper_id,
            location=submission.location,
            paper_index=submission.paper_index or f"{submission.layer}.{submission.head}",
            index_base=base,
            index_convention=submission.index_convention or f"layer.head, {base}-based",
            evidence=submission.evidence,
            score=submission.score,
            score_name=submission.score_name,
            origin="submission",
        ),
    )
    if created:
        relink_verdicts(session)  # verdicts already stored on this head and type now cite it, as if it came first
        refresh_verification_summaries(session, model_id=model.id)
        session.commit()
    stored = list_reported_heads(
        session=session, model=submission.model, paper=submission.paper, head_type=submission.head_type
    )
    return next(r for r in stored if (r.layer, r.head) == (layer, head)), created


def queue_verification(
    *, session: Session, request: VerificationRequestCreate, allowlist: list[str]
) -> tuple[VerificationRequestPublic, bool]:
    """Record a verification request for `headatlas verify` to run; the same queued request is not repeated.

    Args:
        session: an open catalog session; the request is committed here.
        request: the bundled model and the detectors.
        allowlist: the bundled model names this server accepts.

    Returns:
        The queued request, and whether this call created it.
    """
    if request.model not in allowlist:
        allowed = ", ".join(allowlist) or "none"
        raise InvalidFieldError(
            "model", f"Model {request.model!r} is not on this server's allow-list; choose one of: {allowed}"
        )
    detectors = ["all"] if "all" in request.detectors else sorted(set(request.detectors))
    queued = session.exec(
        select(m.VerificationRequest).where(
            m.VerificationRequest.model == request.model,
            m.VerificationRequest.status == m.RequestStatus.QUEUED,
            m.VerificationRequest.seed == request.seed,
        )
    )
    for existing in queued:
        if existing.detectors == detectors:
            return VerificationRequestPublic.model_validate(existing, from_attributes=True), False
    row = m.VerificationRequest(
        model=request.model,
        detectors=detectors,
        seed=request.seed,
        note=request.note,
        requested_at=datetime.now(UTC),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return VerificationRequestPublic.model_validate(row, from_attributes=True), True


def list_verification_requests(
    *, session: Session, window: Window, status: str | None = None
) -> VerificationRequestsPage:
    """One page of the verification requests, oldest first."""
    query = select(m.VerificationRequest).order_by(col(m.VerificationRequest.id))
    if status is not None:
        query = query.where(m.VerificationRequest.status == status)
    return sql_page(session, query, window, VerificationRequestsPage, _request_public)


def _request_public(row: m.VerificationRequest) -> VerificationRequestPublic:
    return VerificationRequestPublic.model_validate(row, from_attributes=True)


def get_verification_request(*, session: Session, request_id: int) -> VerificationRequestPublic:
    row = session.get(m.VerificationRequest, request_id)
    if row is None:
        raise NotFoundError("request_id", f"No verification request {request_id}")
    return VerificationRequestPublic.model_validate(row, from_attributes=True)


def _known_id(session: Session, id_column, name_column, value: str, what: str, *, field: str) -> int:  # type: ignore[no-untyped-def]
    try:
        known = require_known(session, name_column, value, field, what=what, exact=True)  # writes name exactly
    except InvalidParameterError as error:
        raise InvalidFieldError(field, str(error)) from None
    return session.exec(select(id_column).where(name_column == known)).one()  # type: ignore[no-any-return]


def _head_id(session: Session, model: m.Model, layer: int, head: int) -> int:
    """The head's row, added if the model's heads were never registered."""
    query = select(m.Head.id).where(m.Head.model_id == model.id, m.Head.layer == layer, m.Head.head == head)
    head_id = session.exec(query).first()
    if head_id is None:
        _insert_once(session, m.Head(model_id=model.id, layer=layer, head=head))  # type: ignore[arg-type]
        head_id = session.exec(query).one()
    return head_id


def _insert_once(session: Session, row: m.ReportedHead | m.Head) -> bool:
    """Insert and commit `row`; False if a row with the same unique key is already there."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True
