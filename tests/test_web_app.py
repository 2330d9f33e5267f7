"""The web app on the demo catalog through Flask's test client: every page and API route.

Real models, real protocol, no mocks (except one forced failure to prove no traceback leaks).
Covers: the recommend / search / check / compare / upload / protocol pages, the JSON API
under /api/v1 with its OpenAPI document, CSRF, escaping, security headers, error statuses,
and the clinic protocol changing what the app says.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from recommender import DISCLAIMER, config
from web import create_app
from web.params import today

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"
RETINOL = "demo-011"          # Retinol Night Serum 0.3%: retinol at position 5, nothing else
VITAMIN_C = "demo-021"
HYDRATOR = "demo-001"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app({"CATALOG": str(config.DEMO_CATALOG), "PROTOCOL": None,
                      "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))})
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def clinic_client():
    return create_app({"CATALOG": str(config.DEMO_CATALOG), "PROTOCOL": str(CLINIC)}).test_client()


def csrf(client, path="/check") -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def section(html: str, sid: str) -> str:
    start = html.index(f'id="{sid}"')
    end = html.find("<section", start)
    return html[start:end if end > 0 else None]


def ids_in(result: dict, name: str) -> list[str]:
    return [it["product_id"] for it in result[name]]


# ----------------------------------------------------------------------------- pages


PAGES = ["/", "/?go=1", "/search", "/search?q=serum", "/check", f"/check?product_id={RETINOL}",
         f"/compare?id={RETINOL}&id={HYDRATOR}", "/compare", "/upload", "/protocol"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_nav_and_disclaimer(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    html = r.get_data(as_text=True)
    assert "Not medical advice; follow your provider's protocol" in html
    for label in ("Recommend", "Search", "Check a product", "Compare", "Upload a catalog"):
        assert f">{label}<" in html
    assert "demo data" in html                      # the demo catalog says it is demo data
    assert "<script" not in html.lower()            # no script at all: CSP forbids it anyway


def test_forms_offer_depth_modality_skin_types_and_concerns(client):
    html = client.get("/?go=1&day=2&depth=1.5&modality=rf&concerns=dryness&skin_type=dry") \
        .get_data(as_text=True)
    assert '<option value="1.5" selected>' in html and '<option value="rf" selected>' in html
    assert 'name="concerns" value="dryness" checked' in html
    assert 'name="skin_type" value="dry" checked' in html
    assert 'name="concerns" value="dark_spots">' in html
    assert "Day 2 after 1.5 mm rf" in html
    check = client.get("/check").get_data(as_text=True)
    assert '<option value="1.0" selected>' in check and 'name="avoid"' in check
    assert f'<option value="{RETINOL}">Retinol Night Serum 0.3%</option>' in check


def test_check_form_picks_a_product_or_uses_the_pasted_list(client):
    token = csrf(client)
    r = client.post("/check", data={"csrf_token": token, "product_id": RETINOL, "ingredients": "",
                                    "day": "3"})
    assert r.status_code == 200 and "Retinol Night Serum" in r.get_data(as_text=True)
    r = client.post("/check", data={"csrf_token": token, "product_id": RETINOL,
                                    "ingredients": "Water, Glycerin", "day": "3"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Your list" in html and "v-suitable" in html


def test_recommend_page_day1_retinoid_later_with_safe_from_date_and_flag(client):
    yesterday = today() - timedelta(days=1)
    html = client.get(f"/?go=1&treated_on={yesterday.isoformat()}&k=50").get_data(as_text=True)
    assert "Retinol Night Serum" not in section(html, "use-now")
    later = section(html, "later")
    assert "Retinol Night Serum" in later
    assert "From day 7" in later
    safe = (yesterday + timedelta(days=7)).isoformat()
    assert f"Safe from day 7 ({safe})" in later
    # the flagged ingredient is named as printed, with its position, rule and source
    assert "<strong>Retinol</strong> (position 5)" in later
    assert "<code>retinoid</code>: avoid until day 7" in later and "Source:" in later
    assert "score once safe" in later


def test_recommend_page_bad_input_says_why(client):
    r = client.get("/?go=1&day=abc")
    assert r.status_code == 400
    assert "day must be a number" in r.get_data(as_text=True)
    r = client.get("/?go=1&day=2&hours=3")
    assert r.status_code == 400
    r = client.get("/?go=1&concerns=wrinkly-ness")
    assert r.status_code == 400 and "unknown concern" in r.get_data(as_text=True)


@pytest.mark.parametrize("q,field,expect", [("Retinol Night", "name", "Retinol Night Serum"),
                                            ("skinrec demo", "brand", "Squalane Face Oil"),
                                            ("sodium ascorbyl", "ingredient",
                                             "Vitamin C Brightening Cream")])
def test_search_by_name_brand_ingredient(client, q, field, expect):
    html = client.get(f"/search?q={q}&field={field}").get_data(as_text=True)
    assert expect in html


def test_check_catalog_product_shows_table_flags_timeline_absorption(client):
    html = client.get(f"/check?product_id={RETINOL}&day=2").get_data(as_text=True)
    assert "Retinol Night Serum" in html
    assert 'class="badge v-avoid">avoid' in html
    assert "safe from <strong>day 7</strong>" in html
    # ingredient table: position, INCI, classes
    assert re.search(r"<td>5</td>\s*<td>Retinol</td>\s*<td>RETINOL</td>", html)
    assert "retinoid" in html
    # flag with reason and source
    assert "Retinol (position 5) is a retinoid: avoid until day 7" in html
    assert "skintherapytucson" in html
    # charts: server-side SVG, no external resource
    assert 'class="chart timeline"' in html and 'class="chart absorption"' in html
    assert "http://www.w3.org/2000/svg" in html and "https://" not in html.split("<svg")[1][:200]
    # safer alternatives: usable now
    alt = html.split("Safer alternatives")[1]
    assert 'badge v-suitable' in alt


def test_check_pasted_list_escapes_script(client):
    token = csrf(client)
    text = f"Water, Glycerin, {SCRIPT}, Retinol"
    r = client.post("/check", data={"csrf_token": token, "ingredients": text, "day": "2",
                                    "name": SCRIPT})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert SCRIPT not in html and "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_check_kit_shows_each_component_with_its_verdict(client):
    text = "Day Cream:\nWater, Glycerin, Parfum\nNight Serum:\nWater, Retinol, Squalane"
    html = client.post("/check", data={"csrf_token": csrf(client), "ingredients": text,
                                       "day": "4"}).get_data(as_text=True)
    rows = re.findall(r'<tr class="component">.*?</tr>', html)
    assert len(rows) == 2
    assert "Day Cream" in rows[0] and "v-caution" in rows[0]      # fragrance: caution 3-7
    assert "Night Serum" in rows[1] and "v-avoid" in rows[1]      # retinoid: avoid until 7


def test_check_post_needs_csrf_token(client):
    r = client.post("/check", data={"ingredients": "Water, Glycerin"})
    assert r.status_code == 400
    assert "CSRF" in r.get_data(as_text=True)
    r = client.post("/check", data={"ingredients": "Water, Glycerin", "csrf_token": "forged"})
    assert r.status_code == 400
    r = client.post("/check", data={"ingredients": "Water, Glycerin", "csrf_token": csrf(client)})
    assert r.status_code == 200
    assert client.post("/search", data={"q": "x"}).status_code == 405
    assert client.post("/no-such-page").status_code == 404


def test_check_page_without_a_list_is_422(client):
    token = csrf(client)
    r = client.post("/check", data={"csrf_token": token, "ingredients": "see packaging"})
    assert r.status_code == 422
    assert "no ingredient list found" in r.get_data(as_text=True)
    assert client.get("/check?product_id=nope").status_code == 404


def test_compare_two_to_four(client):
    html = client.get(f"/compare?id={RETINOL}&id={HYDRATOR}&id={VITAMIN_C}&day=3") \
        .get_data(as_text=True)
    assert html.count("<th><a href=\"/check?product_id=") == 3
    assert "Safe from" in html and "day 7" in html
    assert client.get(f"/compare?id={RETINOL}").status_code == 400
    five = "&".join(f"id=demo-00{i}" for i in range(1, 6))
    assert client.get(f"/compare?{five}").status_code == 400
    assert client.get(f"/compare?id={RETINOL}&id=nope").status_code == 404


def test_protocol_page_lists_rules_sources_and_model_card(client):
    html = client.get("/protocol?depth=1.5").get_data(as_text=True)
    assert "skinrec-default" in html and "<code>retinoid</code>" in html
    assert '<a href="https://www.skintherapytucson.com/post-care-instructions" rel="noopener' \
        in html                                   # sources are links, text around escaped
    assert "f=1.5" in html                       # windows scaled to the chosen depth
    assert "Model card" in html and "Concern model" in html


# ----------------------------------------------------------------------------- upload


def _catalog_csv() -> bytes:
    rows = [
        "product_id,name,ingredients",
        'u1,Hydrating serum,"Water, Glycerin, Sodium Hyaluronate"',
        'u2,Retinol cream,"Water, Retinol, Glycerin"',
        'u3,Broken row,"Water, Glycerin",extra,fields',
        'u4,No list,N/A',
    ]
    return ("\n".join(rows) + "\n").encode()


def test_upload_scores_csv_and_returns_rejects(app, client):
    token = csrf(client, "/upload")
    r = client.post("/upload", data={"csrf_token": token, "day": "2",
                                     "file": (io.BytesIO(_catalog_csv()), "shop.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    page = client.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert "4 row(s) read: 3 scored, 1 rejected" in html
    links = re.findall(r'href="(/upload/[^"]+\.csv)"', html)
    scored = client.get(links[0])
    assert scored.status_code == 200 and scored.mimetype == "text/csv"
    assert "attachment" in scored.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(scored.get_data(as_text=True))))
    assert [r_["product_id"] for r_ in rows] == ["u1", "u2", "u4"]
    assert {r_["product_id"]: r_["verdict"] for r_ in rows}["u2"] == "avoid"
    rejects = list(csv.DictReader(io.StringIO(client.get(links[1]).get_data(as_text=True))))
    assert len(rejects) == 1 and rejects[0]["row"] == "3" and rejects[0]["reason"]
    # nothing but results left behind: the uploaded input is deleted
    job = Path(app.config["UPLOAD_DIR"]) / links[0].split("/")[2]
    assert sorted(p.name for p in job.iterdir()) == ["rejects.csv", "scored.csv", "summary.json"]


def test_old_upload_jobs_are_removed(app, client):
    def upload():
        token = csrf(client, "/upload")
        r = client.post("/upload", data={"csrf_token": token,
                                         "file": (io.BytesIO(_catalog_csv()), "shop.csv")},
                        content_type="multipart/form-data")
        return r.headers["Location"]

    first = upload()
    old = app.config["UPLOAD_TTL_S"]
    app.config["UPLOAD_TTL_S"] = -1          # everything already stored has expired
    try:
        second = upload()
    finally:
        app.config["UPLOAD_TTL_S"] = old
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_upload_dir_is_removed_at_exit_only_by_the_process_that_made_it(tmp_path):
    import os

    from web.uploads import _remove_if_owner

    d = tmp_path / "jobs"
    d.mkdir()
    _remove_if_owner(str(d), os.getpid() + 1)        # a forked worker exiting: keeps it
    assert d.is_dir()
    _remove_if_owner(str(d), os.getpid())            # the master exiting: removes it
    assert not d.exists()


def test_upload_needs_csrf_a_csv_and_a_size_limit(app, client):
    data = {"file": (io.BytesIO(_catalog_csv()), "shop.csv")}
    assert client.post("/upload", data=data, content_type="multipart/form-data").status_code == 400
    token = csrf(client, "/upload")
    r = client.post("/upload", data={"csrf_token": token,
                                     "file": (io.BytesIO(b"x"), "shop.exe")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "upload a CSV" in r.get_data(as_text=True)
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        big = b"product_id,ingredients\n" + b"p,Water\n" * 500
        r = client.post("/upload", data={"csrf_token": token, "file": (io.BytesIO(big), "b.csv")},
                        content_type="multipart/form-data")
        assert r.status_code == 413
        r = client.post("/api/v1/check", json={"ingredients": "Water, " * 300})
        assert r.status_code == 413 and "too large" in r.get_json()["error"]["message"]
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old
    assert client.get("/upload/not-a-token/scored.csv").status_code == 404


# ----------------------------------------------------------------------------- security


def test_security_headers_on_pages_api_and_errors(client):
    for path in ("/", "/api/v1/health", "/nope", "/api/v1/nope"):
        r = client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'none'" in csp and "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "no-referrer"


def test_debug_off_and_no_traceback_on_internal_error(app, client, monkeypatch):
    assert app.debug is False
    from web import services

    def boom(*a, **kw):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(services, "search", boom)
    r = client.get("/api/v1/products?q=x")
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert "secret internal detail" not in body and "Traceback" not in body
    assert r.get_json()["error"]["message"].startswith("internal error")
    r = client.get("/search?q=x")
    assert r.status_code == 500 and "secret internal detail" not in r.get_data(as_text=True)


# ----------------------------------------------------------------------------- API


def test_api_health_protocol_products(client):
    h = client.get("/api/v1/health").get_json()
    assert h["status"] == "ok" and h["catalog"]["demo"] is True and h["catalog"]["products"] >= 30
    p = client.get("/api/v1/protocol").get_json()
    assert p["protocol"]["name"] == "skinrec-default" and p["custom"] is False
    assert any(r["id"] == "retinoid" and r["source"] for r in p["protocol"]["rules"])
    prod = client.get(f"/api/v1/products/{RETINOL}").get_json()
    assert prod["name"].startswith("Retinol Night Serum") and "Retinol" in prod["ingredients"]
    s = client.get("/api/v1/products?q=retin&field=ingredient").get_json()
    assert RETINOL in [x["product_id"] for x in s["products"]]
    r = client.get("/api/v1/products/does-not-exist")
    assert r.status_code == 404 and "does-not-exist" in r.get_json()["error"]["message"]
    assert client.get("/api/v1/products?limit=0").status_code == 400
    assert client.get("/api/v1/products?field=color").status_code == 400


def test_api_check_text_and_product(client):
    r = client.post("/api/v1/check", json={"ingredients": f"Water, Retinol, {SCRIPT}", "day": 2})
    assert r.status_code == 200
    d = r.get_json()
    assert d["verdict"] == "avoid" and d["safe_from_day"] == 7
    flag = next(f for f in d["flags"] if f["rule"] == "retinoid")
    assert (flag["ingredient"], flag["position"], flag["until_day"]) == ("Retinol", 2, 7)
    assert flag["source"] and flag["reason"]
    assert [x["verdict"] for x in d["daily"][:6]] == ["avoid"] * 5 + ["suitable"]
    assert d["disclaimer"]
    r = client.post("/api/v1/check", json={"product_id": RETINOL, "hours": 200})
    assert r.status_code == 200 and r.get_json()["verdict"] == "suitable"
    assert r.get_json()["product"]["product_id"] == RETINOL


@pytest.mark.parametrize("body,status,words", [
    ("{not json", 400, "not valid JSON"),
    ("[1, 2]", 400, "JSON object"),
    ("", 400, "empty"),
    ("[" * 100_000, 400, "nested too deeply"),
    ('{"ingredients": "Water", "day": NaN}', 400, "finite"),
    (b"\xff\xfe{", 400, "not valid JSON"),
    ({"ingredients": "Water", "day": "2"}, 400, "day must be a number"),
    ({"ingredients": "Water", "day": -1}, 400, "day must be >= 0"),
    ({"ingredients": "Water", "day": 1, "hours": 3}, 400, "not day and hours"),
    ({"ingredients": "Water", "pregnant": "yes"}, 400, "pregnant must be true or false"),
    ({"ingredients": "Water", "concerns": ["acne", 3]}, 400, "concerns must be"),
    ({"ingredients": "Water", "concerns": "glowiness"}, 400, "unknown concern"),
    ({"ingredients": "Water", "modality": "laser"}, 400, "unknown modality"),
    ({"ingredients": 42}, 400, "ingredients must be a string"),
    ({"day": 1}, 400, "either ingredients"),
    ({"ingredients": "Water", "treated_on": "2026-13-40"}, 400, "YYYY-MM-DD"),
    ({"ingredients": "Water", "treated_on": "2999-01-01"}, 400, "in the future"),
    ({"product_id": "nope"}, 404, "no product"),
    ({"ingredients": ""}, 422, "no ingredient list"),
    ({"ingredients": "N/A"}, 422, "no ingredient list"),
])
def test_api_check_errors(client, body, status, words):
    if isinstance(body, str | bytes):
        r = client.post("/api/v1/check", data=body, content_type="application/json")
    else:
        r = client.post("/api/v1/check", json=body)
    assert r.status_code == status, r.get_data(as_text=True)
    err = r.get_json()["error"]
    assert err["status"] == status and words in err["message"]
    assert "Traceback" not in r.get_data(as_text=True)


def test_api_unknown_route_and_method_are_json(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["status"] == 404
    r = client.get("/api/v1/check")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert r.get_json()["error"]["status"] == 405


def test_api_recommend_day1_never_recommends_an_open_avoid_window(client):
    d = client.post("/api/v1/recommend", json={"day": 1, "k": 50}).get_json()
    assert RETINOL not in ids_in(d, "use_now") and RETINOL in ids_in(d, "later")
    assert all(it["verdict"] != "avoid" for it in d["use_now"])
    retinol = next(it for it in d["later"] if it["product_id"] == RETINOL)
    assert retinol["safe_from_day"] == 7
    assert any(f["ingredient"] == "Retinol" and f["open"] for f in retinol["flags"])
    d7 = client.post("/api/v1/recommend", json={"day": 7, "k": 50}).get_json()
    assert RETINOL in ids_in(d7, "use_now")
    assert client.post("/api/v1/recommend", json={"k": 0}).status_code == 400
    assert client.post("/api/v1/recommend", json={"budget": -5}).status_code == 400
    cheap = client.post("/api/v1/recommend", json={"day": 7, "budget": 15, "k": 50}).get_json()
    assert cheap["use_now"] and all(it["price"] <= 15 for it in cheap["use_now"])


def _whole_answer(app, body: dict) -> dict:
    """The recommend answer for ``body`` as services.recommend_for gives it (flags as dicts),
    with the disclaimer the API adds: what the API's text must encode."""
    from web import services
    from web.params import person_from
    from web.state import get_state

    with app.app_context():
        st = get_state()
        whole = services.recommend_for(st, person_from(body, st.protocol),
                                       k=body.get("k", 10), budget=body.get("budget"))
    whole.setdefault("disclaimer", DISCLAIMER)
    return whole


