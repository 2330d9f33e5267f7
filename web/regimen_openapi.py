"""The regimen builder's part of the OpenAPI document (POST /regimen, POST /regimen/render).

Answers "how do I build a plan from a program, and what comes back?" for a clinic's booking
system, and lets the schema-based tests (tests/test_web_schemathesis.py) exercise both
operations: every bound the views enforce (shelf size, string lengths, enums) is here, and
the request schema of /regimen/render says only what the view checks before handing the
record to recommender.regimen (so a record the schema calls invalid is always refused).
:func:`extend` adds the paths and schemas to web.openapi's document.
"""

from __future__ import annotations

from recommender.regimen.model import SCHEMA
from recommender.regimen.rules import STEP_IDS
from web.regimen_input import FORMATS, MAX_NEXT_SESSION_DAYS, MAX_SHELF_PRODUCTS

NUM_NULL = {"type": "number", "nullable": True}
INT_NULL = {"type": "integer", "nullable": True}
STR_NULL = {"type": "string", "nullable": True}
STR = {"type": "string"}
STRINGS = {"type": "array", "items": STR}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], props: dict, **kw) -> dict:
    return {"type": "object", "required": required, "properties": props, **kw}


def _request(items_or_text) -> dict:
    treatment = _obj(["date"], {
        "date": {"type": "string", "format": "date",
                 "description": "Treatment date (day 0), YYYY-MM-DD, within ten years of "
                                "today (else 400)"},
        "depth_mm": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 10,
                     "default": 1.0, "description": "Needle depth in mm"},
        "modality": {"type": "string", "enum": ["mn", "rf", "prp"], "default": "mn",
                     "description": "mn (microneedling), rf or prp (a clinic protocol may "
                                    "define more)"},
        "area": {"type": "string", "maxLength": 100, "default": "face"}})
    client = {"type": "object", "properties": {
        "skin_type": items_or_text(None, "Skin types (unknown words give 400)"),
        "concerns": items_or_text(None, "Concern ids or common words (unknown words give "
                                        "400)"),
        "avoid": items_or_text(None, "Personal avoid-list: ingredient or class names"),
        "pregnant": {"type": "boolean", "default": False,
                     "description": "Retinoids: avoid at any time"}}}
    product = _obj(["ingredients"], {
        "ingredients": {"type": "string", "maxLength": 20000,
                        "description": "The INCI list as printed"},
        "product_id": {"type": "string", "maxLength": 500,
                       "description": "Unique on the shelf (default row-N)"},
        "name": {"type": "string", "maxLength": 500},
        "category": {"type": "string", "maxLength": 500},
        "step": {"type": "string", "enum": [*STEP_IDS, ""],
                 "description": "Overrides skinrec's guess of the routine step"}})
    shelf = {"type": "object", "description": "Exactly one of product_ids or products "
                                              f"(at most {MAX_SHELF_PRODUCTS})",
             "oneOf": [
                 _obj(["product_ids"], {"product_ids": {
                     "type": "array", "minItems": 1, "maxItems": MAX_SHELF_PRODUCTS,
                     "items": {"type": "string", "minLength": 1, "maxLength": 200},
                     "description": "Ids in the served catalog (unknown id: 404; duplicate: "
                                    "400)"}}),
                 _obj(["products"], {"products": {
                     "type": "array", "minItems": 1, "maxItems": MAX_SHELF_PRODUCTS,
                     "items": product}})]}
    return _obj(["treatment", "shelf"], {
        "treatment": treatment, "client": client, "shelf": shelf,
        "next_session": {"type": "string", "format": "date",
                         "description": "Date of the next session (default: 28 days after "
                                        "the treatment; at least 2 and at most "
                                        f"{MAX_NEXT_SESSION_DAYS} days after it, else 400)"},
        "clinic": {"type": "string", "maxLength": 200,
                   "description": "Printed on the handout"},
        "format": {"type": "string", "enum": list(FORMATS), "default": "json",
                   "description": "json: the plan record; html: the printable handout; ics: "
                                  "the reintroduction calendar"},
        "models": {"type": "boolean", "default": True,
                   "description": "false: skip the learned models (faster; safety is "
                                  "unchanged)"}})


