"""Errors people and programs can act on: a message and the right status, never a traceback.

Answers "what did I do wrong?": the API answers JSON ``{"error": {"status", "message"}}``
(400 bad JSON or a bad value, 404 unknown route or product, 405, 413 too large, 422 no
ingredient list, 500 with a generic message, the details only in the server log); the pages
answer an HTML page with the same message and status.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("skinrec.web")

MESSAGES = {
    400: "bad request",
    404: "not found",
    405: "method not allowed",
    413: "request too large",
    415: "unsupported media type",
    422: "no ingredient list found",
    500: "internal error: the request could not be completed; it has been logged",
}


class ApiError(Exception):
    """A user error with its HTTP status (400, 404, 413, 422) and a message saying what to fix."""

    def __init__(self, status: int, message: str, **details):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _respond(status: int, message: str, details: dict | None = None):
    if _wants_json():
        body = {"error": {"status": status, "message": message, **(details or {})}}
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def _http_message(exc: HTTPException) -> str:
    if exc.code == 413:
        from flask import current_app

        mb = current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
        return f"request too large: the limit is {mb:g} MB"
    if exc.code == 404:
        return f"not found: {request.path}"
    if exc.code == 405:
        return f"method {request.method} not allowed on {request.path}"
    desc = exc.description if isinstance(exc.description, str) else None
    return desc or MESSAGES.get(exc.code or 500, "error")


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return _respond(exc.status, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        resp = _respond(exc.code or 500, _http_message(exc))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            body, status = resp
            from flask import make_response

            r = make_response(body, status)
            r.headers["Allow"] = ", ".join(exc.valid_methods)
            return r
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, MESSAGES[500])