@pytest.mark.parametrize("body", [
    {"day": 1, "k": 50},
    {"day": 2.5, "depth": 0.75, "concerns": ["acne", "redness"], "skin_type": "dry", "k": 50},
    {"hours": 30, "depth": 1.5, "avoid": ["fragrance", "Limonene"], "pregnant": True, "k": 50},
    {"day": 4, "depth": 0.6, "modality": "rf", "avoid": "niacinamide", "budget": 30.0},
])
def test_api_recommend_flags_kept_as_text_are_the_answer_encoded_whole(app, body):
    """The recommend answer holds its items' flags as kept JSON text (web.json_provider
    shared_lists): byte for byte what encoding the whole answer gives, asked twice (the
    second time from the kept text)."""
    import orjson

    from web.json_provider import OPTIONS

    client = app.test_client()
    first = client.post("/api/v1/recommend", json=body)
    again = client.post("/api/v1/recommend", json=body)
    whole = _whole_answer(app, body)
    assert any(it["flags"] for name in ("use_now", "later", "avoid") for it in whole[name])
    assert first.data == again.data == orjson.dumps(whole, option=OPTIONS)


def test_api_recommend_reworded_flags_are_the_answer_encoded_whole(app):
    """Another depth of the same depth factor re-words the kept flags (recommender.scoring.kept
    RewordedFlag) and their text is the kept text with the new reason put in
    (web.json_provider): byte for byte what encoding the whole answer gives, for reasons
    holding quotes and markup too."""
    import orjson

    from recommender.scoring.kept import RewordedFlag
    from web.json_provider import OPTIONS, shared_lists

    client = app.test_client()
    client.post("/api/v1/recommend", json={"day": 3, "depth": 1.0, "k": 50})
    for depth in (0.8, 0.66, 0.8):
        body = {"day": 3, "depth": depth, "k": 50}
        got = client.post("/api/v1/recommend", json=body)
        whole = _whole_answer(app, body)
        flags = [f for name in ("use_now", "later", "avoid") for it in whole[name]
                 for f in it["flags"]]
        reworded = [f for f in flags if type(f) is RewordedFlag]
        assert reworded and f" after {depth:g} mm needling" in reworded[0]["reason"]
        assert got.data == orjson.dumps(whole, option=OPTIONS)
    odd = RewordedFlag(reworded[0].base)
    odd["reason"] = 'a "quoted" <script>alert(1)</script> reason \u00e9 \\ end'
    odd.base = reworded[0].base
    assert orjson.dumps(shared_lists([[odd]])[0]) == b"[" + orjson.dumps(dict(odd), option=OPTIONS) + b"]"


