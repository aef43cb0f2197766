"""Response headers that make the browser refuse to misread or embed what we serve.

Every response: ``X-Content-Type-Options: nosniff`` (a file is only ever what its ``Content-Type``
says), ``Referrer-Policy: same-origin`` (admin URLs and job ids never leak to other sites),
``X-Frame-Options: DENY``. The pages (``/ui/``, ``/gallery``, ``/r/…``) also get a strict
Content-Security-Policy: scripts, styles, images and API calls from this origin only (plus ``blob:``
and ``data:`` images for previews), no plugins, no framing (``frame-ancestors 'none'``).
A pure ASGI middleware, so the streamed booth upload is untouched.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_PREFIXES = ("/ui", "/gallery", "/r/")
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # style attributes set by the UI's own scripts
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"))


class SecurityHeaders:
    """Adds the headers above to every HTTP response of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = scope["path"].startswith(PAGE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in ALWAYS if name not in present]
                if page and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
