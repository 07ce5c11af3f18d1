"""Writers take turns: a second writer waits for the first and then sees everything it wrote."""

import threading
import time

import pytest
from sqlalchemy import Engine, text

from catalog.db import write_transaction


@pytest.fixture
def probe(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE lock_probe (n integer)"))
    return engine


def test_a_second_writer_waits_and_reads_what_the_first_committed(probe: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    holding = threading.Event()

    def first() -> None:
        with write_transaction(probe, "the first writer") as session:
            holding.set()
            time.sleep(0.5)
            session.connection().execute(text("INSERT INTO lock_probe VALUES (1)"))

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait()
    with write_transaction(probe, "the second writer") as session:
        seen = session.connection().execute(text("SELECT count(*) FROM lock_probe")).scalar_one()
    thread.join()
    assert seen == 1
    assert "the second writer waits" in caplog.text


def test_a_writer_that_raises_leaves_nothing_and_frees_the_lock(probe: Engine) -> None:
    with pytest.raises(RuntimeError), write_transaction(probe, "a broken writer") as session:
        session.connection().execute(text("INSERT INTO lock_probe VALUES (1)"))
        raise RuntimeError("interrupted")
    with write_transaction(probe, "the next writer") as session:
        assert session.connection().execute(text("SELECT count(*) FROM lock_probe")).scalar_one() == 0