def test_api_recommend_flags_reworded_once_are_written_not_kept(app):
    """A depth asked after the re-worded answers kept per product are taken (kept
    REWORDED_KEPT, here by 0.8 and 0.66 mm, as often asked as it) is re-worded anew on every
    request (RewordedFlag.once): its lists are written as the whole answer encodes them, but
    not kept by web.json_provider (they would only push out lists asked again); the lists of
    the kept answers are."""
    import orjson

    from recommender.scoring.kept import REWORDED_KEPT, RewordedFlag
    from web import json_provider
    from web.json_provider import OPTIONS

    client = app.test_client()
    # one depth factor (1.0): 1.0 mm's is the kept answer, 0.8 and 0.66 mm (asked 3 times
    # each) take the re-worded ones kept; 0.7 mm, asked less, is re-worded on every request
    usual = (0.8, 0.66)
    assert len(usual) == REWORDED_KEPT
    for depth in (1.0, *usual * 3):
        client.post("/api/v1/recommend", json={"day": 3, "depth": depth, "k": 50})
    for depth, once in ((0.7, True), (0.8, False)):
        body = {"day": 3, "depth": depth, "k": 50}
        got = client.post("/api/v1/recommend", json=body)
        whole = _whole_answer(app, body)
        assert got.data == orjson.dumps(whole, option=OPTIONS)
        lists = [it["flags"] for name in ("use_now", "later", "avoid") for it in whole[name]
                 if any(type(f) is RewordedFlag for f in it["flags"])]
        assert lists and all(any(type(f) is RewordedFlag and f.once for f in fl) is once
                             for fl in lists)
        json_provider.shared_lists(lists)
        kept = [tuple(map(id, fl)) in json_provider._TEXTS for fl in lists]
        assert not any(kept) if once else all(kept)


