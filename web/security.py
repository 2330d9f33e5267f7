"""CSRF on every form post, and the security headers on every response.

Answers "can another site post in my name, or inject a script?": each page form carries a
token signed with the app's secret (itsdangerous) and bound to the visitor's session; a POST
to a page without a valid one gets 400. The JSON API keeps no session and changes nothing
server-side, so it takes no token. Every response carries a Content-Security-Policy that
allows only this site's own stylesheet and no script at all (no inline script, no CDN), plus
nosniff, frame denial, no referrer and a restrictive permissions policy. Templates
autoescape every user string (Jinja), so a pasted ``<script>`` shows as text.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadData, URLSafeTimedSerializer

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_S = 8 * 3600
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'; object-src 'none'; script-src 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="skinrec-csrf")


def csrf_token() -> str:
    """The token for this visitor's forms (a Jinja global: ``{{ csrf_token() }}``)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_hex(16)
    return _serializer().dumps(session["csrf"])


def csrf_valid(token: str | None) -> bool:
    if not token or "csrf" not in session:
        return False
    try:
        value = _serializer().loads(token, max_age=CSRF_MAX_AGE_S)
    except BadData:
        return False
    return isinstance(value, str) and hmac.compare_digest(value, session["csrf"])


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened only when the request sends the cookie: the
    JSON API and a first visit send none, and Flask's own interface builds its signer (an
    HMAC key derivation) on every request anyway (~1 % of a recommend request's CPU)."""

    def open_session(self, app: Flask, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()         # what Flask's gives then, without the signer
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf():
        if request.method != "POST" or request.path.startswith("/api/") or \
                request.routing_exception is not None:     # 404 / 405 say so themselves
            return None
        if not csrf_valid(request.form.get(CSRF_FIELD)):
            abort(400, description="the form's security token is missing, invalid or expired: "
                                   "reload the page and submit again (CSRF protection)")
        return None

    @app.after_request
    def _headers(resp):
        for k, v in HEADERS.items():
            resp.headers.setdefault(k, v)
        if request.path.startswith("/api/"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
