"""The web app serving a real catalog (sephora_2023 by name), found by product id.

Needs the shared data directory (skips without it, fails under CI=true). Marked slow too:
the app prepares the whole catalog once (PreparedCatalog reads every list; ~1.5 min on the
2-core test machine); each request after that takes well under a second.
"""

from __future__ import annotations

import pytest

from web import create_app

pytestmark = [pytest.mark.data, pytest.mark.slow]

RETINOL_SERUM = "P433469"      # Algenist ELEVATE Advanced Retinol Serum (retinol 8th)
PLAIN_CLEANSER = "P470007"     # Caudalie Vinoclean Gentle Foam Cleanser
GLYCOLIC_RETINOL = "P442542"   # 10% Glycolic Acid, 0.5% Retinol ...


@pytest.fixture(scope="module")
def client(data_dir, tmp_path_factory):
    app = create_app({"CATALOG": "sephora_2023", "PROTOCOL": None,
                      "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))})
    return app.test_client()


def test_serves_sephora_by_name(client):
    h = client.get("/api/v1/health").get_json()
    assert h["catalog"]["source"] == "sephora_2023" and h["catalog"]["demo"] is False
    assert h["catalog"]["products"] > 8000
    p = client.get(f"/api/v1/products/{RETINOL_SERUM}").get_json()
    assert "Retinol" in p["name"] and "Retinol" in p["ingredients"]
    html = client.get("/").get_data(as_text=True)
    assert "demo data" not in html and "sephora_2023" in html


def test_check_real_retinoid_product(client):
    d = client.post("/api/v1/check", json={"product_id": RETINOL_SERUM, "day": 2}).get_json()
    assert d["verdict"] == "avoid" and d["safe_from_day"] >= 7
    retinoid = [f for f in d["flags"] if f["rule"] == "retinoid"]
    assert retinoid and all(f["ingredient"] and f["position"] and f["source"] for f in retinoid)
    later = client.post("/api/v1/check", json={"product_id": RETINOL_SERUM,
                                               "day": d["safe_from_day"]}).get_json()
    assert later["verdict"] != "avoid"
    html = client.get(f"/check?product_id={GLYCOLIC_RETINOL}&day=3").get_data(as_text=True)
    assert "Glycolic Acid" in html and "retinoid" in html and 'class="chart timeline"' in html


def test_search_and_compare_real_products(client):
    s = client.get("/api/v1/products?q=caudalie&field=brand&limit=200").get_json()
    assert PLAIN_CLEANSER in [p["product_id"] for p in s["products"]]
    html = client.get(f"/compare?id={RETINOL_SERUM}&id={PLAIN_CLEANSER}&day=2") \
        .get_data(as_text=True)
    assert "Retinol" in html and "Vinoclean" in html


def test_recommend_whole_catalog_never_recommends_an_open_avoid_window(client):
    d = client.post("/api/v1/recommend", json={"day": 2, "k": 20, "concerns": "dryness"}).get_json()
    assert d["counts"]["rows"] > 8000 and d["use_now"]
    assert all(it["verdict"] != "avoid" for it in d["use_now"])
    assert all(it["safe_from_day"] > 2 for it in d["later"])
