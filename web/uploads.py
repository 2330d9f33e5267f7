"""Batch scoring of an uploaded catalog: the scored CSV and the rejects, kept briefly for download.

Answers the catalog owner's "score my CSV and tell me which rows you could not read":
the upload (already bounded by MAX_CONTENT_LENGTH) is written to a job directory, scored by
:func:`recommender.batch.local.run_local` (the batch reader, score_frame and the atomic
writers: every row ends in the scored file or the rejects file), and the input is deleted at
once. Job directories live under one private temporary directory, are named by an
unguessable token, and are removed after ``UPLOAD_TTL_S`` seconds or when more than
``MAX_JOBS`` exist; the whole directory goes when the process that made it (the gunicorn master) exits. A failed run leaves
nothing behind.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from recommender.batch.io import InputError
from recommender.scoring import ColumnError, ScoreContext
from web.errors import ApiError

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ALLOWED_SUFFIXES = (".csv", ".tsv", ".txt")
FILES = {"scored": "scored.csv", "rejects": "rejects.csv"}


def upload_root() -> Path:
    """The jobs directory (created once per app; shared by preloaded gunicorn workers)."""
    cfg = current_app.config
    if not cfg.get("UPLOAD_DIR"):
        path = tempfile.mkdtemp(prefix="skinrec-web-")
        cfg["UPLOAD_DIR"] = path
        atexit.register(_remove_if_owner, path, os.getpid())
    root = Path(cfg["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def _remove_if_owner(path: str, owner_pid: int) -> None:
    """At exit, only the process that made the directory removes it: a gunicorn worker
    inherits the hook when forked and must not delete the jobs of its siblings."""
    if os.getpid() == owner_pid:
        shutil.rmtree(path, ignore_errors=True)


def _cleanup(root: Path, ttl: float, max_jobs: int) -> None:
    now = time.time()
    jobs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for i, p in enumerate(jobs):
        if now - p.stat().st_mtime > ttl or len(jobs) - i > max_jobs:
            shutil.rmtree(p, ignore_errors=True)


def score_upload(file: FileStorage | None, ctx: ScoreContext) -> tuple[str, dict]:
    """Score the uploaded CSV; returns (token, summary). Raises ApiError for bad input."""
    if file is None or not file.filename:
        raise ApiError(400, "choose a CSV file to upload")
    name = Path(file.filename).name
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ApiError(400, f"{name}: upload a CSV file (.csv, .tsv or .txt)")
    cfg = current_app.config
    root = upload_root()
    _cleanup(root, cfg["UPLOAD_TTL_S"], cfg["MAX_JOBS"] - 1)
    token = secrets.token_urlsafe(18)
    job = root / token
    job.mkdir()
    suffix = ".tsv" if name.lower().endswith(".tsv") else ".csv"
    inp = job / f"input{suffix}"
    ok = False
    try:
        file.save(inp)
        from recommender.batch.local import run_local

        summary = run_local(str(inp), str(job / FILES["scored"]), ctx, fmt_in="csv",
                            fmt_out="csv", rejects=str(job / FILES["rejects"]), workers=1,
                            progress=False)
        if summary.rows == 0:
            raise ApiError(422, f"{name} has no data rows under its header")
        info = summary.to_dict()
        info = {k: info[k] for k in ("rows", "scored", "rejected", "blank_lines", "verdicts",
                                     "unreadable_lists", "post_procedure_friendly", "seconds",
                                     "warnings")}
        info["filename"] = name
        (job / "summary.json").write_text(json.dumps(info))
        ok = True
        return token, info
    except ColumnError as exc:
        raise ApiError(400, f"{name}: {exc}") from None
    except InputError as exc:
        raise ApiError(400, f"{name}: {exc}") from None
    finally:
        inp.unlink(missing_ok=True)
        if not ok:
            shutil.rmtree(job, ignore_errors=True)


def job_dir(token: str) -> Path:
    if not TOKEN_RE.match(token or ""):
        raise ApiError(404, "no such upload (results are kept for a limited time)")
    job = upload_root() / token
    if not (job / "summary.json").is_file():
        raise ApiError(404, "no such upload (results are kept for a limited time)")
    return job


def job_summary(token: str) -> dict:
    return json.loads((job_dir(token) / "summary.json").read_text())


def job_file(token: str, kind: str) -> Path:
    if kind not in FILES:
        raise ApiError(404, f"no file {kind!r}; use scored or rejects")
    return job_dir(token) / FILES[kind]