def _record_in() -> dict:
    types = {"treatment": "object", "client": "object", "protocol": "object",
             "next_session": "object", "phases": "array", "steps": "array", "shelf": "array",
             "days": "array", "reintroduce": "array", "conflicts": "array",
             "stop_before_next": "array"}
    props: dict = {"schema": {"type": "string", "enum": [SCHEMA]},
                   **{k: {"type": t} for k, t in types.items()},
                   "notes": {"type": "array"}, "generated": {"type": "object"},
                   "disclaimer": STR, "clinic": STR_NULL}
    props["days"] = {"type": "array", "items": _obj(["day", "date", "am", "pm"], {})}
    return _obj(["schema", *types], props, description="A plan record as returned by POST "
                                                         "/regimen (format json)")


def _record() -> dict:
    placement = _obj(["step", "product_id", "gap"], {
        "step": STR, "product_id": STR_NULL, "name": STR_NULL,
        "gap": {**STR_NULL, "description": "What to do when no shelf product fits"},
        "verdict": STR_NULL, "score": NUM_NULL, "safe_from_day": NUM_NULL, "why": STR_NULL,
        "reasons_for": STRINGS, "cautions": STRINGS})
    day = _obj(["day", "date", "phase", "phase_id", "until_day", "am", "pm"], {
        "day": {"type": "integer"}, "date": {"type": "string", "format": "date"},
        "phase": STR, "phase_id": STR, "until_day": {"type": "integer"},
        "am": {"type": "array", "items": placement},
        "pm": {"type": "array", "items": placement}, "notes": STRINGS})
    reason = {"type": "object", "properties": {"reason": STR, "ingredient": STR_NULL,
                                               "position": INT_NULL, "rule": STR,
                                               "until_day": NUM_NULL, "source": STR}}
    return _obj(
        ["schema", "treatment", "client", "protocol", "next_session", "phases", "steps",
         "shelf", "days", "reintroduce", "conflicts", "stop_before_next", "disclaimer"],
        {"schema": {"type": "string", "enum": [SCHEMA]},
         "treatment": _obj(["date", "depth_mm", "modality", "area"], {
             "date": {"type": "string", "format": "date"}, "depth_mm": {"type": "number"},
             "modality": STR, "area": STR, "factor": {"type": "number"},
             "modality_label": STR}),
         "client": _obj(["skin_types", "concerns", "avoid", "pregnant"], {
             "skin_types": STRINGS, "concerns": STRINGS, "avoid": STRINGS,
             "pregnant": {"type": "boolean"}}),
         "protocol": _obj(["name", "version"], {"name": STR, "version": {},
                                                "disclaimer": STR_NULL, "file": STR_NULL}),
         "next_session": _obj(["date", "day", "given"], {
             "date": {"type": "string", "format": "date"}, "day": {"type": "integer"},
             "given": {"type": "boolean"}}),
         "phases": {"type": "array", "items": _obj(["id", "label", "from_day", "until_day"], {
             "id": STR, "label": STR, "from_day": {"type": "number"},
             "until_day": {"type": "number"}})},
         "steps": {"type": "array", "items": _obj(["id", "label", "slots"], {
             "id": STR, "label": STR, "slots": STRINGS})},
         "shelf": {"type": "array", "items": _obj(["product_id", "name", "step", "status"], {
             "product_id": STR, "name": STR, "category": STR, "step": STR,
             "status": {"type": "string", "enum": ["ok", "never", "unchecked"]},
             "safe_from_day": NUM_NULL, "first_day": INT_NULL, "first_placed_day": INT_NULL})},
         "days": {"type": "array", "items": day},
         "reintroduce": {"type": "array", "items": _obj(
             ["product_id", "name", "step", "status", "first_day", "date", "reasons"], {
                 "product_id": STR, "name": STR, "step": STR,
                 "status": {"type": "string", "enum": ["from_day", "never", "unchecked"]},
                 "safe_from_day": NUM_NULL, "first_day": INT_NULL,
                 "date": {**STR_NULL, "format": "date"},
                 "reasons": {"type": "array", "items": reason},
                 "first_placed_day": INT_NULL, "note": STR})},
         "conflicts": {"type": "array", "items": _obj(
             ["scope", "rule", "severity", "reason", "resolution"], {
                 "scope": {"type": "string", "enum": ["same_slot", "shelf"]}, "rule": STR,
                 "severity": {"type": "string", "enum": ["avoid", "caution"]},
                 "reason": STR, "resolution": STR, "source": STR, "evidence": STR,
                 "products": {"type": "array", "items": {"type": "object"}},
                 "occurrences": {"type": "array", "items": {"type": "object"}}})},
         "stop_before_next": {"type": "array", "items": _obj(
             ["product_id", "name", "stop_from_day", "stop_from_date", "reason"], {
                 "product_id": STR, "name": STR, "days_before": {"type": "number"},
                 "stop_from_day": {"type": "integer"},
                 "stop_from_date": {"type": "string", "format": "date"}, "rule": STR,
                 "reason": STR, "source": STR, "evidence": STR})},
         "clinic": STR_NULL, "notes": STRINGS, "generated": {"type": "object"},
         "disclaimer": STR})


