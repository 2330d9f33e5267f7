"""recommend: use now / later / avoid over whole real catalogs.

The safety property (DESIGN.md "How good is good"): no product with an open avoid window is
ever recommended. It is checked over every product of cosmetics_2017 and lookfantastic_2020
with k large enough to list every product, each use-now item re-checked independently with
the safety engine (recommender.check), in several contexts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from recommender.cli import main
from recommender.recommend import MAX_UNRECOGNIZED_SHARE, recommend
from recommender.safety import assess, load_protocol
from recommender.scoring import make_score_context as _make

pytestmark = pytest.mark.data

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"
ALL = 100_000


def make_score_context(**kw):
    """The lists' safety does not depend on the learned models: run without them (fast)."""
    kw.setdefault("use_models", False)
    return _make(**kw)


@pytest.fixture(scope="module")
def parsed(catalogs):
    """Each catalog's lists read once (the independent check re-assesses them per context)."""
    from recommender.knowledge.reader import default_reader

    cache: dict = {}

    def get(catalog: str):
        if catalog not in cache:
            reader = default_reader()
            cache[catalog] = [reader.read(t) for t in catalogs(catalog)["ingredients"]]
        return cache[catalog]

    return get


CONTEXTS = [
    {"day": 2},
    {"day": 4, "depth": 1.5, "avoid": "niacinamide, fragrance"},
    {"hours": 20},                                   # inside the first 24 h: nothing now
    {"day": 10, "pregnant": True, "modality": "rf"},
]


@pytest.mark.parametrize(("catalog", "ctx_args"), [
    *[("cosmetics_2017", c) for c in CONTEXTS],
    ("lookfantastic_2020", CONTEXTS[0]),
])
def test_no_open_avoid_window_in_use_now(catalogs, parsed, catalog, ctx_args):
    df = catalogs(catalog)
    lists = parsed(catalog)
    ctx = make_score_context(**ctx_args)
    res = recommend(df, ctx, k=ALL)
    t = ctx.safety.t

    def independent(item):
        """The safety engine's own assessment of a recommended item (found by its row)."""
        i = item["row"] - 1
        src = df.iloc[i]
        assert str(src["product_id"]) == str(item["product_id"])
        a = assess(lists[i], ctx.safety, ctx.active_protocol, name=src["name"],
                   category=src["category"])
        return lists[i], a

    counts = res["counts"]
    assert counts["use_now"] + counts["later"] + counts["avoid"] == counts["rows"] == len(df)
    if t < 1:
        assert res["use_now"] == []
    else:
        assert len(res["use_now"]) > 50
    for item in res["use_now"]:
        _, a = independent(item)
        assert a.verdict in ("suitable", "caution"), item
        assert a.safe_from_day is not None and a.safe_from_day <= t, item
        assert item["verdict"] == a.verdict
    for item in res["later"]:
        _, a = independent(item)
        assert a.verdict == "avoid" and a.safe_from_day is not None and a.safe_from_day > t
    for item in res["avoid"]:
        p, a = independent(item)
        unknown = len(p.unrecognized) / max(len(p.ingredients), 1)
        assert a.safe_from_day is None or not p.found or unknown > MAX_UNRECOGNIZED_SHARE


def test_lists_are_ranked_and_complete(catalogs):
    df = catalogs("cosmetics_2017")
    res = recommend(df, make_score_context(day=3), k=15)
    assert set(res) >= {"use_now", "later", "avoid", "counts", "context", "disclaimer"}
    for name in ("use_now", "later", "avoid"):
        assert len(res[name]) == 15
        for it in res[name]:
            assert {"product_id", "name", "score", "verdict", "safe_from_day", "reasons"} <= set(it)
            assert it["reasons"]
    scores = [it["score"] for it in res["use_now"]]
    assert scores == sorted(scores, reverse=True)
    days = [it["safe_from_day"] for it in res["later"]]
    assert days == sorted(days) and all(d > 3 for d in days)
    assert all(it["reasons"][0] == f"from day {it['safe_from_day']:g}" for it in res["later"])
    assert res["use_now"][0]["product_id"].startswith("cosmetics_2017:")


