"""A write is refused before its body is read: first without the server's bearer token, then beyond the size limit.

Before, FastAPI read and parsed a body in full before the token dependency ran
(the issue measured 4 s for a 50 MB body to get its 401, and the server grew
from 93 to 410 MB). Here the token is checked on the headers alone, a declared
Content-Length above the limit is a 413 at once, and a body sent without one is
read only up to the limit. Only methods some route takes at the path are gated,
so a POST to a read-only path stays a 405.
"""

import secrets

from fastapi import Request
from starlette.datastructures import Headers
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiProblem, ProblemParameter, problem_response
from api.methods import allowed_methods
from api.settings import ApiSettings

# Methods that read; everything else is a write.
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def writer_problem(settings: ApiSettings, authorization: str | None) -> ApiProblem | None:
    """Why a write with this Authorization header is refused (401, or 403 with a wrong or no token), or None."""
    if settings.api_token is None:
        return ApiProblem(
            "writes-disabled", "This server accepts no writes: it was started without HEADATLAS_API_TOKEN"
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        header = ProblemParameter.at("header", "Authorization", "Send `Authorization: Bearer <token>`")
        return ApiProblem("unauthorized", "A write needs a bearer token", [header], {"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(token.strip().encode(), settings.api_token.get_secret_value().encode()):
        header = ProblemParameter.at("header", "Authorization", "The token is not this server's")
        return ApiProblem("forbidden", "The bearer token is not this server's", [header])
    return None


class WriteGate:
    def __init__(self, app: ASGIApp, *, settings: ApiSettings, router: Router, prefix: str = "/api/") -> None:
        self.app = app
        self.settings = settings
        self.router = router
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._gated(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body = b""
        problem = writer_problem(self.settings, headers.get("authorization")) or self._size_problem(headers)
        if problem is None:
            body, problem = await self._bounded_body(receive)
        if problem is not None:
            await self._refuse(scope, receive, send, problem)
            return
        await self.app(scope, _replaying(body), send)

    def _gated(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] in READ_METHODS or not scope["path"].startswith(self.prefix):
            return False
        return scope["method"] in allowed_methods(self.router, scope)

    def _size_problem(self, headers: Headers) -> ApiProblem | None:
        declared = headers.get("content-length")
        if declared is None or (declared.isdigit() and int(declared) <= self.settings.api_max_body_bytes):
            return None
        return self._too_large()

    async def _bounded_body(self, receive: Receive) -> tuple[bytes, ApiProblem | None]:
        """The body, read up to the limit; a problem as soon as it goes beyond."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.api_max_body_bytes:
                return b"", self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    def _too_large(self) -> ApiProblem:
        limit = self.settings.api_max_body_bytes
        body = ProblemParameter.at("body", "body", f"Larger than {limit:,} bytes")
        return ApiProblem("too-large", f"A request body may hold at most {limit:,} bytes", [body])

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, problem: ApiProblem) -> None:
        response = problem_response(Request(scope), problem.kind, problem.detail, problem.errors, problem.headers)
        response.headers["Connection"] = "close"  # the unread body is left on a connection nobody reuses
        await response(scope, receive, send)


def _replaying(body: bytes) -> Receive:
    """A receive that gives the body read already, then waits for the client to go, as the server's would."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
