"""`skinrec regimen`: the CLI face of the regimen builder. Bad input -> one clear line and
exit code 2, never a traceback; outputs written whole (temp file, then rename) or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from recommender.cli import main

pytestmark = pytest.mark.data

IDS = ["P442540", "P440486", "P456410", "P232327", "P433887", "P479304", "P474304",
       "P500113", "P469515", "P416824"]


@pytest.fixture(scope="module")
def shelf_csv(catalogs, tmp_path_factory):
    df = catalogs("sephora_2023")
    rows = df[df["product_id"].isin(IDS)]
    path = tmp_path_factory.mktemp("shelf") / "shelf.csv"
    rows.to_csv(path, index=False)
    return path


def run(*args, input=None):
    return CliRunner().invoke(main, ["regimen", *map(str, args)], input=input)


def assert_usage_error(res, *words):
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    low = res.output.lower()
    for w in words:
        assert w.lower() in low, (w, res.output)


def test_build_writes_json_html_ics_and_reload_rerenders(shelf_csv, tmp_path):
    html_out, ics_out = tmp_path / "handout.html", tmp_path / "plan.ics"
    res = run("--shelf", shelf_csv, "--treated", "2026-03-02", "--concerns", "dryness",
              "--clinic", "Clinic Nord", "--json", "--html", html_out, "--ics", ics_out)
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    assert {"days", "reintroduce", "conflicts", "stop_before_next"} <= set(plan)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handout.html", "plan.ics"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(html_out.stat().st_mode) == 0o666 & ~mask    # an ordinary file, not 0600
    page = html_out.read_text(encoding="utf-8")
    assert "Clinic Nord" in page and plan["protocol"]["version"] in page
    cal = Calendar.from_ical(ics_out.read_bytes())
    assert len(list(cal.walk("VEVENT"))) == sum(
        r["status"] == "from_day" for r in plan["reintroduce"])
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(plan), encoding="utf-8")
    again = tmp_path / "again.html"
    res = run("--load", saved, "--html", again, "--clinic", "Clinic Nord")
    assert res.exit_code == 0, res.output
    assert again.read_text(encoding="utf-8") == page


def test_text_summary_by_default(shelf_csv):
    res = run("--shelf", shelf_csv, "--treated", "2026-03-02")
    assert res.exit_code == 0, res.output
    assert "Day 0 (first 24 hours)" in res.output and "Not medical advice" in res.output


def test_products_from_the_catalog(tmp_path):
    res = run("--products", "sephora_2023:P442540,sephora_2023:P456410", "--treated",
              "2026-03-02", "--json", "--next-session", "2026-04-13")
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    assert plan["next_session"]["date"] == "2026-04-13"
    retinol = next(r for r in plan["reintroduce"] if r["product_id"] == "sephora_2023:P442540")
    assert retinol["date"] == (dt.date(2026, 3, 2) + dt.timedelta(days=7)).isoformat()


@pytest.mark.parametrize(("content", "words"), [
    ("", ["empty"]),
    ("product_id,name,category\nx1,Cream,Moisturizers\n", ["no ingredients column"]),
    ("product_id,name,ingredients\n", ["no products"]),
    ("product_id,name,ingredients\na,A,Water\na,B,Glycerin\n", ["appears twice"]),
    ("product_id,name,ingredients,step\na,A,Water,serum\n", ["unknown step"]),
])
def test_bad_shelf_csv(tmp_path, content, words):
    path = tmp_path / "shelf.csv"
    path.write_text(content, encoding="utf-8")
    assert_usage_error(run("--shelf", path, "--treated", "2026-03-02"), *words)


@pytest.mark.parametrize(("args", "words"), [
    (["--products", "sephora_2023:NOPE123", "--treated", "2026-03-02"], ["no product with id"]),
    (["--products", "acme:1", "--treated", "2026-03-02"], ["unknown catalog"]),
    (["--products", "P442540", "--treated", "2026-03-02"], ["catalog:id"]),
    (["--treated", "2026-03-02"], ["--shelf"]),
    (["--products", "sephora_2023:P442540"], ["--treated"]),
    (["--products", "sephora_2023:P442540", "--treated", "02/03/2026"], ["YYYY-MM-DD"]),
    (["--products", "sephora_2023:P442540", "--treated", "2026-03-02", "--concerns", "glow"],
     ["unknown concern"]),
    (["--products", "sephora_2023:P442540", "--treated", "2026-03-02", "--next-session",
      "2026-03-01"], ["next session"]),
    (["--products", "sephora_2023:P442540", "--treated", "2026-03-02", "--depth", "-1"],
     ["depth"]),
])
def test_bad_arguments(args, words):
    assert_usage_error(run(*args), *words)


def test_missing_shelf_file_and_unwritable_output(shelf_csv, tmp_path):
    assert_usage_error(run("--shelf", tmp_path / "nope.csv", "--treated", "2026-03-02"),
                       "cannot read")
    target = tmp_path / "no-such-dir" / "out.html"
    assert_usage_error(run("--shelf", shelf_csv, "--treated", "2026-03-02", "--html", target),
                       "cannot write")
    assert not (tmp_path / "no-such-dir").exists()


def test_bad_saved_plan(tmp_path):
    p = tmp_path / "plan.json"
    p.write_text("{not json", encoding="utf-8")
    assert_usage_error(run("--load", p, "--html", tmp_path / "x.html"), "not JSON")
    p.write_text(json.dumps({"schema": "other"}), encoding="utf-8")
    assert_usage_error(run("--load", p, "--html", tmp_path / "x.html"), "not a skinrec regimen")
    assert not (tmp_path / "x.html").exists()
    assert_usage_error(run("--load", p, "--treated", "2026-03-02"), "--load")


def test_damaged_saved_plan_is_refused_whole(shelf_csv, tmp_path):
    res = run("--shelf", shelf_csv, "--treated", "2026-03-02", "--json")
    plan = json.loads(res.stdout)
    del plan["days"][3]["am"][0]["step"]
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan), encoding="utf-8")
    res = run("--load", p, "--html", tmp_path / "x.html", "--ics", tmp_path / "x.ics")
    assert_usage_error(res, "incomplete or damaged")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["plan.json"]


def test_example_shelf_needs_no_data_directory():
    """data/regimen/example_shelf.csv (authored lists, no catalog copy): the README example."""
    from recommender import config

    shelf = config.AUTHORED_DATA_DIR / "regimen" / "example_shelf.csv"
    res = run("--shelf", shelf, "--treated", "2026-03-02", "--json")
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    back = {r["product_id"]: r for r in plan["reintroduce"]}
    assert back["ex-retinol"]["first_day"] == 7 and back["ex-retinol"]["date"] == "2026-03-09"
    day1 = plan["days"][1]
    assert next(p for p in day1["am"] if p["step"] == "protect")["product_id"] == "ex-mineral"
    rules = {c["rule"] for c in plan["conflicts"]}
    assert {"retinoid_acid", "retinoid_benzoyl_peroxide"} <= rules