def test_unreadable_and_unrecognised_lists_go_to_avoid(catalogs):
    df = catalogs("cosmetics_2017")
    res = recommend(df, make_score_context(day=30), k=ALL)
    avoid = {it["product_id"]: it for it in res["avoid"]}
    # ingredients field "* Essential Oil": the footnote of a list the scrape lost, no list
    oil = avoid["cosmetics_2017:90"]
    assert oil["reasons"][0].startswith("No ingredient list could be read")
    unknown = avoid["cosmetics_2017:714"]          # 5 of its 8 names are marketing names
    assert unknown["reasons"][0].startswith("cannot be checked: 5 of 8 ingredient names")
    now = {it["product_id"] for it in res["use_now"]}
    assert "cosmetics_2017:90" not in now and "cosmetics_2017:714" not in now


def test_avoid_list_and_pregnancy_fill_the_avoid_list(catalogs):
    df = catalogs("cosmetics_2017")
    res = recommend(df, make_score_context(day=30, pregnant=True), k=ALL)
    retinoid = {it["product_id"]: it for it in res["avoid"]}["cosmetics_2017:1068"]
    assert retinoid["never_safe"] and retinoid["safe_from_day"] is None
    assert any("pregnan" in r for r in retinoid["reasons"])


def test_clinic_protocol_changes_recommendations(catalogs):
    """Hydroxypinacolone retinoate (cosmetics_2017:1068): day 7 by default, day 5 at the clinic."""
    df = catalogs("cosmetics_2017")
    pid = "cosmetics_2017:1068"
    default = recommend(df, make_score_context(day=5.5), k=ALL)
    clinic = recommend(df, make_score_context(day=5.5, protocol=load_protocol(CLINIC)), k=ALL)
    later = {it["product_id"]: it for it in default["later"]}
    assert later[pid]["safe_from_day"] == 7
    assert pid not in {it["product_id"] for it in clinic["later"]}
    assert clinic["context"]["protocol"] == {"name": "example-clinic", "version": "2026.03"}
    assert default["counts"]["use_now"] < clinic["counts"]["use_now"]


def test_budget(catalogs):
    from recommender.catalogs import load_catalog

    df = load_catalog("sephora_2023", keep_all=True).iloc[:400]
    res = recommend(df, make_score_context(day=10), k=ALL, budget=25,
                    columns={"price": "price_usd"})
    assert res["use_now"] and all(it["price"] <= 25 for it in res["use_now"] + res["later"])
    assert res["excluded"]["over_budget"] > 0
    with pytest.raises(ValueError):
        recommend(df, make_score_context(), budget=-1)


def test_cli_recommend(tmp_path, catalogs):
    runner = CliRunner()
    res = runner.invoke(main, ["recommend", "--catalog", "lookfantastic_2020", "--day", "3",
                               "--concerns", "dryness", "-k", "4", "--json", "--no-models"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [len(out[n]) for n in ("use_now", "later", "avoid")] == [4, 4, 4]
    assert out["context"]["concerns"] == ["dryness"]
    assert out["model_versions"]["concern_model_version"] == "unavailable"
    assert any("concern model is not available" in w for w in out["warnings"])
    df = catalogs("cosmetics_2017").head(40)
    path = tmp_path / "shelf.csv"
    df.to_csv(path, index=False)
    with open(path, "a") as fh:
        fh.write("broken,row\n")
    res = runner.invoke(main, ["recommend", "--catalog", str(path), "--day", "2", "-k", "3",
                               "--concerns", "dryness,acne", "--skin-type", "dry"])
    assert res.exit_code == 0, res.output
    assert "USE NOW" in res.stdout and "LATER" in res.stdout and "Not medical advice" in res.stdout
    assert "1 catalog row(s) could not be read" in res.stdout
    res = runner.invoke(main, ["recommend", "--catalog", str(path), "--concerns", "glow"])
    assert res.exit_code == 2 and "unknown concern" in res.output
