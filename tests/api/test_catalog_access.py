"""CatalogAccess bounds the catalog work of requests: a slot each, a 503 after a short wait, /health always."""

import threading

import anyio
import pytest
from sqlmodel import Session

from api.catalog_access import CatalogAccess, pool_size
from api.errors import ApiProblem
from api.settings import ApiSettings
from catalog.db import make_engine


@pytest.fixture
def access(tmp_path) -> CatalogAccess:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'catalog.db'}", pool_size=pool_size(1))
    return CatalogAccess(engine, slots=1, wait=0.05)


def test_a_call_gets_a_session_of_its_own_closed_when_it_returns(access: CatalogAccess) -> None:
    sessions: list[Session] = []

    def remember(*, session: Session) -> int:
        sessions.append(session)
        return session.connection().exec_driver_sql("select 41 + 1").scalar_one()  # type: ignore[no-any-return]

    assert anyio.run(access.call, remember) == 42
    assert access.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_request_finding_every_slot_busy_gets_a_503_with_retry_after(access: CatalogAccess) -> None:
    release = threading.Event()

    def hold(*, session: Session) -> None:
        release.wait(10)

    async def both() -> ApiProblem:
        async with anyio.create_task_group() as group:
            group.start_soon(access.call, hold)
            await anyio.sleep(0.02)
            with pytest.raises(ApiProblem) as refused:
                await access.call(hold)
            release.set()
        return refused.value

    problem = anyio.run(both)
    assert (problem.kind, problem.headers) == ("overloaded", {"Retry-After": "1"})


def test_health_answers_while_every_slot_is_busy(access: CatalogAccess) -> None:
    release = threading.Event()

    def hold(*, session: Session) -> None:
        session.connection()
        release.wait(10)

    def revision(*, session: Session) -> int:
        return session.connection().exec_driver_sql("select 1").scalar_one()  # type: ignore[no-any-return]

    async def health_while_busy() -> int:
        async with anyio.create_task_group() as group:
            group.start_soon(access.call, hold)
            await anyio.sleep(0.02)
            with anyio.fail_after(1):
                answer = await access.call_for_health(revision)
            release.set()
        return answer

    assert anyio.run(health_while_busy) == 1


def test_the_pool_holds_a_connection_per_slot_and_one_for_health_and_no_overflow() -> None:
    engine = make_engine("sqlite:///unused.db", pool_size=pool_size(8))
    assert (engine.pool.size(), engine.pool._max_overflow) == (9, 0)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "setting", "slots"),
    [("sqlite:///x.db", None, 2), ("postgresql://postgres@127.0.0.1/test", None, 8), ("sqlite:///x.db", 5, 5)],
)
def test_slots_are_the_backends_default_unless_set(url: str, setting: int | None, slots: int) -> None:
    assert ApiSettings(database_url=url, api_slots=setting).slots == slots
