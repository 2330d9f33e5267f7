"""The regimen builder on the web (issue #7) through Flask's test client.

The aesthetician's questions: "build this client's plan from my shelf" (POST
/api/v1/regimen, the /regimen form with catalog ids or a shelf CSV), "print it, give them
the calendar, keep the record" (the handout page, the .ics, the JSON record) and "print the
plan I saved last month" (POST /api/v1/regimen/render, the load form). Real protocol, real
models, the demo catalog by id; marked ``data``, real Sephora products by id. Every
expectation about safety days comes from the app's own /api/v1/check answer or the protocol
file, never from numbers typed here, except the two windows the protocol files state
(retinoid: day 7 by default, day 5 in the clinic fixture).
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from markupsafe import escape

from recommender import DISCLAIMER as PLAIN_DISCLAIMER
from recommender import config
from web import create_app

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"
TREATED = date(2026, 3, 2)
RETINOL = "demo-011"          # Retinol Night Serum 0.3%: retinol, nothing else held back
CLEANSER = "demo-036"         # Gentle Cream Cleanser
HYDRATOR = "demo-001"         # Hyaluronic Barrier Serum
GLYCOLIC = "demo-015"         # Glycolic Resurfacing Toner 7%
VITAMIN_C = "demo-021"
CREAM = "demo-002"            # Ceramide Repair Cream
MINERAL_SPF = "demo-032"
LAVENDER = "demo-028"         # Lavender Dream Night Cream (fragrance)
SHELF = [CLEANSER, HYDRATOR, RETINOL, GLYCOLIC, VITAMIN_C, CREAM, MINERAL_SPF, LAVENDER]
SCRIPT = "<script>alert(1)</script>"
DISCLAIMER = str(escape(PLAIN_DISCLAIMER))          # as printed in HTML
EXAMPLE_SHELF = Path(__file__).parents[1] / "data" / "regimen" / "example_shelf.csv"


def _app(tmp, protocol=None, catalog=None):
    app = create_app({"CATALOG": catalog or str(config.DEMO_CATALOG), "PROTOCOL": protocol,
                      "UPLOAD_DIR": str(tmp / "uploads"), "REGIMEN_DIR": str(tmp / "plans")})
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return _app(tmp_path_factory.mktemp("regimen"))


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def plan(app):
    """The default plan of the demo shelf (built once)."""
    r = app.test_client().post("/api/v1/regimen", json=_body())
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r.get_json()


def _body(shelf=None, **kw) -> dict:
    body = {"treatment": {"date": TREATED.isoformat(), "depth_mm": 1.0, "modality": "mn",
                          "area": "face"},
            "client": {"skin_type": ["dry"], "concerns": ["dryness"], "avoid": [],
                       "pregnant": False},
            "shelf": {"product_ids": SHELF} if shelf is None else shelf, "clinic": "Glow Clinic"}
    body.update(kw)
    return body


def csrf(client, path="/regimen") -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def placed(record: dict):
    for day in record["days"]:
        for slot in ("am", "pm"):
            for p in day[slot]:
                if p["product_id"] is not None:
                    yield day, slot, p


def reintroduced(record: dict, pid: str) -> dict:
    return next(r for r in record["reintroduce"] if r["product_id"] == pid)


def _check_safe_from(client, pid: str, protocol_client=None) -> float:
    d = (protocol_client or client).post("/api/v1/check", json={"product_id": pid, "day": 0,
                                                                "depth": 1.0}).get_json()
    return d["safe_from_day"]


# ----------------------------------------------------------------------------- API


def test_api_plan_never_places_a_product_before_its_safe_from_day(client, plan):
    assert plan["schema"] == "skinrec.regimen/1" and plan["disclaimer"] == PLAIN_DISCLAIMER
    assert plan["clinic"] == "Glow Clinic" and plan["treatment"]["date"] == TREATED.isoformat()
    assert plan["protocol"]["name"] == "skinrec-default"
    assert {p["product_id"] for p in plan["shelf"]} == set(SHELF)
    safe_from = {pid: _check_safe_from(client, pid) for pid in SHELF}
    used = set()
    for day, _, p in placed(plan):
        used.add(p["product_id"])
        assert p["safe_from_day"] <= day["day"], (day["day"], p)
        # the app's own /check answer agrees: never before the product's safe-from day
        assert safe_from[p["product_id"]] <= day["day"], (day["day"], p["product_id"])
    assert CLEANSER in used and MINERAL_SPF in used
    retinol = reintroduced(plan, RETINOL)
    assert retinol["status"] == "from_day" and retinol["first_day"] == 7 == safe_from[RETINOL]
    assert retinol["date"] == (TREATED + timedelta(days=7)).isoformat()
    assert any(w["ingredient"] == "Retinol" and w["rule"] == "retinoid" and w["source"]
               for w in retinol["reasons"])
    # phases, both routines, a conflict between the retinoid and the acid, a stop-before list
    assert [d["day"] for d in plan["days"]][:3] == [0, 1, 2]
    assert all(d["phase_id"] in {ph["id"] for ph in plan["phases"]} for d in plan["days"])
    assert any(c["rule"] == "retinoid_acid" for c in plan["conflicts"])
    assert plan["next_session"]["date"] == (TREATED + timedelta(days=28)).isoformat()


def test_api_inline_products_and_formats(client):
    products = [{"product_id": "x-cleanser", "name": "Cleanser",
                 "ingredients": "Water, Glycerin, Coco-Glucoside, Panthenol"},
                {"product_id": "x-retinol", "name": f"Night {SCRIPT}",
                 "ingredients": "Water, Squalane, Retinol, Tocopherol", "step": "treat"}]
    body = _body({"products": products}, clinic=f"Clinic {SCRIPT}",
                 next_session=(TREATED + timedelta(days=21)).isoformat(), models=False)
    record = client.post("/api/v1/regimen", json=body).get_json()
    assert record["next_session"]["day"] == 21 and record["next_session"]["given"] is True
    assert record["client"]["concerns"] == ["dryness"]
    r = client.post("/api/v1/regimen", json={**body, "client": {"concerns": "dryness, acne",
                                                                "skin_type": ["dry"]}})
    assert r.get_json()["client"]["concerns"] == ["dryness", "acne"]
    assert reintroduced(record, "x-retinol")["first_day"] == 7

    r = client.post("/api/v1/regimen", json={**body, "format": "html"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert SCRIPT not in html and "<script" not in html.lower()
    assert "Night &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Clinic &lt;script&gt;" in html
    assert "skinrec-default 1.0.0" in html and DISCLAIMER in html
    # the handout's print stylesheet is admitted by hash; scripts stay forbidden
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "style-src 'self' 'sha256-" in csp

    r = client.post("/api/v1/regimen", json={**body, "format": "ics"})
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Content-Disposition"].endswith('.ics"')
    cal = Calendar.from_ical(r.get_data())
    events = [e for e in cal.walk("VEVENT")]
    assert len(events) == 1
    assert events[0].decoded("dtstart") == TREATED + timedelta(days=7)
    assert "Night <script>" in str(events[0]["summary"])       # text, not markup, in .ics


def test_api_render_a_saved_record(client, plan):
    r = client.post("/api/v1/regimen/render", json=plan)      # the record as saved
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "Glow Clinic" in html and "skinrec-default 1.0.0" in html and DISCLAIMER in html
    assert "Retinol Night Serum" in html
    r = client.post("/api/v1/regimen/render?format=ics", json=plan)
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = Calendar.from_ical(r.get_data())
    starts = {str(e["summary"]): e.decoded("dtstart") for e in cal.walk("VEVENT")}
    retinol = reintroduced(plan, RETINOL)
    assert starts[f"You can use again: {retinol['name']}"] == TREATED + timedelta(days=7)
    assert {str(e["uid"]) for e in cal.walk("VEVENT")} == \
        {str(e["uid"]) for e in Calendar.from_ical(client.post(
            "/api/v1/regimen", json={**_body(), "format": "ics"}).get_data()).walk("VEVENT")}
    r = client.post("/api/v1/regimen/render", json={"plan": plan, "clinic": "Other Clinic",
                                                    "format": "html"})
    assert r.status_code == 200 and "Other Clinic" in r.get_data(as_text=True)


@pytest.mark.parametrize("body,status,words", [
    ("{not json", 400, "not valid JSON"),
    ("[]", 400, "JSON object"),
    ({"shelf": {"product_ids": [HYDRATOR]}}, 400, "treatment.date is required"),
    (_body(treatment={"date": "2026-02-30"}), 400, "YYYY-MM-DD"),
    (_body(treatment={"date": "2026-03-02", "depth_mm": 0}), 400, "depth_mm must be > 0"),
    (_body(treatment={"date": "2026-03-02", "depth_mm": "1"}), 400, "depth_mm must be a number"),
    (_body(treatment={"date": "2026-03-02", "modality": "laser"}), 400, "modality"),
    (_body(treatment={"date": "1900-01-01"}), 400, "years from today"),
    (_body(client={"concerns": "glowiness"}), 400, "concern"),
    (_body(client={"pregnant": "yes"}), 400, "pregnant must be true or false"),
    (_body(next_session="2026-03-03"), 400, "next session"),
    (_body(next_session="2030-01-01"), 400, "within 366 days"),
    (_body(format="pdf"), 400, "format must be one of"),
    (_body(format={}), 400, "format must be one of"),
    (_body(shelf={}), 400, "either product_ids"),
    (_body(shelf={"product_ids": [HYDRATOR], "products": []}), 400, "either product_ids"),
    (_body(shelf={"product_ids": []}), 400, "empty"),
    (_body(shelf={"product_ids": [HYDRATOR, HYDRATOR]}), 400, "appears twice"),
    (_body(shelf={"product_ids": [HYDRATOR] * 51}), 400, "the limit is 50"),
    (_body(shelf={"products": [{"name": "x"}]}), 400, "ingredients is required"),
    (_body(shelf={"products": [{"ingredients": "Water", "step": "exfoliate"}]}), 400,
     "unknown step"),
    (_body(shelf={"product_ids": [HYDRATOR, "nope"]}), 404, "no product with id 'nope'"),
    (_body(shelf={"products": [{"ingredients": "N/A"}, {"ingredients": "see packaging"}]}),
     422, "no ingredient list found"),
])
def test_api_regimen_errors(client, body, status, words):
    if isinstance(body, str):
        r = client.post("/api/v1/regimen", data=body, content_type="application/json")
    else:
        r = client.post("/api/v1/regimen", json=body)
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    err = r.get_json()["error"]
    assert err["status"] == status and words in err["message"], err
    assert "Traceback" not in r.get_data(as_text=True)


@pytest.mark.parametrize("body,status,words", [
    ({"schema": "something/else"}, 422, "not a skinrec regimen record"),
    ({"plan": None}, 422, "JSON object"),
    ({"plan": {"schema": "skinrec.regimen/1"}}, 422, "missing"),
    ({"schema": "skinrec.regimen/1", "days": "x"}, 422, "days must be an array"),
])
def test_api_render_refuses_what_is_not_a_record(client, body, status, words):
    r = client.post("/api/v1/regimen/render", json=body)
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    assert words in r.get_json()["error"]["message"]


def test_api_render_damaged_record_and_bad_format(client, plan):
    damaged = json.loads(json.dumps(plan))
    damaged["days"][0]["am"] = [{"nonsense": True}]
    r = client.post("/api/v1/regimen/render", json=damaged)
    assert r.status_code == 422 and "damaged" in r.get_json()["error"]["message"]
    assert client.post("/api/v1/regimen/render?format=pdf", json=plan).status_code == 400
    r = client.post("/api/v1/regimen/render?format=ics", json={"plan": plan, "format": "html"})
    assert r.status_code == 400 and "twice" in r.get_json()["error"]["message"]


def test_api_too_large_is_413(app, client):
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    try:
        big = _body({"products": [{"ingredients": "Water, Glycerin, " * 200}]})
        r = client.post("/api/v1/regimen", json=big)
        assert r.status_code == 413 and "too large" in r.get_json()["error"]["message"]
        r = client.post("/api/v1/regimen/render", json={"schema": "x" * 3000})
        assert r.status_code == 413
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old


def test_openapi_lists_both_operations_with_bounded_shelf(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/regimen"]["post"]
    assert op["responses"].keys() >= {"200", "400", "404", "413", "422", "default"}
    assert set(op["responses"]["200"]["content"]) == {"application/json", "text/html",
                                                      "text/calendar"}
    shelf = doc["components"]["schemas"]["RegimenRequest"]["properties"]["shelf"]
    assert [s["properties"][k]["maxItems"] for s, k in
            zip(shelf["oneOf"], ("product_ids", "products"), strict=True)] == [50, 50]
    render = doc["paths"]["/regimen/render"]["post"]
    assert set(render["responses"]["200"]["content"]) == {"text/html", "text/calendar"}


# ----------------------------------------------------------------------------- clinic protocol


def test_clinic_protocol_moves_the_retinoid_back_to_day5(tmp_path, client, plan):
    clinic_client = _app(tmp_path, protocol=str(CLINIC)).test_client()
    record = clinic_client.post("/api/v1/regimen", json=_body()).get_json()
    assert record["protocol"]["name"] == "example-clinic"
    default_day = reintroduced(plan, RETINOL)["first_day"]
    clinic_day = reintroduced(record, RETINOL)["first_day"]
    assert (default_day, clinic_day) == (7, 5)
    assert clinic_day == _check_safe_from(client, RETINOL, clinic_client)
    assert all(d["day"] >= 5 for d, _, p in placed(record) if p["product_id"] == RETINOL)
    html = clinic_client.post("/api/v1/regimen", json={**_body(), "format": "html"}) \
        .get_data(as_text=True)
    assert "example-clinic" in html and "day 5" in html


# ----------------------------------------------------------------------------- pages


def _form(token: str, **kw) -> dict:
    data = {"csrf_token": token, "date": TREATED.isoformat(), "depth_mm": "1.0",
            "modality": "mn", "area": "face", "clinic": "Glow Clinic", "concerns": "dryness",
            "next_session": ""}
    data.update(kw)
    return data


def test_regimen_page_has_nav_form_and_disclaimer(client):
    html = client.get("/regimen").get_data(as_text=True)
    assert '>Regimen<' in html and 'aria-current="page"' in html
    assert "Not medical advice; follow your provider's protocol" in html
    for field in ("date", "depth_mm", "modality", "area", "skin_type", "concerns", "avoid",
                  "pregnant", "clinic", "next_session", "product_ids", "product_id",
                  "shelf_csv", "record"):
        assert f'name="{field}"' in html, field
    assert "<script" not in html.lower()
    assert '>Regimen<' in client.get("/").get_data(as_text=True)      # in every page's nav


def test_form_builds_a_plan_with_handout_ics_and_json(app, client):
    token = csrf(client)
    r = client.post("/regimen", data=_form(token, product_ids=f"{CLEANSER}\n{RETINOL}\n",
                                           product_id=[HYDRATOR, MINERAL_SPF]),
                    content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    page = client.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Glow Clinic" in html
    assert "skinrec-default 1.0.0" in html and "Retinol Night Serum" in html
    assert 'id="phase-p0"' in html and "Morning (AM)" in html and "Evening (PM)" in html
    reintro = html[html.index('id="reintroduce"'):html.index('id="conflicts"')]
    assert "Retinol Night Serum" in reintro and (TREATED + timedelta(days=7)).isoformat() in reintro
    assert 'id="stop-before"' in html
    links = dict(re.findall(r'href="(/regimen/[^"]+)"[^>]*>([^<]+)<', html))
    handout = next(u for u, t in links.items() if "handout" in t.lower())
    ics = next(u for u in links if u.endswith(".ics"))
    rec = next(u for u in links if u.endswith(".json"))

    h = client.get(handout)
    assert h.status_code == 200 and h.mimetype == "text/html"
    hh = h.get_data(as_text=True)
    assert "Glow Clinic" in hh and DISCLAIMER in hh and "@media print" in hh
    assert "script-src 'none'" in h.headers["Content-Security-Policy"]
    assert "<script" not in hh.lower()

    c = client.get(ics)
    assert c.mimetype == "text/calendar" and "attachment" in c.headers["Content-Disposition"]
    assert any("Retinol" in str(e["summary"]) for e in Calendar.from_ical(c.get_data())
               .walk("VEVENT"))
    j = client.get(rec)
    assert "attachment" in j.headers["Content-Disposition"]
    record = json.loads(j.get_data())
    assert {p["product_id"] for p in record["shelf"]} == {CLEANSER, RETINOL, HYDRATOR,
                                                          MINERAL_SPF}
    for day, _, p in placed(record):
        assert p["safe_from_day"] <= day["day"]
    # the store holds whole plans only: no temporary file left behind
    files = sorted(p.name for p in Path(app.config["REGIMEN_DIR"]).iterdir())
    assert files and all(re.fullmatch(r"[A-Za-z0-9_-]{16,64}\.json", f) for f in files)

    # the saved record loads back through the second form
    r = client.post("/regimen/load", data={"csrf_token": token,
                                           "record": (io.BytesIO(j.get_data()), "plan.json")},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    again = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Glow Clinic" in again and "Retinol Night Serum" in again


def test_form_with_shelf_csv_and_escaping(client):
    token = csrf(client)
    csv_text = EXAMPLE_SHELF.read_text(encoding="utf-8")
    csv_text += f'ex-evil,"{SCRIPT}",Moisturizers,"Water, Glycerin, Squalane"\n'
    r = client.post("/regimen", data=_form(token, clinic=SCRIPT, avoid="lavender",
                                           shelf_csv=(io.BytesIO(csv_text.encode()),
                                                      "shelf.csv")),
                    content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Gentle Cream Cleanser" in html and "Benzoyl Peroxide 5% Gel" in html
    handout = re.search(r'href="(/regimen/handout/[^"]+)"', html).group(1)
    hh = client.get(handout).get_data(as_text=True)
    assert SCRIPT not in hh and "&lt;script&gt;alert(1)&lt;/script&gt;" in hh


def test_form_needs_csrf_and_says_what_is_wrong(app, client):
    r = client.post("/regimen", data=_form("", product_ids=HYDRATOR))
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    r = client.post("/regimen", data=_form("forged", product_ids=HYDRATOR))
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    assert client.post("/regimen/load", data={}).status_code == 400
    token = csrf(client)
    cases = [({}, 400, "the shelf is empty"),
             ({"product_ids": "nope"}, 404, "no product with id"),
             ({"product_ids": HYDRATOR, "date": "03/02/2026"}, 400, "YYYY-MM-DD"),
             ({"product_ids": HYDRATOR, "depth_mm": "deep"}, 400, "depth_mm must be a number"),
             ({"product_ids": HYDRATOR,
               "shelf_csv": (io.BytesIO(b"product_id,name\np,x\n"), "s.csv")}, 400,
              "either catalog product ids or a shelf CSV"),
             ({"shelf_csv": (io.BytesIO(b"product_id,name\np,x\n"), "s.csv")}, 400,
              "no ingredients column"),
             ({"shelf_csv": (io.BytesIO(b"product_id,ingredients\np,N/A\n"), "s.csv")}, 422,
              "no ingredient list found")]
    for extra, status, words in cases:
        r = client.post("/regimen", data=_form(token, **extra), content_type="multipart/form-data")
        html = r.get_data(as_text=True)
        assert r.status_code == status, (extra, html[:500])
        assert words in html and 'role="alert"' in html, (extra, words)
        assert 'name="date"' in html                       # the form again, filled in
    r = client.post("/regimen/load", data={"csrf_token": token,
                                           "record": (io.BytesIO(b'{"schema": 1}'), "p.json")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        big = b"product_id,ingredients\n" + b"p,Water\n" * 500
        r = client.post("/regimen", data=_form(token, shelf_csv=(io.BytesIO(big), "b.csv")),
                        content_type="multipart/form-data")
        assert r.status_code == 413
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old


def test_unknown_or_expired_plan_is_404(app, client):
    for path in ("/regimen/plan/not-a-token", "/regimen/handout/" + "a" * 24,
                 "/regimen/plan/" + "a" * 24 + "/calendar.ics",
                 "/regimen/plan/../../etc/passwd/record.json"):
        assert client.get(path).status_code == 404, path
    token = csrf(client)
    r = client.post("/regimen", data=_form(token, product_ids=HYDRATOR),
                    content_type="multipart/form-data")
    where = r.headers["Location"]
    assert client.get(where).status_code == 200
    old = app.config["UPLOAD_TTL_S"]
    app.config["UPLOAD_TTL_S"] = -1
    try:
        assert client.get(where).status_code == 404
    finally:
        app.config["UPLOAD_TTL_S"] = old


# ----------------------------------------------------------------------------- real products


SEPHORA = {"P442540": "retinol serum", "P470007": "gentle foam cleanser",
           "P456410": "mineral sunscreen", "P433887": "ceramide moisturizer",
           "P440486": "glycolic acid toner", "P472455": "hyaluronic acid serum"}


@pytest.mark.data
def test_real_sephora_shelf_by_id(data_dir, tmp_path):
    client = _app(tmp_path, catalog="sephora_2023").test_client()
    record = client.post("/api/v1/regimen", json=_body({"product_ids": list(SEPHORA)})) \
        .get_json()
    assert {p["product_id"] for p in record["shelf"]} == set(SEPHORA)
    for day, _, p in placed(record):
        assert p["safe_from_day"] <= day["day"], (day["day"], p)
    retinol = reintroduced(record, "P442540")
    check = client.post("/api/v1/check", json={"product_id": "P442540", "day": 0}).get_json()
    assert retinol["first_day"] >= check["safe_from_day"] >= 7
    assert any(w["rule"] == "retinoid" for w in retinol["reasons"])
    assert all(d["day"] >= retinol["first_day"] for d, _, p in placed(record)
               if p["product_id"] == "P442540")
    ics = client.post("/api/v1/regimen", json={**_body({"product_ids": list(SEPHORA)}),
                                               "format": "ics"})
    assert any("Retinol" in str(e["summary"]) or "Vitamin A" in str(e["summary"])
               for e in Calendar.from_ical(ics.get_data()).walk("VEVENT"))