def _answers(default_json: bool) -> dict:
    content = {"text/html": {"schema": {"type": "string"}},
               "text/calendar": {"schema": {"type": "string"}}}
    if default_json:
        content = {"application/json": {"schema": _ref("RegimenRecord")}, **content}
    return {"description": "The plan record (format json), the printable handout (html: "
                           "no script; print CSS) or the reintroduction calendar (ics, an "
                           "attachment)", "content": content}


def extend(doc: dict, errors) -> dict:
    """Add the regimen operations and schemas to ``doc`` (``errors(*codes)`` -> responses)."""
    from web.openapi import _items_or_text

    schemas = doc["components"]["schemas"]
    schemas["RegimenRequest"] = _request(_items_or_text)
    schemas["RegimenRecord"] = _record()
    schemas["RegimenRecordIn"] = _record_in()
    schemas["RegimenRenderRequest"] = {"anyOf": [_ref("RegimenRecordIn"), _obj(["plan"], {
        "plan": _ref("RegimenRecordIn"),
        "format": {"type": "string", "enum": ["html", "ics"]},
        "clinic": {"type": "string", "maxLength": 200,
                   "description": "Overrides the record's clinic on the handout"}})]}
    doc["paths"]["/regimen"] = {"post": {
        "summary": "Build an aftercare regimen", "operationId": "regimen",
        "description": "A day-by-day plan from the clinic's shelf until the next session: AM/PM "
                       "routines by phase (a product only from its safe-from day), "
                       "reintroduction dates, conflicts, what to stop before the next session. "
                       "400: a bad value (the message names it; also a duplicate id or an "
                       "unknown step); 404: a product id not in the served catalog; 422: no "
                       "product on the shelf has a readable ingredient list.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": _ref("RegimenRequest")}}},
        "responses": {"200": _answers(True), **errors(400, 404, 405, 413, 422)}}}
    doc["paths"]["/regimen/render"] = {"post": {
        "summary": "Render a saved regimen record", "operationId": "regimen_render",
        "description": "The record returned by POST /regimen (format json), as saved, or "
                       "{plan, format, clinic}: the handout (html, default) or the calendar "
                       "(ics). 422: not a regimen record, or a "
                       "damaged one.",
        "parameters": [{"name": "format", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["html", "ics"]},
                        "description": "html (default) or ics; must agree with the "
                                       "body's format when both are given"}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": _ref("RegimenRenderRequest")}}},
        "responses": {"200": _answers(False), **errors(400, 405, 413, 422)}}}
    return doc
