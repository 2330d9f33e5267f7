"""`skinrec check` end to end, as a user runs it: real labels, bad input, a clinic protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from recommender.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
INGREDIENT_KEYS = {"raw", "inci", "position", "recognized", "match", "match_score", "classes",
                   "section", "component"}
FLAG_KEYS = {"scope", "ingredient", "inci", "position", "class", "rule", "severity", "until_day",
             "reason", "source", "evidence"}


@pytest.fixture()
def runner():
    return CliRunner()


def run(runner, *args, input=None):
    result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def test_check_json_contract_on_a_real_retinol_product(runner, product):
    text = product("sephora_2023", "P442542")  # 10% Glycolic Acid, 0.5% Retinol ...
    r = run(runner, "check", text, "--day", "3", "--json")
    assert r.exit_code == 0, r.output
    obj = json.loads(r.output.splitlines()[0])
    assert obj["verdict"] == "avoid" and obj["safe_from_day"] == 7.0
    assert obj["protocol"]["name"] and obj["protocol"]["version"]
    for ing in obj["ingredients"]:
        assert set(ing) >= INGREDIENT_KEYS
        assert ing["recognized"] == (ing["match"] in ("exact", "alias"))
    assert isinstance(obj["unrecognized"], list)
    rules = {f["rule"] for f in obj["flags"]}
    assert {"retinoid", "aha", "first_24h"} <= rules
    for f in obj["flags"]:
        assert set(f) >= FLAG_KEYS
        if f["scope"] == "ingredient":
            assert f["ingredient"] and f["position"] >= 1 and f["rule"] and f["source"]
        else:
            assert f["ingredient"] is None
    retinol = next(f for f in obj["flags"] if f["rule"] == "retinoid")
    assert retinol["inci"] == "RETINOL" and "Retinol" in retinol["ingredient"]
    assert "disclaimer" in obj


def test_hours_and_days_agree(runner, product):
    text = product("sephora_2023", "P442542")
    a = json.loads(run(runner, "check", text, "--day", "1.5", "--json").output)
    b = json.loads(run(runner, "check", text, "--hours", "36", "--json").output)
    assert a["verdict"] == b["verdict"] and a["safe_from_day"] == b["safe_from_day"]
    assert a["flags"] == b["flags"]


def test_file_one_result_per_line_and_missing_lists_exit_2(runner, product, tmp_path):
    good = product("cosmetics_2017", "cosmetics_2017:3")
    placeholder = product("cosmetics_2017", "cosmetics_2017:39")  # "#NAME?"
    f = tmp_path / "lists.txt"
    f.write_text(f"{good}\n{placeholder}\n{good}\n", encoding="utf-8")
    r = run(runner, "check", "--file", str(f), "--json")
    assert r.exit_code == 2
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["input"] for x in lines] == ["line 1", "line 2", "line 3"]
    assert lines[1]["error"] == "no ingredient list found" and lines[1]["status"] == "placeholder"
    assert lines[0]["ingredients"] and lines[2]["ingredients"]
    assert "line 2" in r.stderr


def test_stdin(runner, product):
    text = product("cosmetics_2017", "cosmetics_2017:3")
    r = run(runner, "check", "--file", "-", "--json", input=text + "\n")
    assert r.exit_code == 0
    assert len(r.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\n\n",
        b"\x00\x01\x02\x03binary\xff\xfe" * 100,
        ("Water, Glycerin, " * 70000).encode(),  # > 1 MB
        b"This serum is made with love and helps your skin to glow for all skin types.",
        b"Visit the Shiseido boutique",
    ],
    ids=["empty", "blank-lines", "binary", "1MB", "prose", "placeholder"],
)
def test_bad_input_exits_2_without_traceback(runner, tmp_path, payload):
    f = tmp_path / "in.txt"
    f.write_bytes(payload)
    r = runner.invoke(main, ["check", "--file", str(f)])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert "no ingredient list" in r.output


def test_non_utf8_file_is_read_as_cp1252_with_a_warning(runner, tmp_path):
    f = tmp_path / "latin.txt"
    f.write_bytes("Aqua, Glycerin, Cr\u00e8me Extract, Niacinamide".encode("cp1252"))
    r = run(runner, "check", "--file", str(f), "--json")
    assert r.exit_code == 0
    assert "cp1252" in r.stderr
    obj = json.loads(r.stdout)
    assert obj["ingredients"][0]["inci"] == "AQUA"


def test_text_output_reads_well(runner, product):
    r = run(runner, "check", product("sephora_2023", "P442542"), "--day", "3")
    assert r.exit_code == 0
    out = r.output
    assert "verdict: AVOID" in out
    assert "RETINOL" in out and "[retinoid]" in out
    assert "Not medical advice" in out


def test_clinic_protocol_changes_check(runner, product):
    """A clinic protocol where retinoids wait until day 5 changes the verdict at day 5."""
    text = "Water, Glycerin, Retinol, Squalane, Tocopherol"  # a plain retinol serum
    clinic = str(FIXTURES / "protocols" / "clinic_retinoid_day5.yaml")
    default = json.loads(run(runner, "check", text, "--day", "5", "--json").output)
    mine = json.loads(run(runner, "check", text, "--day", "5", "--protocol", clinic, "--json").output)
    assert default["verdict"] == "avoid" and default["safe_from_day"] == 7.0
    assert mine["verdict"] == "suitable" and mine["safe_from_day"] == 5.0
    assert mine["protocol"]["name"] != default["protocol"]["name"]


def test_malformed_protocol_is_refused_with_line(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: '1'\nrules: [\n", encoding="utf-8")
    r = runner.invoke(main, ["check", "Water, Glycerin", "--protocol", str(bad)])
    assert r.exit_code == 2
    assert "protocol refused" in r.output and "line" in r.output
    assert "Traceback" not in r.output


def test_avoid_list_resolves_through_canonicalisation(runner):
    r = run(runner, "check", "Water, Nicotinamide, Glycerin", "--day", "10", "--avoid", "vitamin b3", "--json")
    obj = json.loads(r.output)
    assert obj["verdict"] == "avoid" and obj["safe_from_day"] is None
    assert any(f["rule"] == "avoid_list" and f["inci"] == "NIACINAMIDE" for f in obj["flags"])


def test_protocol_command_prints_the_table(runner):
    r = run(runner, "protocol")
    assert r.exit_code == 0
    assert "retinoid" in r.output and "first_24h" in r.output


def test_usage_errors_exit_2(runner):
    assert runner.invoke(main, ["check"]).exit_code == 2
    assert runner.invoke(main, ["check", "Water", "--hours", "5", "--day", "1"]).exit_code == 2
    assert runner.invoke(main, ["check", "Water", "--depth", "-1"]).exit_code == 2
    assert runner.invoke(main, ["check", "Water", "--modality", "laser"]).exit_code == 2


def test_check_reports_learned_fit_and_absorption(runner):
    text = "Water, Niacinamide, Sodium Hyaluronate, Retinol, Palmitoyl Pentapeptide-4"
    obj = json.loads(run(runner, "check", text, "--hours", "6", "--json").output)
    assert set(obj["concerns"]) == {"acne", "dark_spots", "fine_lines_wrinkles", "firmness",
                                    "dullness_texture", "pores", "dryness", "redness",
                                    "dark_circles"}
    assert all(v is None or 0.0 <= v <= 1.0 for v in obj["concerns"].values())
    assert 0.0 <= obj["gentleness"] <= 1.0
    assert obj["model_versions"]["concern_model_version"].startswith("concerns@")
    actives = {a["inci"]: a for a in obj["absorption"]["actives"]}
    assert actives["NIACINAMIDE"]["x_vs_intact"] > 1.0          # channels open at 6 h
    assert actives["PALMITOYL PENTAPEPTIDE-4"]["x_vs_intact"] is None  # outside the Kp model
    # the learned outputs never change the safety verdict
    bare = json.loads(run(runner, "check", text, "--hours", "6", "--json", "--no-models").output)
    assert bare["verdict"] == obj["verdict"] and "concerns" not in bare


@pytest.mark.parametrize("value, expected, warned", [
    ("250000", 250_000, False), ("250_000", 250_000, False), ("lots", 100_000, True),
    ("5", 100_000, True)])
def test_memo_entries_setting(value, expected, warned):
    """SKINREC_MEMO_ENTRIES sizes the per-process memos; a bad value is said and the default
    used, never a traceback (it is read when any command imports the configuration)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SKINREC_MEMO_ENTRIES": value}
    out = subprocess.run([sys.executable, "-c", "from recommender import config; "
                          "print(config.MEMO_ENTRIES)"], env=env, capture_output=True,
                         text=True, check=True, cwd=str(Path(__file__).parent.parent))
    assert int(out.stdout) == expected
    assert ("SKINREC_MEMO_ENTRIES must be a whole number" in out.stderr) is warned
    assert "Traceback" not in out.stderr
