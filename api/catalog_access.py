"""Every catalog call of a request runs on a worker thread in a session of its own, and gives its connection back
before the answer is serialised or sent.

The number of calls at once is bounded by `slots`, and the engine's pool holds
exactly one connection per slot plus one kept for /health, with no overflow:
a call that holds a slot always finds a connection, so no thread ever waits for
the pool. A request that cannot get a slot within `wait` seconds is answered at
once with a 503 and `Retry-After` instead of queueing without end; /health has
a slot and a connection of its own, so it answers while every other slot is busy.
(Before, a request's session lived until its answer was sent, and the answer was
checked on a second worker thread: at 128 connections every thread could hold a
connection while waiting for another, and the server stopped answering.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio
from anyio import CapacityLimiter
from sqlalchemy import Engine
from sqlmodel import Session

from api.errors import ApiProblem

T = TypeVar("T")

# Connections the pool keeps beside the request slots: one for /health.
RESERVED_CONNECTIONS = 1


@dataclass
class CatalogAccess:
    """Runs catalog functions `f(session=..., **arguments)` off the event loop, at most `slots` at once."""

    engine: Engine
    slots: int
    wait: float  # seconds a request may wait for a slot before it is told to come back later

    def __post_init__(self) -> None:
        self._requests = CapacityLimiter(self.slots)
        self._threads = CapacityLimiter(self.slots)  # never contended: a slot is taken first
        self._health = CapacityLimiter(RESERVED_CONNECTIONS)

    async def call(self, function: Callable[..., T], /, **arguments: Any) -> T:
        """`function(session=..., **arguments)`, or a 503 problem when every slot stays busy for `wait` seconds."""
        with anyio.move_on_after(self.wait) as waiting:
            await self._requests.acquire()
        if waiting.cancelled_caught:
            raise ApiProblem(
                "overloaded",
                f"Every one of the server's {self.slots} catalog connections stayed busy for {self.wait:g} s; retry",
                headers={"Retry-After": "1"},
            )
        try:
            return await anyio.to_thread.run_sync(partial(self._in_session, function, arguments), limiter=self._threads)
        finally:
            self._requests.release()

    async def call_for_health(self, function: Callable[..., T], /, **arguments: Any) -> T:
        """As `call`, on the slot and connection kept for /health, so that it answers however busy the rest is."""
        return await anyio.to_thread.run_sync(partial(self._in_session, function, arguments), limiter=self._health)

    def _in_session(self, function: Callable[..., T], arguments: dict[str, Any]) -> T:
        with Session(self.engine) as session:
            return function(session=session, **arguments)


def pool_size(slots: int) -> int:
    """The connections an engine needs for `slots` request slots and /health."""
    return slots + RESERVED_CONNECTIONS
