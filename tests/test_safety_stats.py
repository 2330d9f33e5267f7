"""Catalog figures: verdict counts per day and reason frequencies (README, issue #3)."""

from __future__ import annotations

from recommender.inci.model import Mention, ParsedList
from recommender.safety.stats import summarise, to_markdown


def _plist(*items):
    ms = [Mention(raw=n, name=n, position=i, inci=n.upper(), match="exact", classes=c)
          for i, (n, c) in enumerate(items, 1)]
    return ParsedList(text="", ingredients=ms)


def test_summary_counts_and_reasons():
    items = [
        (_plist(("Water", ()), ("Retinol", ("retinoid",))), "Serum", "Treatments"),
        (_plist(("Water", ()), ("Parfum", ("fragrance",))), "Cream", "Moisturizers"),
        (_plist(("Water", ()), ("Avobenzone", ("chemical_uv_filter",))), "SPF", "Sunscreen"),
        (_plist(("Water", ())), "Mist", "Moisturizers"),
        (_plist(("Water", ())), "Glycolic Peel", "Treatments"),
        (ParsedList(text="No Info", status="placeholder"), "Perfume", "Fragrance"),
    ]
    s = summarise(items)
    assert (s["products"], s["unreadable"], s["assessed"]) == (6, 1, 5)
    assert s["counts"][1] == {"avoid": 3, "caution": 1, "suitable": 1}
    assert s["counts"][3] == {"avoid": 2, "caution": 2, "suitable": 1}
    assert s["counts"][7] == {"avoid": 1, "caution": 1, "suitable": 3}
    assert s["counts"][14] == {"avoid": 0, "caution": 0, "suitable": 5}
    rules = {r["rule"]: r["products"] for r in s["reasons"]}
    assert rules == {"retinoid": 1, "fragrance": 1, "chemical_uv_filter": 1, "peel": 1}
    assert s["safe_from_day"] == {1.0: 2, 3.0: 1, 7.0: 1, 14.0: 1}
    md = to_markdown(s, title="toy")
    assert "| 1 | 3 (60.0 %) | 1 (20.0 %) | 1 (20.0 %) |" in md
    assert "contains a retinoid: avoid until day 7" in md
