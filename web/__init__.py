"""The skinrec web app: shopper and aesthetician pages and a JSON API over one catalog.

Answers "what can I put on my skin now, what later, what never, and why" in a browser
(``web.ui``) and for programs (``web.api``, OpenAPI at ``/api/v1/openapi.json``). Importing
this package does nothing; :func:`create_app` loads the catalog, the protocol and the models
once (before gunicorn forks its workers with ``--preload``), so each request only scores.

    from web import create_app
    app = create_app({"CATALOG": "data/demo/catalog.csv", "PROTOCOL": None})

Not medical advice: every page and every API answer says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings (recommender.config, then ``overrides``), state, blueprints."""
    from web import errors, regimen_views, security, settings, state, uploads
    from web.api import bp as api_bp
    from web.json_provider import OrjsonProvider
    from web.ui import bp as ui_bp

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.json = OrjsonProvider(app)
    settings.configure(app, overrides)
    state.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(ui_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    regimen_views.init_app(app)   # the regimen builder (issue #7): its API, pages and nav link
    with app.app_context():
        uploads.upload_root()      # before fork: every worker shares the jobs directory
    return app
