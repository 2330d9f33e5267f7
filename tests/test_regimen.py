"""The regimen builder on realistic shelves of real products (issue #7).

Shelves are pinned by Sephora product id (tests/conftest.py loads the rows from the data
directory): a retinol serum, two acid toners, a vitamin C serum, fragranced creams, a
mineral and a chemical sunscreen, gentle and acid cleansers, hyaluronic/peptide serums, a
benzoyl peroxide treatment. Every assertion is checked against the library's own scoring
path (score_frame) or the protocol file, never against numbers typed into the test.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import pandas as pd
import pytest
from icalendar import Calendar

from recommender import DISCLAIMER
from recommender.knowledge.reader import read_list
from recommender.regimen import (
    Client,
    Regimen,
    RegimenError,
    Treatment,
    build_regimen,
    render_handout,
    shelf_from_catalog,
    to_ics,
)
from recommender.regimen.actives import class_mentions
from recommender.regimen.conflicts import pair_clashes
from recommender.regimen.rules import default_rules
from recommender.safety import default_protocol, load_protocol
from recommender.scoring import make_score_context, score_frame

pytestmark = pytest.mark.data

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"
TREATED = dt.date(2026, 3, 2)

RETINOL_SERUM = "P442540"        # Alpha-H Vitamin A Serum with 0.5% Retinol
GLYCOLIC_TONER = "P440486"       # Mario Badescu Glycolic Acid Toner (category: Cleansers)
LACTIC_TONER = "P469818"         # Freck Cactus Water Cleansing Lactic Acid Toner
VITC_SERUM = "P416824"           # Clinique Fresh Pressed ... Pure Vitamin C 10% (ascorbic acid)
VITC_SERUM_2 = "P467110"         # Biossance Squalane + 10% Vitamin C (3-O-ethyl ascorbic acid)
FRAGRANCED_CREAM = "P394639"     # belif The True Cream Aqua Bomb (fragrance, alcohol denat.)
RETINOID_CREAM = "P384537"       # Algenist GENIUS cream (retinyl palmitate, fragrance)
MINERAL_SPF = "P456410"          # Biossance Squalane + Zinc Sheer Mineral Sunscreen SPF 30
CHEMICAL_SPF = "P232327"         # Clinique Broad Spectrum SPF 50 (oxybenzone, avobenzone ...)
EO_CLEANSER = "P444057"          # belif Aqua Bomb Jelly Cleanser (essential oils)
EO_CLEANSER_2 = "P474304"        # Biossance Squalane + Amino Aloe Gentle Cleanser (essential oils)
ACID_CLEANSER = "P500113"        # Community Sixty-Six AHA/BHA Gel Cleanser
BPO_TREATMENT = "P469515"        # Paula's Choice CLEAR 2.5% Benzoyl Peroxide
BPO_CLEANSER = "P464243"         # Dr. Zenovia 10% Benzoyl Peroxide Acne Cleanser
HA_SERUM = "P472455"             # Caudalie Vinosource-Hydra Hyaluronic Acid Serum (parfum)
PEPTIDE_SERUM = "P479304"        # Biossance Squalane + Copper Peptide Serum
CERAMIDE_CREAM = "P433887"       # Biossance Squalane + Omega Repair Moisturizer (ceramide NP)
NIACINAMIDE_SERUM = "P442539"    # Alpha-H Vitamin B Serum (niacinamide, a pigment)

SHELF_A = [RETINOL_SERUM, GLYCOLIC_TONER, LACTIC_TONER, VITC_SERUM, FRAGRANCED_CREAM,
           RETINOID_CREAM, MINERAL_SPF, CHEMICAL_SPF, EO_CLEANSER, EO_CLEANSER_2, ACID_CLEANSER,
           BPO_TREATMENT, HA_SERUM, PEPTIDE_SERUM, CERAMIDE_CREAM, NIACINAMIDE_SERUM]
# A dark-spots client's shelf: vitamin C, benzoyl peroxide twice, acids, two retinoids.
SHELF_B = [VITC_SERUM_2, BPO_CLEANSER, ACID_CLEANSER, RETINOL_SERUM, BPO_TREATMENT,
           GLYCOLIC_TONER, MINERAL_SPF, CHEMICAL_SPF, CERAMIDE_CREAM, RETINOID_CREAM,
           EO_CLEANSER_2, LACTIC_TONER]
# No sunscreen and no cleanser.
SHELF_C = [RETINOL_SERUM, PEPTIDE_SERUM, CERAMIDE_CREAM, FRAGRANCED_CREAM, VITC_SERUM,
           GLYCOLIC_TONER, HA_SERUM, NIACINAMIDE_SERUM, RETINOID_CREAM, BPO_TREATMENT]


_SHELF_CACHE: dict = {}      # product id -> ingredient field as printed


@pytest.fixture(autouse=True, scope="module")
def _remember_ingredients(catalogs):
    df = catalogs("sephora_2023")
    for pid in set(SHELF_A + SHELF_B + SHELF_C):
        _SHELF_CACHE[pid] = df.loc[df["product_id"] == pid, "ingredients"].iloc[0]


def ref(pid: str) -> str:
    return f"sephora_2023:{pid}"


@pytest.fixture(scope="module")
def shelf(catalogs):
    def get(ids):
        return shelf_from_catalog([ref(i) for i in ids], loader=catalogs)
    return get


@pytest.fixture(scope="module")
def plan_a(shelf):
    return build_regimen(shelf(SHELF_A), Treatment(date=TREATED), Client(concerns=["dryness"]),
                         clinic="Clinic A")


@pytest.fixture(scope="module")
def plan_b(shelf):
    return build_regimen(shelf(SHELF_B), Treatment(date=TREATED), Client(concerns=["dark spots"]))


def independent_scores(shelf_df, plan: Regimen, client: Client, protocol=None) -> dict:
    """(day, product_id) -> score_frame row, scored afresh for each listed day."""
    out = {}
    t = plan.treatment
    for day in plan.days:
        ctx = make_score_context(day=day["day"], depth=t["depth_mm"], modality=t["modality"],
                                 avoid=list(client.avoid) or None, pregnant=client.pregnant,
                                 concerns=list(client.concerns) or None, protocol=protocol)
        scored = score_frame(shelf_df[["product_id", "name", "category", "ingredients"]], ctx)
        for _, r in scored.iterrows():
            out[(day["day"], r["product_id"])] = r
    return out


# ----------------------------------------------------------------------------- safety


@pytest.mark.parametrize("which", ["a", "b", "pregnant_avoid", "deep_rf", "clinic"])
def test_no_product_before_its_safe_day(shelf, which):
    """Every placement on day d: verdict at t=d is not avoid, safe_from_day <= d, not never."""
    protocol = None
    treatment = Treatment(date=TREATED)
    if which == "a":
        ids, client = SHELF_A, Client(concerns=["dryness"])
    elif which == "b":
        ids, client = SHELF_B, Client(concerns=["dark spots"])
    elif which == "pregnant_avoid":
        ids, client = SHELF_A, Client(pregnant=True, avoid=["fragrance", "niacinamide"])
    elif which == "deep_rf":
        ids, client = SHELF_B, Client()
        treatment = Treatment(date=TREATED, depth_mm=1.5, modality="rf")
    else:
        ids, client = SHELF_A, Client()
        protocol = load_protocol(CLINIC)
    df = shelf(ids)
    plan = build_regimen(df, treatment, client, protocol)
    scores = independent_scores(df, plan, client, protocol)
    placed = list(plan.placements())
    assert placed, "the plan placed nothing at all"
    for day, slot, p in placed:
        r = scores[(day["day"], p["product_id"])]
        assert r["verdict"] != "avoid", (day["day"], slot, p["name"])
        assert not r["never_safe"], p["name"]
        assert r["safe_from_day"] <= day["day"], (day["day"], p["name"], r["safe_from_day"])
        assert p["safe_from_day"] == r["safe_from_day"]
    # Day 0: the first 24 hours hold every product back.
    assert all(p["product_id"] is None for s in ("am", "pm") for p in plan.days[0][s])


def test_pregnancy_and_avoid_list_products_never_placed(shelf):
    client = Client(pregnant=True, avoid=["fragrance"])
    plan = build_regimen(shelf(SHELF_A), Treatment(date=TREATED), client)
    never = {r["product_id"]: r for r in plan.reintroduce if r["status"] == "never"}
    for pid in (RETINOL_SERUM, RETINOID_CREAM, FRAGRANCED_CREAM, HA_SERUM):
        assert ref(pid) in never, pid
        assert never[ref(pid)]["reasons"], "a never-safe product says why"
        assert all(w["never"] for w in never[ref(pid)]["reasons"])
    placed = {p["product_id"] for _, _, p in plan.placements()}
    assert not placed & set(never)
    # Nothing never-safe is told to be stopped before the next session (it is never used).
    assert not {s["product_id"] for s in plan.stop_before_next} & set(never)


def test_caution_products_only_when_nothing_suitable(plan_a, shelf):
    """A placement in a caution window (e.g. a cleanser with fragrance allergens, days 3-6)
    means no product of that step was suitable (score_frame, scored afresh) for that slot."""
    scores = independent_scores(shelf(SHELF_A), plan_a, Client(concerns=["dryness"]))
    n = 0
    for day, slot, p in plan_a.placements():
        if p["verdict"] != "caution":
            continue
        n += 1
        assert p["cautions"], "a caution placement prints its open cautions"
        for s in plan_a.shelf:
            if s["step"] != p["step"] or slot not in s["slots"] or s["status"] != "ok":
                continue
            r = scores[(day["day"], s["product_id"])]
            if s["product_id"] != p["product_id"] and r["verdict"] == "suitable":
                assert any(s["name"] in k for k in p["skipped"]), (day["day"], s["name"])
    assert n > 0, "shelf A has caution windows (fragrance allergens until day 7)"


# ----------------------------------------------------------------------------- steps


def test_steps_follow_names_over_categories(plan_a):
    step = {s["product_id"]: s for s in plan_a.shelf}
    # Sephora files these toners under "Cleansers"; the name says toner: a treatment.
    assert step[ref(GLYCOLIC_TONER)]["step"] == "treat"
    assert "toner" in step[ref(GLYCOLIC_TONER)]["step_reason"]
    assert step[ref(LACTIC_TONER)]["step"] == "treat"
    assert step[ref(ACID_CLEANSER)]["step"] == "cleanse"
    assert step[ref(MINERAL_SPF)]["step"] == "protect"
    assert step[ref(CHEMICAL_SPF)]["step"] == "protect"
    assert step[ref(CERAMIDE_CREAM)]["step"] == "moisturize"
    assert step[ref(RETINOL_SERUM)]["slots"] == ["pm"]
    assert step[ref(VITC_SERUM)]["slots"] == ["am"]


def test_protect_is_morning_only_and_mineral_early(plan_a):
    """The protocol cautions chemical UV filters until day 14: the mineral SPF fills AM protect
    while the chemical one is in its caution (or avoid) window."""
    protocol = default_protocol()
    f = protocol.factor(1.0, "mn")
    chem_end = max(s.until for s in protocol.rule("chemical_uv_filter").stages) * f
    mineral = read_list(_SHELF_CACHE[MINERAL_SPF])
    assert any("mineral_uv_filter" in m.classes for m in mineral.ingredients)
    assert not any("chemical_uv_filter" in m.classes for m in mineral.ingredients)
    for day in plan_a.days:
        assert all(p["step"] != "protect" for p in day["pm"])
        protect = next(p for p in day["am"] if p["step"] == "protect")
        if 1 <= day["day"] < chem_end:
            assert protect["product_id"] == ref(MINERAL_SPF), day["day"]
            assert protect["verdict"] == "suitable"


# ----------------------------------------------------------------------------- gaps


def test_shelf_without_sunscreen_or_cleanser_gives_gaps(shelf):
    plan = build_regimen(shelf(SHELF_C), Treatment(date=TREATED), Client())
    rules = default_rules().steps
    for day in plan.days[1:]:
        for slot in ("am", "pm"):
            cleanse = next(p for p in day[slot] if p["step"] == "cleanse")
            assert cleanse["product_id"] is None
            assert cleanse["gap"] == "nothing on your shelf fits; look for: " + \
                rules.step("cleanse").look_for_at(day["day"])
            assert cleanse["gap_reasons"] == ["no cleanse product on the shelf"]
        protect = next(p for p in day["am"] if p["step"] == "protect")
        assert protect["product_id"] is None
        assert "SPF 30+" in protect["gap"]
        if day["day"] < 14:
            assert "mineral" in protect["gap"]


def test_gap_reasons_name_the_waiting_products(plan_a):
    """Days 1-2: both gentle cleansers carry essential oils (avoid until day 3): a gap that
    says so, naming the oil and its position."""
    day1 = plan_a.days[1]
    cleanse = next(p for p in day1["am"] if p["step"] == "cleanse")
    assert cleanse["product_id"] is None
    text = " ".join(cleanse["gap_reasons"])
    assert "not before day 3" in text and "essential oil" in text and "position" in text


# ----------------------------------------------------------------------------- conflicts


def _classes(pid: str):
    return class_mentions(read_list(_SHELF_CACHE[pid]), default_rules().conflicts.ignore)


@pytest.mark.parametrize("fixture", ["plan_a", "plan_b"])
def test_every_same_slot_conflict_is_reported(fixture, request):
    plan = request.getfixturevalue(fixture)
    rules = default_rules().conflicts
    reported = {}
    for c in plan.conflicts:
        ids = tuple(p["product_id"] for p in c["products"])
        reported[(c["rule"], ids)] = c
        reported[(c["rule"], ids[::-1])] = c
    n = 0
    for day in plan.days:
        for slot in ("am", "pm"):
            placed = [p["product_id"] for p in day[slot] if p["product_id"]]
            for i, a in enumerate(placed):
                for b in placed[i + 1:]:
                    for cl in pair_clashes(_classes(a.split(":")[1]), _classes(b.split(":")[1]),
                                           rules):
                        assert cl.rule.severity != "avoid", (day["day"], slot, a, b, cl.rule.id)
                        c = reported[(cl.rule.id, (a, b))]
                        assert c["scope"] == "same_slot"
                        assert {"day": day["day"], "slot": slot,
                                "date": day["date"]} in c["occurrences"]
                        n += 1
    if fixture == "plan_b":
        assert n > 0, "shelf B is built to put a caution pair in one routine"


def test_shelf_conflicts_name_both_products_and_ingredients(plan_a):
    by_pair = {}
    for c in plan_a.conflicts:
        ids = frozenset(p["product_id"] for p in c["products"])
        by_pair.setdefault(ids, set()).add(c["rule"])
    assert "retinoid_acid" in by_pair[frozenset({ref(RETINOL_SERUM), ref(GLYCOLIC_TONER)})]
    assert "retinoid_benzoyl_peroxide" in by_pair[frozenset({ref(RETINOL_SERUM),
                                                             ref(BPO_TREATMENT)})]
    assert "two_exfoliants" in by_pair[frozenset({ref(GLYCOLIC_TONER), ref(LACTIC_TONER)})]
    assert "two_retinoids" in by_pair[frozenset({ref(RETINOL_SERUM), ref(RETINOID_CREAM)})]
    for c in plan_a.conflicts:
        assert c["source"] and c["evidence"]
        for side in c["products"]:
            raw = _SHELF_CACHE[side["product_id"].split(":")[1]]
            assert side["name"] in c["reason"]
            for ing in side["ingredients"]:
                assert ing["ingredient"].rstrip(".") in raw
                assert f"{ing['ingredient']} (position {ing['position']})" in c["reason"]


def test_planner_keeps_blocking_pairs_apart_and_says_so(plan_b):
    skipped = [s for _, _, p in plan_b.placements() for s in p["skipped"]]
    skipped += [s for d in plan_b.days for sl in ("am", "pm") for p in d[sl]
                if p["product_id"] is None for s in p["gap_reasons"] if "clashes" in s]
    assert any("clashes with" in s and "rule " in s for s in skipped)


# ----------------------------------------------------------------------------- reintroduction


def test_reintroduction_days_match_safe_days(plan_a):
    listed = {r["product_id"]: r for r in plan_a.reintroduce}
    for s in plan_a.shelf:
        if s["status"] != "ok" or s["safe_from_day"] <= 1:
            assert s["product_id"] not in listed or listed[s["product_id"]]["status"] != "from_day"
            continue
        r = listed[s["product_id"]]
        assert r["first_day"] >= s["safe_from_day"] > r["first_day"] - 1
        assert r["date"] == (TREATED + dt.timedelta(days=r["first_day"])).isoformat()
        assert r["reasons"] and all(w["source"] for w in r["reasons"])
        if r["first_placed_day"] is not None:
            assert r["first_placed_day"] >= r["first_day"]
    assert listed[ref(RETINOL_SERUM)]["first_day"] == 7
    assert listed[ref(RETINOL_SERUM)]["step"] == "treat"


def test_clinic_protocol_brings_the_retinoid_back_on_day_5(shelf, plan_a):
    clinic = load_protocol(CLINIC)
    plan = build_regimen(shelf(SHELF_A), Treatment(date=TREATED), Client(concerns=["dryness"]),
                         clinic)
    mine = {r["product_id"]: r for r in plan.reintroduce}
    default = {r["product_id"]: r for r in plan_a.reintroduce}
    assert default[ref(RETINOL_SERUM)]["first_day"] == 7
    assert mine[ref(RETINOL_SERUM)]["first_day"] == 5
    assert mine[ref(RETINOL_SERUM)]["date"] == "2026-03-07"
    assert plan.protocol["name"] == clinic.name and plan.protocol["version"] == clinic.version
    # Its phases start where its windows end (it names no phases of its own).
    assert 5.0 in [p["from_day"] for p in plan.phases]


def test_default_phases_are_the_report_template(plan_a):
    assert [p["from_day"] for p in plan_a.phases] == [0, 1, 3, 7, 14]
    assert plan_a.phases[-1]["until_day"] == 28
    assert [d["day"] for d in plan_a.days] == list(range(15))
    assert plan_a.days[-1]["until_day"] == 28


def test_stop_before_next_session(shelf):
    plan = build_regimen(shelf(SHELF_A), Treatment(date=TREATED), Client(),
                         next_session="2026-04-06")
    stops = {s["product_id"]: s for s in plan.stop_before_next}
    rs = stops[ref(RETINOL_SERUM)]
    assert rs["days_before"] == 7 and rs["stop_from_date"] == "2026-03-30"
    assert rs["rule"] == "retinoid" and "Retinol (position 8)" in rs["reason"]
    assert stops[ref(GLYCOLIC_TONER)]["rule"] == "exfoliating_acid"
    assert stops[ref(BPO_TREATMENT)]["rule"] == "benzoyl_peroxide"
    assert ref(CERAMIDE_CREAM) not in stops and ref(MINERAL_SPF) not in stops


def test_bad_inputs_raise_regimen_error(shelf):
    df = shelf(SHELF_C)
    with pytest.raises(RegimenError, match="date"):
        build_regimen(df, Treatment(date="2026-13-40"), Client())
    with pytest.raises(RegimenError, match="concern"):
        build_regimen(df, Treatment(date=TREATED), Client(concerns=["glow"]))
    with pytest.raises(RegimenError, match="next session"):
        build_regimen(df, Treatment(date=TREATED), Client(), next_session="2026-03-01")
    with pytest.raises(RegimenError, match="modality"):
        build_regimen(df, Treatment(date=TREATED, modality="laser"), Client())


# ----------------------------------------------------------------------------- outputs


def test_json_round_trip_and_rerender(plan_a):
    d = json.loads(json.dumps(plan_a.to_dict()))
    back = Regimen.from_dict(d)
    assert back.to_dict() == d
    assert render_handout(d) == render_handout(plan_a)
    assert to_ics(d) == to_ics(plan_a)
    # DESIGN.md contract fields.
    for day in d["days"]:
        assert isinstance(day["day"], int) and day["date"]
        for slot in ("am", "pm"):
            for p in day[slot]:
                assert {"step", "product_id", "gap"} <= set(p)
                assert (p["product_id"] is None) == (p["gap"] is not None)
    assert d["disclaimer"] == DISCLAIMER
    with pytest.raises(RegimenError):
        Regimen.from_dict({"schema": "something else"})
    with pytest.raises(RegimenError):
        Regimen.from_dict({**d, "days": [{"day": 1}]})


def test_ics_parses_back_one_event_per_reintroduced_product(plan_a):
    data = to_ics(plan_a)
    cal = Calendar.from_ical(data)
    events = list(cal.walk("VEVENT"))
    expected = {r["product_id"]: r for r in plan_a.reintroduce if r["status"] == "from_day"}
    assert len(events) == len(expected) > 0
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == len(events)
    by_summary = {str(e["SUMMARY"]): e for e in events}
    for r in expected.values():
        ev = by_summary[f"You can use again: {r['name']}"]
        start = ev.decoded("DTSTART")
        assert type(start) is dt.date, "all-day event"
        assert start.isoformat() == r["date"]
        assert ev.decoded("DTEND") == start + dt.timedelta(days=1)
    assert to_ics(plan_a) == data, "stable bytes and UIDs"


def test_handout_names_clinic_protocol_disclaimer_and_escapes(catalogs):
    df = catalogs("sephora_2023")
    rows = df[df["product_id"].isin([RETINOL_SERUM, MINERAL_SPF, CERAMIDE_CREAM])].copy()
    rows.loc[rows["product_id"] == RETINOL_SERUM, "name"] = '<script>alert("x")</script> Serum'
    plan = build_regimen(rows, Treatment(date=TREATED), Client(), clinic="Skin & <Co>")
    page = render_handout(plan)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    assert "Skin &amp; &lt;Co&gt;" in page
    proto = default_protocol()
    assert proto.name in page and proto.version in page
    text = html.unescape(page)
    assert DISCLAIMER in text and proto.disclaimer in text
    assert "@media print" in page
    assert render_handout(plan.to_dict(), clinic="Other clinic").count("Other clinic") >= 1


def test_build_time_for_a_16_product_shelf(shelf, plan_a):
    """Recorded, not a speed gate: the figure goes in the README."""
    import time

    t = time.perf_counter()
    build_regimen(shelf(SHELF_A), Treatment(date=TREATED), Client(concerns=["dryness"]))
    seconds = time.perf_counter() - t
    print(f"build_regimen, 16 products, 15 listed days: {seconds:.2f} s")
    assert seconds < 60


def test_unreadable_and_unknown_rows_are_reported_not_placed(catalogs):
    """A clinic's own row without a usable list is listed as 'cannot be checked', never used."""
    df = catalogs("sephora_2023")
    rows = df[df["product_id"].isin([PEPTIDE_SERUM, MINERAL_SPF, CERAMIDE_CREAM])]
    extra = rows.iloc[:0].copy()
    extra.loc[0] = ["own-1", "House Serum", "", "Treatments", "see packaging"]
    extra.loc[1] = ["own-2", "House Balm", "", "Moisturizers", ""]
    plan = build_regimen(pd.concat([rows, extra]), Treatment(date=TREATED), Client())
    status = {r["product_id"]: r["status"] for r in plan.reintroduce}
    assert status["own-1"] == "unchecked" and status["own-2"] == "unchecked"
    placed = {p["product_id"] for _, _, p in plan.placements()}
    assert not placed & {"own-1", "own-2"}
    assert PEPTIDE_SERUM in placed