def test_api_score_ids_and_inline(client):
    d = client.post("/api/v1/score", json={"day": 3, "product_ids": [RETINOL, HYDRATOR]}).get_json()
    assert [x["verdict"] for x in d["results"]] == ["avoid", "suitable"]
    assert d["results"][0]["safe_from_day"] == 7 and d["results"][0]["concerns"]["acne"] is not None
    d = client.post("/api/v1/score", json={"products": [{"ingredients": "Water, Parfum"}],
                                           "day": 2}).get_json()
    assert d["results"][0]["verdict"] == "avoid" and d["results"][0]["safe_from_day"] == 3
    assert client.post("/api/v1/score", json={"product_ids": ["nope"]}).status_code == 404
    assert client.post("/api/v1/score", json={"product_ids": []}).status_code == 400
    assert client.post("/api/v1/score", json={"products": [{"name": "x"}]}).status_code == 400
    many = {"product_ids": [HYDRATOR] * 101}
    assert client.post("/api/v1/score", json=many).status_code == 400


def test_api_treated_on_gives_dates(client):
    yesterday = today() - timedelta(days=1)
    d = client.post("/api/v1/check", json={"product_id": RETINOL,
                                           "treated_on": yesterday.isoformat()}).get_json()
    assert d["person"]["day"] == 1
    assert d["safe_from_date"] == (yesterday + timedelta(days=7)).isoformat()


