"""The regimen builder on the web (issue #7): POST /api/v1/regimen, /api/v1/regimen/render
and the /regimen pages.

Answers the aesthetician's "build this client's aftercare plan from my shelf, let me check
it, print the handout, give them the calendar, keep the record" and "print the plan I saved
last month again":

- ``POST /api/v1/regimen``: treatment, client and shelf (served catalog ids or inline
  lists) -> the plan's JSON record (``format: json``), the handout (``html``) or the
  reintroduction calendar (``ics``);
- ``POST /api/v1/regimen/render``: a saved record -> the handout or the calendar;
- ``/regimen``: the form (CSRF-protected; shelf as ids or an uploaded CSV), then a preview
  at ``/regimen/plan/<token>`` with links to the printable handout
  (``/regimen/handout/<token>``), the .ics and the JSON record; a saved record can be
  loaded back with the second form.

Views parse (web.regimen_input), call web.regimen_service (recommender.regimen underneath)
and render; no regimen logic here. Registered by :func:`init_app` (one line in create_app),
which also adds "Regimen" to the navigation.
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, jsonify, redirect, render_template, request, url_for

from recommender.regimen.rules import default_rules
from web import regimen_input, regimen_service
from web.api import body
from web.errors import ApiError
from web.params import Fields, today
from web.state import get_state

bp = Blueprint("regimen", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.config.setdefault("NAV_EXTRA", [])
    app.config["NAV_EXTRA"].append(("regimen.page", "Regimen"))
    with app.app_context():
        regimen_service.store_root()      # before fork: every worker shares the plans


def _format(data: dict, default: str = "json", *, query: bool = False,
            allowed: tuple[str, ...] = regimen_input.FORMATS) -> str:
    """``format`` from the body (and, for /regimen/render, the query string)."""
    given = []
    for v in (request.args.get("format") if query else None, data.get("format")):
        if v is None:
            continue
        if not isinstance(v, str) or v not in allowed:
            raise ApiError(400, f"format must be one of {', '.join(allowed)}, "
                                f"got {v!r}")
        given.append(v)
    if len(set(given)) > 1:
        raise ApiError(400, "format given twice with different values (query and body)")
    return given[0] if given else default


def _answer(record: dict, fmt: str, clinic: str | None = None):
    if fmt == "html":
        return regimen_service.handout_response(regimen_service.handout_html(record, clinic))
    if fmt == "ics":
        return regimen_service.ics_response(record)
    return jsonify(record)


# ----------------------------------------------------------------------------- API


@bp.post("/api/v1/regimen")
def api_build():
    data = body()
    fmt = _format(data)
    record = regimen_service.build(get_state(), regimen_input.from_json(data, get_state()))
    return _answer(record, fmt)


@bp.post("/api/v1/regimen/render")
def api_render():
    data = body()
    wrapped = "plan" in data
    fmt = _format(data if wrapped else {}, default="html", query=True,
                  allowed=("html", "ics"))
    clinic = Fields(data, form=False).text("clinic", max_chars=200) if wrapped else None
    record = regimen_service.load_record(data["plan"] if wrapped else data)
    return _answer(record, fmt, clinic)


# ----------------------------------------------------------------------------- pages


def _form_page(form, status: int = 200, error: str | None = None):
    return render_template("regimen.html", form=form, error=error, today=today().isoformat(),
                           next_days=default_rules().phases.default_next_session_days), status


@bp.get("/regimen")
def page():
    return _form_page(request.args)


@bp.post("/regimen")
def build_page():
    st = get_state()
    try:
        inp = regimen_input.from_form(request.form, request.files, st)
        record = regimen_service.build(st, inp)
    except ApiError as exc:
        return _form_page(request.form, exc.status, exc.message)
    return redirect(url_for("regimen.plan", token=regimen_service.save(record)), code=303)


@bp.post("/regimen/load")
def load_page():
    file = request.files.get("record")
    try:
        if file is None or not file.filename:
            raise ApiError(400, "choose the saved plan's JSON file")
        try:
            data = json.loads(file.read())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"{file.filename} is not valid JSON: {exc}") from None
        record = regimen_service.load_record(data)
        regimen_service.handout_html(record)          # damaged records fail here, not later
    except ApiError as exc:
        return _form_page(request.form, exc.status, exc.message)
    return redirect(url_for("regimen.plan", token=regimen_service.save(record)), code=303)


@bp.get("/regimen/plan/<token>")
def plan(token: str):
    record = regimen_service.load(token)
    labels = {s["id"]: s["label"] for s in record["steps"]}
    return render_template("regimen_plan.html", plan=record, token=token, labels=labels)


@bp.get("/regimen/handout/<token>")
def handout(token: str):
    record = regimen_service.load(token)
    return regimen_service.handout_response(regimen_service.handout_html(record))


@bp.get("/regimen/plan/<token>/calendar.ics")
def calendar(token: str):
    return regimen_service.ics_response(regimen_service.load(token))


@bp.get("/regimen/plan/<token>/record.json")
def record_json(token: str):
    return regimen_service.json_download(regimen_service.load(token))
