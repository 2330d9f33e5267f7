"""The regimen builder behind the API and the pages: build, load back, render, keep briefly.

Answers the aesthetician's "make the plan, print the handout, give the client the
calendar, keep the JSON record" and, months later, "load the record back and print it
again". Every decision is recommender.regimen's (build_regimen, Regimen.from_dict,
render_handout, to_ics); this module only maps its errors to HTTP statuses, answers the
handout with a Content-Security-Policy that admits its one print stylesheet (by hash; still
no script), and keeps built plans for the pages in a short-lived store.

Statuses: a bad value (date, depth, concern, skin type, modality, duplicate id, unknown
step) 400; no product on the shelf with a readable ingredient list 422; a JSON document
that is not a regimen record, or a damaged one, 422.

The store: one file per plan, named by an unguessable token, in a private temporary
directory created before gunicorn forks (so workers share it), written atomically (a
temporary file renamed into place: never half-written), removed after ``UPLOAD_TTL_S`` or
when more than ``MAX_JOBS`` plans exist (the upload settings), and gone when the process
exits.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from flask import Response, current_app

from recommender.regimen import Regimen, RegimenError, build_regimen, render_handout, to_ics
from web.errors import ApiError
from web.regimen_input import RegimenInput
from web.security import CSP
from web.state import AppState

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)
# Top-level fields of a regimen record and their JSON types (what /regimen/render checks
# before handing the record to Regimen.from_dict; the OpenAPI RegimenRecordIn says the same).
RECORD_TYPES = {"schema": str, "treatment": dict, "client": dict, "protocol": dict,
                "next_session": dict, "phases": list, "steps": list, "shelf": list,
                "days": list, "reintroduce": list, "conflicts": list, "stop_before_next": list,
                "notes": list, "generated": dict, "disclaimer": str}


def build(state: AppState, inp: RegimenInput) -> dict:
    """The plan's JSON record, or ApiError 400 (bad value) / 422 (nothing readable)."""
    try:
        plan = build_regimen(inp.shelf, inp.treatment, inp.client, state.protocol,
                             next_session=inp.next_session, clinic=inp.clinic,
                             use_models=inp.use_models)
    except RegimenError as exc:
        raise ApiError(400, str(exc)) from None
    record = plan.to_dict()
    if record["shelf"] and all(p["status"] == "unchecked" for p in record["shelf"]):
        reasons = "; ".join(dict.fromkeys(r["reasons"][0]["reason"]
                                          for r in record["reintroduce"] if r["reasons"]))
        raise ApiError(422, "no ingredient list found: no product on the shelf has a readable "
                            f"ingredient list ({reasons or 'nothing readable'})")
    return record


def load_record(data) -> dict:
    """A saved plan record (as built) checked and loaded back; ApiError 422 when it is not."""
    if not isinstance(data, dict):
        raise ApiError(422, "a regimen record is a JSON object")
    for key, kind in RECORD_TYPES.items():
        if key in data and not isinstance(data[key], kind):
            what = {dict: "an object", list: "an array", str: "a string"}[kind]
            raise ApiError(422, f"not a regimen record: {key} must be {what}")
    if "clinic" in data and data["clinic"] is not None and not isinstance(data["clinic"], str):
        raise ApiError(422, "not a regimen record: clinic must be a string or null")
    try:
        return Regimen.from_dict(data).to_dict()
    except RegimenError as exc:
        raise ApiError(422, str(exc)) from None


def handout_html(record: dict, clinic: str | None = None) -> str:
    try:
        return render_handout(record, clinic=clinic)
    except RegimenError as exc:
        raise ApiError(422, str(exc)) from None


def ics_bytes(record: dict) -> bytes:
    try:
        return to_ics(record)
    except RegimenError as exc:
        raise ApiError(422, str(exc)) from None


def handout_response(html: str) -> Response:
    """The handout as a page: the app's CSP plus the hash of its own print stylesheet."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()
        + "'" for m in STYLE_RE.finditer(html))
    resp = Response(html, mimetype="text/html")
    if hashes:
        resp.headers["Content-Security-Policy"] = CSP.replace(
            "style-src 'self'", f"style-src 'self' {hashes}")
    return resp


def download_name(record: dict, suffix: str) -> str:
    day = str(record.get("treatment", {}).get("date", "plan"))
    day = re.sub(r"[^0-9A-Za-z-]", "", day)[:10] or "plan"
    return f"aftercare-{day}.{suffix}"


def ics_response(record: dict) -> Response:
    return Response(ics_bytes(record), mimetype="text/calendar",
                    headers={"Content-Disposition":
                             f'attachment; filename="{download_name(record, "ics")}"'})


def json_download(record: dict) -> Response:
    body = json.dumps(record, ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="{download_name(record, "json")}"'})


# ----------------------------------------------------------------------------- the store


def store_root() -> Path:
    """The plans directory (created once per app, before gunicorn forks)."""
    cfg = current_app.config
    if not cfg.get("REGIMEN_DIR"):
        path = tempfile.mkdtemp(prefix="skinrec-regimen-")
        cfg["REGIMEN_DIR"] = path
        atexit.register(shutil.rmtree, path, True)
    root = Path(cfg["REGIMEN_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def _cleanup(root: Path, ttl: float, keep: int) -> None:
    now = time.time()
    plans = sorted(root.glob("*.json"), key=lambda p: p.stat().st_mtime)
    for i, p in enumerate(plans):
        if now - p.stat().st_mtime > ttl or len(plans) - i > keep:
            p.unlink(missing_ok=True)


def save(record: dict) -> str:
    """Keep the record for the pages; returns its token."""
    cfg = current_app.config
    root = store_root()
    _cleanup(root, cfg["UPLOAD_TTL_S"], cfg["MAX_JOBS"] - 1)
    token = secrets.token_urlsafe(18)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".part-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, ensure_ascii=False)
        os.replace(tmp, root / f"{token}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return token


def load(token: str) -> dict:
    """The kept record, or 404 (unknown or expired token)."""
    missing = ApiError(404, "no such plan (plans are kept for a limited time: build it again "
                            "or load the saved JSON record)")
    if not TOKEN_RE.match(token or ""):
        raise missing
    path = store_root() / f"{token}.json"
    cfg = current_app.config
    try:
        if time.time() - path.stat().st_mtime > cfg["UPLOAD_TTL_S"]:
            path.unlink(missing_ok=True)
            raise missing
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        raise missing from None
