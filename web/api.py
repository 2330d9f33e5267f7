"""The JSON API under /api/v1: check, recommend, score, products, protocol, health, OpenAPI.

Answers the same questions as the pages for programs (a clinic's booking system, a
retailer's site): JSON in, JSON out, every answer with the disclaimer, every error JSON with
a message and the right status (see web.errors). The OpenAPI 3.1 document
(``/api/v1/openapi.json``, written by hand in web.openapi) describes every route here.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request

from recommender import DISCLAIMER, __version__
from recommender.recommend import LISTS
from web import services
from web.errors import ApiError
from web.json_provider import fragments_ok, shared_lists
from web.params import Fields, person_from
from web.state import get_state

bp = Blueprint("api", __name__)


def body() -> dict:
    """The request body as a JSON object, or 400 saying what is wrong with it."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "the request body is empty: send a JSON object")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {type(data).__name__}")
    return data


def _ok(payload: dict, status: int = 200):
    payload.setdefault("disclaimer", DISCLAIMER)
    return jsonify(payload), status


@bp.get("/health")
def health():
    st = get_state()
    return _ok({"status": "ok", "version": __version__, "catalog": services.catalog_info(st),
                "protocol": st.protocol.summary()})


@bp.get("/protocol")
def protocol():
    st = get_state()
    return _ok({"protocol": st.protocol.to_dict(), "custom": st.custom_protocol})


@bp.post("/check")
def check():
    data = body()
    st = get_state()
    f = Fields(data, form=False)
    text = f.text("ingredients", max_chars=current_app.config["MAX_LIST_CHARS"])
    pid = f.text("product_id", max_chars=200)
    if (text is None) == (pid is None):
        raise ApiError(400, "give either ingredients (the list as printed) or product_id")
    name, category = f.text("name", max_chars=500), f.text("category", max_chars=200)
    with_models = f.boolean("models", default=True)
    if pid is not None:
        p = st.catalog.product(pid)
        if p is None:
            raise ApiError(404, f"no product with id {pid!r} in {st.catalog_label}")
        text = str(p.get("ingredients") or "")
        name = name or p.get("name")
        category = category or p.get("category")
    person = person_from(data, st.protocol, use_models=with_models)
    result, out = services.check_list(st, person, text, name=name, category=category,
                                      with_models=with_models)
    if pid is not None:
        out["product"] = services.product_dict(st, pid)
    if not result.found:
        reason = "; ".join(result.parsed.problems) or f"nothing readable ({result.parsed.status})"
        raise ApiError(422, f"no ingredient list found: {reason}", status_detail=result.parsed.status)
    return _ok(out)


@bp.post("/recommend")
def recommend():
    data = body()
    st = get_state()
    f = Fields(data, form=False)
    k = f.number("k", minimum=1, maximum=50, integer=True) or 10
    budget = f.number("budget", minimum=0)
    strict = f.boolean("strict")
    person = person_from(data, st.protocol)
    result = services.recommend_for(st, person, k=k, budget=budget, strict=strict)
    if fragments_ok(current_app):
        items = [it for name in LISTS for it in result[name] if "flags" in it]
        for it, text in zip(items, shared_lists([it["flags"] for it in items]), strict=True):
            it["flags"] = text
    return _ok(result)


@bp.post("/score")
def score():
    data = body()
    st = get_state()
    limit = current_app.config["MAX_SCORE_ITEMS"]
    ids, products = data.get("product_ids"), data.get("products")
    if (ids is None) == (products is None):
        raise ApiError(400, "give either product_ids (catalog ids) or products (inline lists)")
    items = ids if ids is not None else products
    name = "product_ids" if ids is not None else "products"
    if not isinstance(items, list) or not items:
        raise ApiError(400, f"{name} must be a non-empty list")
    if len(items) > limit:
        raise ApiError(400, f"{name} holds {len(items)} items; the limit is {limit} per request")
    person = person_from(data, st.protocol)
    if ids is not None:
        if not all(isinstance(i, str) and i for i in ids):
            raise ApiError(400, "product_ids must be a list of non-empty strings")
        results = services.score_ids(st, person, ids)
    else:
        max_chars = current_app.config["MAX_LIST_CHARS"]
        for i, p in enumerate(products):
            if not isinstance(p, dict):
                raise ApiError(400, f"products[{i}] must be an object with an ingredients string")
            pf = Fields(p, form=False)
            try:
                if pf.text("ingredients", max_chars=max_chars) is None:
                    raise ApiError(400, "ingredients is required")
                for key in ("name", "category", "product_id"):
                    pf.text(key, max_chars=500)
            except ApiError as exc:
                raise ApiError(400, f"products[{i}]: {exc.message}") from None
        results = services.score_products(person, products)
    return _ok({"results": results, "person": person.to_dict()})


@bp.get("/products")
def products():
    st = get_state()
    args = request.args
    q = args.get("q", "")
    field = args.get("field", "any")
    if field not in services.SEARCH_FIELDS:
        raise ApiError(400, f"field must be one of {', '.join(services.SEARCH_FIELDS)}")
    try:
        limit = int(args.get("limit", "50"))
    except ValueError:
        raise ApiError(400, "limit must be an integer") from None
    if not 1 <= limit <= 200:
        raise ApiError(400, "limit must be between 1 and 200")
    if len(q) > 200:
        raise ApiError(400, "q is longer than 200 characters")
    return _ok(services.search(st, q, field=field, limit=limit))


@bp.get("/products/<path:product_id>")
def product(product_id: str):
    return _ok(services.product_dict(get_state(), product_id))


@bp.get("/openapi.json")
def openapi():
    from web.openapi import document

    return jsonify(document())
