"""The OpenAPI 3.0 document of /api/v1, written by hand (tests check every route is in it).

Answers "how do I call it, and what comes back?" for API users and for schema-based testing
(schemathesis): every route, its parameters, request bodies, response bodies and every error
status with the error body.
"""

from __future__ import annotations

from recommender import DISCLAIMER, __version__
from recommender.scoring import CONCERNS, SKIN_TYPES

NUM_NULL = {"type": "number", "nullable": True}
STR_NULL = {"type": "string", "nullable": True}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    text = {400: "Bad JSON, a wrong type or a bad value (the message names the field)",
            404: "Not found (unknown route or product id)",
            405: "Method not allowed",
            413: "Request body larger than the configured limit",
            422: "No ingredient list could be read from the input",
            500: "Internal error (generic message; details are only in the server log)"}
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes} | \
        {"default": {"$ref": "#/components/responses/E500"}} if codes else text


def _items_or_text(enum: tuple[str, ...] | None, what: str) -> dict:
    item = {"type": "string", "maxLength": 100}
    if enum:
        item = {"type": "string", "enum": list(enum)}
    return {"description": f"{what}: a list, or one comma-separated string",
            "oneOf": [{"type": "string", "maxLength": 1000}, {"type": "array", "items": item,
                                                             "maxItems": 50}]}


def _nullable(props: dict) -> dict:
    """Optional request fields: null means "not given" (the default applies)."""
    return {k: {**v, "nullable": True} for k, v in props.items()}


def _person_properties() -> dict:
    return _nullable({
        "treated_on": {"type": "string", "format": "date",
                       "description": "Treatment date (YYYY-MM-DD, not in the future); "
                                      "day = whole days since. Give at most one of "
                                      "treated_on, day, hours. Default: day 1."},
        "day": {"type": "number", "minimum": 0, "maximum": 3650,
                "description": "Days since the end of the treatment (1.5 = 36 h)."},
        "hours": {"type": "number", "minimum": 0, "maximum": 87600,
                  "description": "Hours since the end of the treatment."},
        "depth": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 10,
                  "description": "Needle depth in mm (default 1.0)."},
        "modality": {"type": "string", "enum": ["mn", "rf", "prp"],
                     "description": "mn (microneedling, default), rf or prp (a clinic "
                                    "protocol may define more)."},
        "concerns": _items_or_text(None, "Concern ids or common words (" + ", ".join(CONCERNS)
                                   + "); unknown words give 400"),
        "skin_type": _items_or_text(None, "Skin types (" + ", ".join(SKIN_TYPES)
                                    + "); unknown words give 400"),
        "avoid": _items_or_text(None, "Personal avoid-list: ingredient or class names"),
        "pregnant": {"type": "boolean", "description": "Retinoids: avoid at any time."},
    })


