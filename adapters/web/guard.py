"""Who may use the web chat, and the headers every answer carries.

Without a token the chat is for this machine alone: requests must name it in their Host header
(a site elsewhere cannot reach the chat by pointing its own domain name at 127.0.0.1) and must not
have come through a proxy or tunnel (which would make "this machine" anyone on the other side).
With ``PMO_WEB_TOKEN`` the page and its files are public (they hold nothing) and every API call needs
the session cookie, which ``/web/login`` (or an old-style ``/?token=`` link) gives for the token.

Every POST needs the ``X-PMO-Web`` header: a cross-site form cannot send it, and a cross-site
script cannot send it without a preflight this server never approves. An Origin, where the browser
sends one, must name this host.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from urllib.parse import urlsplit

from aiohttp import web

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# Headers a proxy or tunnel adds (ngrok, nginx with the usual settings, Cloudflare and others).
PROXY_HEADERS = (
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Real-IP",
    "CF-Connecting-IP",
    "True-Client-IP",
)
SESSION_COOKIE = "pmo_web_session"
SESSION_AGE_S = 30 * 24 * 3600
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class WebError(Exception):
    """A request the chat refuses, with the one line the page shows and an HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def host_name(host: str) -> str:
    """The name part of a Host header: "127.0.0.1:3978" -> "127.0.0.1", "[::1]:80" -> "[::1]"."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_https(request: web.Request) -> bool:
    # Behind a proxy that ends TLS this server sees http; the proxy says what the browser used.
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


class Guard:
    def __init__(self, token: str | None) -> None:
        self.token = token
        # The cookie holds a keyed hash of the token, never the token itself.
        self._session = (
            hmac.new(token.encode(), b"pmo-bot web session", hashlib.sha256).hexdigest() if token else ""
        )

    def check(self, request: web.Request, public: bool) -> None:
        """Raises WebError unless the request may go on. ``public``: the page and its files."""
        if self.token is None:
            if host_name(request.host).lower() not in LOOPBACK_HOSTS:
                raise WebError("The web chat answers on this machine only: open http://127.0.0.1:3978/.", 403)
            if any(name in request.headers for name in PROXY_HEADERS):
                raise WebError(
                    "This web chat came through a proxy or tunnel, and has no PMO_WEB_TOKEN to guard it.", 403
                )
        elif not public and not hmac.compare_digest(
            request.cookies.get(SESSION_COOKIE, "").encode(), self._session.encode()
        ):
            raise WebError("This page needs its access link: ask for the address with #token=...", 401)
        if request.method == "POST":
            if request.headers.get("X-PMO-Web") != "1":
                raise WebError("Requests to the web chat come from its own page.", 403)
            # The host, not the scheme: behind a proxy that ends HTTPS the origin is https while
            # this server sees http.
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
                raise WebError("Requests to the web chat come from its own page.", 403)

    def token_matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def open_session(self, response: web.StreamResponse, request: web.Request) -> None:
        # Lax, not Strict: a shared link is followed from another site, and a Strict cookie would
        # not come with that first visit. Forged POSTs are stopped by the header check above.
        response.set_cookie(
            SESSION_COOKIE,
            self._session,
            max_age=SESSION_AGE_S,
            httponly=True,
            samesite="Lax",
            secure=is_https(request),
        )


def notice_page(title: str, text: str, status: int) -> web.Response:
    """A small page for a browser that was refused (the chat's API answers JSON instead)."""
    body = (
        '<!doctype html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>pmo-bot: {html.escape(title)}</title></head>\n"
        f"<body><main><h1>{html.escape(title)}</h1>\n<p>{html.escape(text)}</p></main></body></html>\n"
    )
    response = web.Response(text=body, content_type="text/html", charset="utf-8", status=status)
    response.headers.update(SECURITY_HEADERS)
    return response
