"""What every response of the web app carries, and the cookies and CSRF checks of its forms.

Headers: a strict Content-Security-Policy (scripts, styles, images and connections from this
origin only; no inline script or style; no framing), X-Frame-Options DENY, Referrer-Policy
no-referrer, nosniff, and HSTS when served over HTTPS. Cookies are HttpOnly, SameSite=Lax and
Secure whenever the request came over HTTPS (behind a proxy: `X-Forwarded-Proto`, which
uvicorn honours for trusted proxies)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proactive.accounts import tokens

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "permissions-policy": "camera=(self), geolocation=(), microphone=()",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=31536000"
SESSION_COOKIE = "proactive_session"
FORM_COOKIE = "proactive_form"  # the CSRF token of forms shown before sign-in
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                if https:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, with_headers)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def form_token(request: Request) -> str:
    """The pre-sign-in CSRF token: the form cookie's, or a new one (set it on the response)."""
    return request.cookies.get(FORM_COOKIE) or tokens.new_token()


def csrf_ok(given: str, expected: str) -> bool:
    return tokens.same(given, expected)


async def capped(request: Request, limit: int) -> Request | None:
    """The request with its body read, if the body is at most `limit` bytes; None as soon as
    it is known to be larger (its Content-Length says so, or the bytes received pass the
    limit), before the rest is read or a form is parsed. Starlette spools a form's files to
    disk whatever their size, so an upload is capped here first."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, replay)