def test_openapi_document_covers_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
        assert path in paths, f"{rule.rule} missing from the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = paths[path][method.lower()]
            assert "200" in op["responses"] and "default" in op["responses"]
    for path, ops in paths.items():
        for op in ops.values():
            for code, resp in op["responses"].items():
                ref = resp.get("$ref", "")
                if code != "200":
                    assert ref.startswith("#/components/responses/E"), (path, code)
    assert doc["paths"]["/check"]["post"]["responses"].keys() >= {"400", "404", "413", "422"}


# ----------------------------------------------------------------------------- clinic protocol


def test_clinic_protocol_changes_api_and_pages(client, clinic_client):
    """Default: retinoid until day 7. Clinic file: until day 5 (not before)."""
    def verdict(c, day):
        return c.post("/api/v1/check", json={"product_id": RETINOL, "day": day}).get_json()

    assert verdict(client, 5)["verdict"] == "avoid"
    assert verdict(client, 7)["verdict"] == "suitable"
    assert verdict(clinic_client, 4.9)["verdict"] == "avoid"
    clinic5 = verdict(clinic_client, 5)
    assert clinic5["verdict"] == "suitable" and clinic5["protocol"]["name"] == "example-clinic"

    rec = clinic_client.post("/api/v1/recommend", json={"day": 4, "k": 50}).get_json()
    item = next(it for it in rec["later"] if it["product_id"] == RETINOL)
    assert item["safe_from_day"] == 5
    rec5 = clinic_client.post("/api/v1/recommend", json={"day": 5, "k": 50}).get_json()
    assert RETINOL in ids_in(rec5, "use_now")

    assert clinic_client.get("/api/v1/health").get_json()["protocol"]["name"] == "example-clinic"
    assert clinic_client.get("/api/v1/protocol").get_json()["custom"] is True
    html = clinic_client.get("/?go=1&day=4&k=50").get_data(as_text=True)
    assert "From day 5" in section(html, "later") and "example-clinic" in html
    page = clinic_client.get(f"/check?product_id={RETINOL}&day=2").get_data(as_text=True)
    assert "safe from <strong>day 5</strong>" in page and "ramcoadvanced" in page


def test_unreadable_or_unrecognised_lists_are_not_vouched_for(tmp_path):
    catalog = tmp_path / "c.csv"
    catalog.write_text('product_id,name,ingredients\na,Plain,"Water, Glycerin"\n'
                       'b,Mystery,"Zorblax, Quinterine, Flamboozle, Water"\nc,Empty,N/A\n')
    c = create_app({"CATALOG": str(catalog)}).test_client()
    html = c.get("/?go=1&day=3").get_data(as_text=True)
    avoid = section(html, "avoid")
    assert "Mystery" in avoid and "Empty" in avoid and "Plain" not in avoid
    assert "v-suitable" not in avoid and "post-procedure friendly" not in avoid
    assert "Zorblax" in avoid and "not recognised" in avoid
    assert "demo data" not in html
    page = c.get("/check?product_id=b").get_data(as_text=True)
    assert "3 of 4 ingredient names are not recognised" in page


def test_favicon_is_no_content_not_an_error(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 204 and r.data == b""
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