def _schemas() -> dict:
    flag = {"type": "object", "required": ["scope", "rule", "severity", "open", "reason",
                                           "source", "evidence"],
            "properties": {
                "scope": {"type": "string", "enum": ["ingredient", "product"]},
                "ingredient": {**STR_NULL, "description": "As printed on the label"},
                "inci": STR_NULL, "position": {"type": "integer", "nullable": True},
                "class": STR_NULL, "rule": {"type": "string"},
                "severity": {"type": "string", "enum": ["avoid", "caution"]},
                "until_day": {**NUM_NULL, "description": "null: never (personal rule)"},
                "open": {"type": "boolean"}, "reason": {"type": "string"},
                "source": {"type": "string"}, "evidence": {"type": "string"},
                "stages": {"type": "array", "items": {"type": "object"}}}}
    verdict = {"type": "string", "enum": ["avoid", "caution", "suitable"]}
    rec_item = {"type": "object",
                "required": ["product_id", "name", "score", "verdict", "safe_from_day",
                             "reasons", "flags"],
                "properties": {"product_id": {"type": "string"}, "row": {"type": "integer"},
                               "name": STR_NULL, "brand": STR_NULL, "category": STR_NULL,
                               "price": NUM_NULL, "score": NUM_NULL, "verdict": verdict,
                               "safe_from_day": NUM_NULL, "safe_from_date": STR_NULL,
                               "never_safe": {"type": "boolean"},
                               "post_procedure_friendly": {"type": "boolean"},
                               "reasons": {"type": "array", "items": {"type": "string"}},
                               "flags": {"type": "array", "items": _ref("Flag")}}}
    scored = {"type": "object",
              "required": ["product_id", "status", "verdict", "safe_from_day", "flags",
                           "post_needling_score"],
              "properties": {"product_id": STR_NULL, "name": STR_NULL, "brand": STR_NULL,
                             "category": STR_NULL, "price": NUM_NULL,
                             "status": {"type": "string"}, "verdict": verdict,
                             "safe_from_day": NUM_NULL, "safe_from_date": STR_NULL,
                             "never_safe": {"type": "boolean"},
                             "post_needling_score": NUM_NULL, "score_when_safe": NUM_NULL,
                             "post_procedure_friendly": {"type": "boolean"},
                             "reasons_for": {"type": "array", "items": {"type": "string"}},
                             "reasons_against": {"type": "array", "items": {"type": "string"}},
                             "flags": {"type": "array", "items": _ref("Flag")},
                             "n_ingredients": {"type": "integer"},
                             "n_unrecognized": {"type": "integer"},
                             "unrecognized": {"type": "array", "items": {"type": "string"}},
                             "concerns": {"type": "object",
                                          "additionalProperties": NUM_NULL},
                             "gentleness": NUM_NULL, "absorption_index": NUM_NULL,
                             "absorption_x_vs_intact": NUM_NULL}}
    product = {"type": "object", "required": ["product_id", "name"],
               "properties": {"product_id": {"type": "string"}, "name": STR_NULL,
                              "brand": STR_NULL, "category": STR_NULL, "price": NUM_NULL,
                              "ingredients": STR_NULL, "row": {"type": "integer",
                                                                "nullable": True},
                              "demo": {"type": "boolean"}}}
    person = {"type": "object", "properties": _person_properties()}
    catalog = {"type": "object", "required": ["source", "products", "demo"],
               "properties": {"source": {"type": "string"}, "products": {"type": "integer"},
                              "demo": {"type": "boolean"},
                              "rejected_rows": {"type": "integer"}}}
    disclaimer = {"type": "string", "example": DISCLAIMER}
    return {
        "Error": {"type": "object", "required": ["error"],
                  "properties": {"error": {"type": "object", "required": ["status", "message"],
                                           "properties": {"status": {"type": "integer"},
                                                          "message": {"type": "string"}}}}},
        "Flag": flag,
        "Person": person,
        "CheckRequest": {"allOf": [person, {"type": "object", "properties": _nullable({
            "ingredients": {"type": "string", "maxLength": 20000,
                            "description": "The ingredient list as printed (or product_id)"},
            "product_id": {"type": "string", "maxLength": 200,
                           "description": "A catalog product instead of ingredients"},
            "name": {"type": "string", "maxLength": 500,
                     "description": "Product name ('peel' triggers the peel rule)"},
            "category": {"type": "string", "maxLength": 200},
            "models": {"type": "boolean", "default": True,
                       "description": "false: skip the learned models (faster)"}})}]},
        "RecommendRequest": {"allOf": [person, {"type": "object", "properties": _nullable({
            "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
            "budget": {"type": "number", "minimum": 0},
            "strict": {"type": "boolean", "default": False,
                       "description": "use_now holds 'suitable' only"}})}]},
        "ScoreRequest": {"allOf": [person, {"type": "object", "properties": {
            "product_ids": {"type": "array", "minItems": 1, "maxItems": 100,
                            "items": {"type": "string", "minLength": 1}},
            "products": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                "type": "object", "required": ["ingredients"],
                "properties": {"ingredients": {"type": "string", "maxLength": 20000},
                               "name": {"type": "string", "maxLength": 500},
                               "category": {"type": "string", "maxLength": 500},
                               "product_id": {"type": "string", "maxLength": 500}}}}},
            "description": "Exactly one of product_ids or products"}]},
        "CheckResponse": {"type": "object",
                          "required": ["ingredients", "unrecognized", "verdict",
                                       "safe_from_day", "flags", "protocol", "daily",
                                       "disclaimer"],
                          "properties": {
                              "status": {"type": "string"},
                              "ingredients": {"type": "array", "items": {
                                  "type": "object",
                                  "required": ["raw", "inci", "position", "recognized",
                                               "classes"],
                                  "properties": {"raw": {"type": "string"}, "inci": STR_NULL,
                                                 "position": {"type": "integer"},
                                                 "recognized": {"type": "boolean"},
                                                 "match": STR_NULL,
                                                 "classes": {"type": "array",
                                                             "items": {"type": "string"}},
                                                 "section": {"type": "string"}}}},
                              "unrecognized": {"type": "array", "items": {"type": "string"}},
                              "verdict": verdict, "safe_from_day": NUM_NULL,
                              "safe_from_date": STR_NULL, "never_safe": {"type": "boolean"},
                              "flags": {"type": "array", "items": _ref("Flag")},
                              "timeline": {"type": "array", "items": {
                                  "type": "object", "properties": {
                                      "from_day": {"type": "number"}, "verdict": verdict}}},
                              "daily": {"type": "array", "items": {
                                  "type": "object", "required": ["day", "date", "verdict"],
                                  "properties": {"day": {"type": "number"},
                                                 "date": {"type": "string", "format": "date"},
                                                 "verdict": verdict}}},
                              "absorption_curves": {"type": "array", "items": {"type": "object"}},
                              "concerns": {"type": "object", "additionalProperties": NUM_NULL},
                              "protocol": {"type": "object"},
                              "product": product,
                              "disclaimer": disclaimer}},
        "RecommendResponse": {"type": "object",
                              "required": ["use_now", "later", "avoid", "counts", "context",
                                           "catalog", "disclaimer"],
                              "properties": {
                                  "use_now": {"type": "array", "items": rec_item},
                                  "later": {"type": "array", "items": rec_item},
                                  "avoid": {"type": "array", "items": rec_item},
                                  "counts": {"type": "object",
                                             "additionalProperties": {"type": "integer"}},
                                  "context": {"type": "object"}, "person": {"type": "object"},
                                  "catalog": catalog,
                                  "warnings": {"type": "array", "items": {"type": "string"}},
                                  "disclaimer": disclaimer}},
        "ScoreResponse": {"type": "object", "required": ["results", "disclaimer"],
                          "properties": {"results": {"type": "array", "items": scored},
                                         "person": {"type": "object"},
                                         "disclaimer": disclaimer}},
        "Product": {**product, "properties": {**product["properties"], "disclaimer": disclaimer}},
        "SearchResponse": {"type": "object",
                           "required": ["query", "field", "total", "products"],
                           "properties": {"query": {"type": "string"},
                                          "field": {"type": "string"},
                                          "total": {"type": "integer"},
                                          "products": {"type": "array", "items": product},
                                          "disclaimer": disclaimer}},
        "Health": {"type": "object", "required": ["status", "version", "catalog", "protocol"],
                   "properties": {"status": {"type": "string", "enum": ["ok"]},
                                  "version": {"type": "string"}, "catalog": catalog,
                                  "protocol": {"type": "object",
                                               "properties": {"name": {"type": "string"},
                                                              "version": {"type": "string"}}},
                                  "disclaimer": disclaimer}},
        "ProtocolResponse": {"type": "object", "required": ["protocol", "custom"],
                             "properties": {"protocol": {"type": "object",
                                                         "required": ["name", "version", "rules"],
                                                         "properties": {
                                                             "name": {"type": "string"},
                                                             "version": {"type": "string"},
                                                             "rules": {"type": "array", "items": {
                                                                 "type": "object"}}}},
                                            "custom": {"type": "boolean"},
                                            "disclaimer": disclaimer}},
    }


