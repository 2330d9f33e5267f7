"""Requests -> what the regimen builder needs: the shelf, the treatment, the client.

Answers the aesthetician's "this client was needled on 2026-03-02 at 1.0 mm, has dry skin
and dark spots, and here is what my clinic stocks" for the API (typed JSON) and the
/regimen page (form strings and an uploaded shelf CSV) alike: one set of checks, one
:class:`RegimenInput`. The shelf is catalog ids of the served catalog (looked up in
``state.catalog``), inline products, or a shelf CSV read by
:func:`recommender.regimen.read_shelf_csv`. Bad types or values raise
:class:`~web.errors.ApiError` 400 naming the field; an unknown product id 404. The
regimen's own checks (dates, depth, concerns, the shelf's columns) stay in
recommender.regimen: :func:`web.regimen_service.build` maps their errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from flask import current_app
from werkzeug.datastructures import FileStorage

from recommender.regimen import Client, RegimenError, Treatment, read_shelf_csv
from web.errors import ApiError
from web.params import Fields, today
from web.state import AppState

MAX_SHELF_PRODUCTS = 50          # a clinic's shelf for one client; the OpenAPI maxItems
MAX_YEARS = 10                   # treatment date within ten years of today
MAX_NEXT_SESSION_DAYS = 366      # next session at most a year after the treatment
FORMATS = ("json", "html", "ics")
PRODUCT_KEYS = ("product_id", "name", "category", "step")


@dataclass(frozen=True)
class RegimenInput:
    shelf: pd.DataFrame
    treatment: Treatment
    client: Client
    next_session: date | None
    clinic: str | None
    use_models: bool = True


def _limit() -> int:
    return int(current_app.config.get("MAX_SHELF_PRODUCTS", MAX_SHELF_PRODUCTS))


def _object(data: Mapping, key: str) -> Mapping:
    v = data.get(key)
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise ApiError(400, f"{key} must be an object, got {type(v).__name__}")
    return v


def _prefixed(key: str, fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except ApiError as exc:
        raise ApiError(exc.status, f"{key}.{exc.message}" if key else exc.message) from None


def _treatment(f: Fields, prefix: str = "") -> Treatment:
    when = _prefixed(prefix, f.date, "date")
    if when is None:
        raise ApiError(400, f"{prefix}{'.' if prefix else ''}date is required (YYYY-MM-DD)")
    if abs((when - today()).days) > MAX_YEARS * 366:
        raise ApiError(400, f"the treatment date {when.isoformat()} is more than "
                            f"{MAX_YEARS} years from today")
    depth = _prefixed(prefix, f.number, "depth_mm", minimum=0, maximum=10, exclusive_min=True)
    modality = _prefixed(prefix, f.text, "modality", max_chars=20)
    area = _prefixed(prefix, f.text, "area", max_chars=100)
    try:
        return Treatment(date=when, depth_mm=1.0 if depth is None else depth,
                         modality=modality or "mn", area=area or "face")
    except RegimenError as exc:
        raise ApiError(400, str(exc)) from None


def _client(f: Fields, prefix: str = "") -> Client:
    lists = {k: _prefixed(prefix, f.items, k) for k in ("skin_type", "concerns", "avoid")}
    for k, values in lists.items():
        if len(values) > 50 or any(len(v) > 1000 for v in values):
            raise ApiError(400, f"{prefix}{'.' if prefix else ''}{k}: at most 50 items of "
                                "1000 characters")
        # "dry, oily" and ["dry", "oily"] are the same answer (and the same record)
        lists[k] = [s.strip() for v in values for s in v.split(",") if s.strip()]
    return Client(skin_types=lists["skin_type"], concerns=lists["concerns"],
                  avoid=lists["avoid"], pregnant=_prefixed(prefix, f.boolean, "pregnant"))


def _next_session(f: Fields, treated: date) -> date | None:
    nxt = f.date("next_session")
    if nxt is not None and not 0 <= (nxt - treated).days <= MAX_NEXT_SESSION_DAYS:
        raise ApiError(400, f"next_session {nxt.isoformat()} must be after the treatment "
                            f"({treated.isoformat()}) and within {MAX_NEXT_SESSION_DAYS} days")
    return nxt


def catalog_shelf(state: AppState, ids: list) -> pd.DataFrame:
    """Ids of the served catalog -> shelf rows (404 naming the first unknown id)."""
    if not ids:
        raise ApiError(400, "the shelf is empty: give at least one product")
    if len(ids) > _limit():
        raise ApiError(400, f"the shelf holds {len(ids)} products; the limit is {_limit()}")
    rows = []
    for pid in ids:
        if not isinstance(pid, str) or not pid.strip() or len(pid) > 200:
            raise ApiError(400, "shelf.product_ids must be a list of non-empty strings "
                                "(at most 200 characters each)")
        p = state.catalog.product(pid.strip())
        if p is None:
            raise ApiError(404, f"no product with id {pid!r} in {state.catalog_label}")
        rows.append({"product_id": str(p["product_id"]), "name": p.get("name") or "",
                     "category": p.get("category") or "",
                     "ingredients": p.get("ingredients") or ""})
    return pd.DataFrame(rows)


def inline_shelf(products: list) -> pd.DataFrame:
    """Inline products ({product_id, name, ingredients, category?, step?}) -> shelf rows."""
    if not isinstance(products, list) or not products:
        raise ApiError(400, "shelf.products must be a non-empty list of products")
    if len(products) > _limit():
        raise ApiError(400, f"the shelf holds {len(products)} products; the limit is {_limit()}")
    max_chars = current_app.config["MAX_LIST_CHARS"]
    rows = []
    for i, p in enumerate(products):
        if not isinstance(p, Mapping):
            raise ApiError(400, f"shelf.products[{i}] must be an object with an ingredients "
                                "string")
        pf = Fields(p, form=False)
        try:
            text = pf.text("ingredients", max_chars=max_chars)
            if text is None:
                raise ApiError(400, "ingredients is required")
            row = {"ingredients": text}
            for key in PRODUCT_KEYS:
                row[key] = pf.text(key, max_chars=500) or ""
        except ApiError as exc:
            raise ApiError(400, f"shelf.products[{i}]: {exc.message}") from None
        rows.append(row)
    return pd.DataFrame(rows, columns=["product_id", "name", "category", "ingredients", "step"])


def csv_shelf(file: FileStorage) -> pd.DataFrame:
    """An uploaded shelf CSV (bounded by MAX_CONTENT_LENGTH) -> shelf rows."""
    try:
        shelf = read_shelf_csv(file.read(), source=file.filename or "the shelf CSV")
    except RegimenError as exc:
        raise ApiError(400, str(exc)) from None
    if len(shelf) > _limit():
        raise ApiError(400, f"the shelf CSV holds {len(shelf)} products; the limit is "
                            f"{_limit()}")
    return shelf


def from_json(data: Mapping[str, Any], state: AppState) -> RegimenInput:
    """The API body: treatment, client, shelf, next_session, clinic, models."""
    f = Fields(data, form=False)
    treatment = _treatment(Fields(_object(data, "treatment"), form=False), "treatment")
    client = _client(Fields(_object(data, "client"), form=False), "client")
    shelf_in = data.get("shelf")
    if not isinstance(shelf_in, Mapping):
        raise ApiError(400, "shelf is required: {\"product_ids\": [...]} or "
                            "{\"products\": [...]}")
    ids, products = shelf_in.get("product_ids"), shelf_in.get("products")
    if (ids is None) == (products is None):
        raise ApiError(400, "shelf: give either product_ids (served catalog ids) or products "
                            "(inline lists)")
    if ids is not None and not isinstance(ids, list):
        raise ApiError(400, "shelf.product_ids must be a list of strings")
    shelf = catalog_shelf(state, ids) if ids is not None else inline_shelf(products)
    return RegimenInput(shelf, treatment, client, _next_session(f, treatment.date),
                        f.text("clinic", max_chars=200), f.boolean("models", default=True))


def from_form(form, files, state: AppState) -> RegimenInput:
    """The /regimen form: ids (textarea and ticked boxes) or an uploaded shelf CSV."""
    f = Fields(form, form=True)
    treatment = _treatment(f)
    client = _client(f)
    ids = [line.strip() for line in (form.get("product_ids") or "").splitlines()
           if line.strip()]
    ids += [i for i in form.getlist("product_id") if i.strip()]
    ids = list(dict.fromkeys(ids))
    file = files.get("shelf_csv")
    has_file = file is not None and bool(file.filename)
    if has_file and ids:
        raise ApiError(400, "give either catalog product ids or a shelf CSV, not both")
    if not has_file and not ids:
        raise ApiError(400, "the shelf is empty: list catalog product ids (one per line), "
                            "tick products, or upload a shelf CSV")
    shelf = csv_shelf(file) if has_file else catalog_shelf(state, ids)
    return RegimenInput(shelf, treatment, client, _next_session(f, treatment.date),
                        f.text("clinic", max_chars=200))

