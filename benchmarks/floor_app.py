"""The serving floor for ``benchmarks/web_load.py --floor``: what a recommend request would cost
if scoring were free.

The real app over the same catalog (``web.create_app``: the same settings, security headers,
error handlers and JSON provider), whose POST /api/v1/recommend reads and checks the JSON body
as the real view does (``web.api.body``) and answers one stored real recommend answer: the
answer to the benchmark's first body (``SKINREC_FLOOR_BODY``), computed once before the
workers fork. The load run then measures the HTTP server, Flask and the load generator's own
cost for an answer of a recommend answer's size, which no speed-up of the scoring can remove.
Not for serving anyone: it answers every person the same.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response

from web import create_app
from web.api import body


def create_floor_app() -> Flask:
    app = create_app()
    probe = json.loads(os.environ["SKINREC_FLOOR_BODY"])
    answer = app.test_client().post("/api/v1/recommend", json=probe)
    if answer.status_code != 200:
        raise RuntimeError(f"the stored answer is not a 200: {answer.status_code}")
    data = answer.data

    def recommend():
        body()
        return Response(data, mimetype="application/json")

    app.view_functions["api.recommend"] = recommend
    return app