def _post(summary: str, req: str, resp: str, errors: tuple[int, ...], description: str) -> dict:
    return {"post": {
        "summary": summary, "description": description, "operationId": summary.split()[0].lower(),
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(req)}}},
        "responses": {"200": _json(_ref(resp), "OK"), **_errors(*errors)}}}


def document() -> dict:
    responses = {f"E{c}": _json(_ref("Error"), d) for c, d in _errors().items()}
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "skinrec API", "version": __version__,
                 "description": "Scores topical skincare products for use after "
                                "microneedling. " + DISCLAIMER},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/health": {"get": {"summary": "Health", "operationId": "health",
                                "responses": {"200": _json(_ref("Health"), "The app is up"),
                                              **_errors(405)}}},
            "/protocol": {"get": {"summary": "The active safety protocol",
                                  "operationId": "protocol",
                                  "responses": {"200": _json(_ref("ProtocolResponse"),
                                                             "Rules, windows and sources"),
                                                **_errors(405)}}},
            "/check": _post("Check an ingredient list", "CheckRequest", "CheckResponse",
                            (400, 404, 405, 413, 422),
                            "Give ingredients (as printed) or a catalog product_id. Returns "
                            "the ingredient table, flags, verdict, safe-from day and date, the "
                            "verdict for each of the next 14 days, learned fit and absorption."),
            "/recommend": _post("Recommend products", "RecommendRequest", "RecommendResponse",
                                (400, 405, 413),
                                "use_now / later (from day N) / avoid from the served catalog."),
            "/score": _post("Score products", "ScoreRequest", "ScoreResponse",
                            (400, 404, 405, 413),
                            "Score catalog products (product_ids) or inline lists (products), "
                            "at most 100 per request."),
            "/products": {"get": {
                "summary": "Search the catalog", "operationId": "search",
                "parameters": [
                    {"name": "q", "in": "query", "required": False,
                     "schema": {"type": "string", "maxLength": 200},
                     "description": "Text in the name, brand or ingredient list"},
                    {"name": "field", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["any", "name", "brand",
                                                           "ingredient"], "default": "any"}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200,
                                "default": 50}}],
                "responses": {"200": _json(_ref("SearchResponse"), "Matching products"),
                              **_errors(400, 405)}}},
            "/products/{product_id}": {"get": {
                "summary": "One catalog product", "operationId": "product",
                "parameters": [{"name": "product_id", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1}}],
                "responses": {"200": _json(_ref("Product"), "The product"),
                              **_errors(404, 405)}}},
            "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                      "responses": {"200": {"description": "OpenAPI 3.0",
                                                            "content": {"application/json": {
                                                                "schema": {"type": "object"}}}},
                                                    **_errors(405)}}},
        },
        "components": {"schemas": _schemas(), "responses": responses},
    }
    from web.regimen_openapi import extend  # the regimen builder's operations (issue #7)

    return extend(doc, _errors)
