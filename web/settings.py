"""The web app's configuration, filled from recommender.config (the one place for it).

Answers "which catalog, which protocol, how large an upload" for `make run`, `skinrec serve`
and tests: environment variables (SKINREC_CATALOG, SKINREC_PROTOCOL, SKINREC_MAX_UPLOAD_MB,
SKINREC_SECRET_KEY) through recommender.config, then the overrides given to create_app.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from recommender import config


def defaults() -> dict[str, Any]:
    return {
        "CATALOG": config.web_catalog(),          # CSV path or shared catalog name
        "PROTOCOL": config.web_protocol(),        # clinic protocol YAML, or None (default)
        "MAX_CONTENT_LENGTH": config.web_max_upload_bytes(),
        "UPLOAD_TTL_S": config.WEB_UPLOAD_TTL_S,
        "UPLOAD_DIR": None,                       # None: a private temporary directory
        "MAX_JOBS": 20,                           # scored uploads kept for download at most
        "MAX_SCORE_ITEMS": 100,                   # products per /api/v1/score request
        "MAX_LIST_CHARS": 20_000,                 # one pasted ingredient list
        # A key shared by every gunicorn worker (preload) unless set for a multi-host setup.
        "SECRET_KEY": os.environ.get("SKINREC_SECRET_KEY") or secrets.token_hex(32),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "JSON_SORT_KEYS": False,
        "DEBUG": False,
        "PROPAGATE_EXCEPTIONS": False,
        "TRAP_HTTP_EXCEPTIONS": False,
    }


def configure(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    app.config.update(defaults())
    if overrides:
        app.config.update(overrides)
    app.debug = False
    app.json.sort_keys = False
    app.json.ensure_ascii = False
