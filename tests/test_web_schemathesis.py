"""Schema-based tests of the JSON API: schemathesis over /api/v1/openapi.json, in-process.

Answers "does every /api/v1 route do what its OpenAPI document says, for inputs nobody
wrote by hand?": schemathesis reads the app's own document from the WSGI app (no server, no
network), generates requests for every operation (the document's examples, its coverage
phase of boundary values, then a bounded number of Hypothesis examples, valid and invalid),
and checks each answer:

- never a 5xx (``not_a_server_error``);
- a status code the document lists for that operation, the declared content type and
  headers, and a body that validates against the declared response schema;
- schema-invalid requests are rejected (4xx), and schema-valid ones are accepted or
  answered with a documented refusal: the document allows free text for ``concerns``,
  ``skin_type`` and ``avoid`` and says unknown words give 400, ``treated_on`` in the future
  gives 400, a product id that is not in the catalog gives 404 and a list with nothing
  readable gives 422, none of which a JSON schema can express.

Bounded: a fixed seed, ``max_examples`` per operation and no shrinking, so the module runs
in well under a minute on the demo catalog (the run time is not asserted).
"""

from __future__ import annotations

import json
import threading

import schemathesis
from hypothesis import HealthCheck, settings

from recommender import config

MAX_EXAMPLES = 25

SCHEMATHESIS_CONFIG = {
    "seed": 20261129,
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "no-shrink": True,
                   "deterministic": True, "database": "none"},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
               "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
    "checks": {
        # Documented refusals of schema-valid input (see the module docstring).
        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404", "422"]},
    },
}


class _LazyApp:
    """The WSGI app, built on the first request (not at collection), once per module."""

    def __init__(self):
        self._app = None
        self._lock = threading.Lock()

    @property
    def app(self):
        with self._lock:
            if self._app is None:
                from web import create_app

                self._app = create_app({"CATALOG": str(config.DEMO_CATALOG)})
        return self._app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


APP = _LazyApp()


def _document() -> dict:
    # The document as the app serves it (JSON round trip); test_served_document_is_this_one
    # checks that /api/v1/openapi.json is exactly this.
    from web.openapi import document

    return json.loads(json.dumps(document()))


# schemathesis.pytest.from_fixture needs pytest's private node._nodeid, gone in pytest 9.2;
# the schema is therefore loaded from the document here, and requests go to the app
# in-process through schemathesis' WSGI transport (schema.app).
schema = schemathesis.openapi.from_dict(_document(),
                                        config=schemathesis.Config.from_dict(SCHEMATHESIS_CONFIG))
schema.app = APP


def test_served_document_is_this_one():
    resp = APP.app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.get_json() == _document()
    assert {s["url"] for s in resp.get_json()["servers"]} == {"/api/v1"}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    assert case.operation.full_path.startswith("/api/v1/"), case.operation.full_path
    response = case.call_and_validate()
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
