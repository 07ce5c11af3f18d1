"""HEAD and OPTIONS on every API path, answered from the routes themselves.

FastAPI's routes take only the methods they declare, so a HEAD on a read was a
405. A HEAD here is the GET without its body (same status and headers,
Content-Length and ETag included), and an OPTIONS is a 204 whose `Allow` lists
every method some route takes at the path (a 404 when none does). CORS
preflights are answered before this, by the CORS middleware.
"""

from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The methods a route may declare; HEAD and OPTIONS are answered here.
DECLARED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class HeadAndOptionsMiddleware:
    def __init__(self, app: ASGIApp, *, router: Router, prefix: str = "/api/") -> None:
        self.app = app
        self.router = router
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
        elif scope["method"] == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        elif scope["method"] == "OPTIONS" and (allowed := allowed_methods(self.router, scope)):
            headers = [(b"allow", ", ".join(allowed).encode()), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
        else:
            await self.app(scope, receive, send)


def allowed_methods(router: Router, scope: Scope) -> list[str]:
    """Every method some route of `router` takes at the path, HEAD beside GET, and OPTIONS; [] where no route is."""
    taken = [
        method
        for method in DECLARED_METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in router.routes)
    ]
    if not taken:
        return []
    return sorted({*taken, "OPTIONS", *(["HEAD"] if "GET" in taken else [])})


def _without_body(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}  # the headers, Content-Length included, stay those of the GET
        await send(message)

    return sending
