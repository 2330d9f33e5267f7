"""Recognition coverage of a catalog: how many declared mentions skinrec recognises, and why
the rest are not.

Answers the retailer's "can I trust this on my catalog?" and the README's parsing figures:
recognised = exact or alias-table matches only (a scraper-cut name completed from a unique
prefix counts as alias and is shown apart, and so do names reached by one of the general
rewrites of ``recommender.inci.rules``); fuzzy matches are counted apart; the
denominator is every declared token the parser emits. Each frequent unrecognised name gets
a reason (a close spelling of a known name, a name cut short by a scraper, a word cut
short, or absent from the CosIng 2020 inventory and the alias table).
"""

from __future__ import annotations

import bisect
import collections
from collections.abc import Iterable

import pandas as pd

from recommender import config
from recommender.inci import fold
from recommender.knowledge.reader import Reader, default_reader


def load_source(source: str, column: str | None) -> tuple[pd.DataFrame, str]:
    from recommender.catalogs import load_catalog

    if source in config.CATALOGS:
        return load_catalog(source), "ingredients"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    col = column or "ingredients"
    if col not in frame.columns:
        raise ValueError(f"{source} has no column {col!r}; choose one with --column "
                         f"(columns: {', '.join(frame.columns)})")
    return frame, col


class _Reasons:
    def __init__(self, reader: Reader):
        self.reader = reader
        self.keys = sorted({fold.key(n) for n in reader.kb.names()})

    def _starting(self, prefix: str, limit: int = 3) -> tuple[int, list[str]]:
        i = bisect.bisect_left(self.keys, prefix)
        found = []
        n = 0
        while i < len(self.keys) and self.keys[i].startswith(prefix):
            if len(found) < limit:
                found.append(self.keys[i])
            n += 1
            i += 1
        return n, found

    def reason(self, name: str, fuzzy_target: str | None, score: float | None) -> tuple[str, str]:
        """(category, explanation) for one unrecognised name."""
        if fuzzy_target:
            return "misspelling", f"close spelling of {fuzzy_target} (fuzzy {score:g}; not counted)"
        k = fold.key(name)
        n, examples = self._starting(k + " ")
        if n:
            return "truncated_name", (f"cut short: {n} CosIng name(s) start with it "
                                      f"(e.g. {', '.join(examples)}); which one is not printed")
        n, examples = self._starting(k)
        if n and len(k) >= 5:
            return "truncated_word", f"a word cut short: {n} CosIng name(s) continue it (e.g. {examples[0]})"
        if ":" in name or len(name.split()) > 8:
            return "store_text", "store text or a heading, not an ingredient"
        return "not_in_inventory", ("absent from the CosIng 2020 inventory and the alias table "
                                    "(common, trade or newer name)")


def coverage_report(texts: Iterable[object], *, top: int = 50, name: str = "",
                    reader: Reader | None = None) -> dict:
    reader = reader or default_reader()
    status = collections.Counter()
    kinds = collections.Counter()
    via = collections.Counter()
    unrec = collections.Counter()
    fuzzy_of: dict[str, tuple[str, float]] = {}
    products = 0
    for text in texts:
        products += 1
        parsed = reader.read(text)
        status[parsed.status] += 1
        for m in parsed.ingredients:
            if m.section != "declared":
                continue
            kinds[m.match or "unmatched"] += 1
            if m.match == "alias":
                via[m.match_via] += 1
            if m.match_via == "rule" and m.recognized:
                via["rule_any"] += 1
            if not m.recognized:
                key = m.name.lower()
                unrec[key] += 1
                if m.match == "fuzzy":
                    fuzzy_of[key] = (m.inci, m.match_score)
    declared = sum(kinds.values())
    recognised = kinds["exact"] + kinds["alias"]
    reasons = _Reasons(reader)
    by_reason = collections.Counter()
    top_rows = []
    for i, (nm, count) in enumerate(unrec.most_common()):
        target, score = fuzzy_of.get(nm, (None, None))
        cat, why = reasons.reason(nm, target, score)
        by_reason[cat] += count
        if i < top:
            top_rows.append({"name": nm, "count": count, "reason": cat, "detail": why})
    return {
        "catalog": name,
        "products": products,
        "status": dict(status),
        "declared_mentions": declared,
        "exact": kinds["exact"],
        "alias": kinds["alias"],
        "alias_curated": via["aliases"],
        "alias_synonyms": via["synonyms"],
        "alias_prefix": via["prefix"],
        "rule": via["rule_any"],
        "fuzzy": kinds["fuzzy"],
        "unmatched": kinds["unmatched"],
        "recognised_rate": round(recognised / declared, 4) if declared else None,
        "distinct_unrecognised": len(unrec),
        "unrecognised_by_reason": dict(by_reason.most_common()),
        "top_unrecognised": top_rows,
    }


def format_coverage(r: dict) -> str:
    d = r["declared_mentions"] or 1
    lines = [
        f"catalog: {r['catalog']}  products: {r['products']:,}  status: {r['status']}",
        f"declared mentions: {r['declared_mentions']:,}",
        f"  recognised (exact + alias): {r['exact'] + r['alias']:,} = {100 * (r['exact'] + r['alias']) / d:.2f} %"
        f"  (exact {r['exact']:,}, alias {r['alias']:,}: curated table {r['alias_curated']:,}, "
        f"generated synonyms {r['alias_synonyms']:,}, completed from a unique prefix "
        f"{r.get('alias_prefix', 0):,}; of all recognised, reached by a general rewrite "
        f"rule {r.get('rule', 0):,})",
        f"  fuzzy (not counted): {r['fuzzy']:,} = {100 * r['fuzzy'] / d:.2f} %",
        f"  unmatched: {r['unmatched']:,} = {100 * r['unmatched'] / d:.2f} %",
        "unrecognised mentions by reason: "
        + ", ".join(f"{k} {v:,} ({100 * v / d:.2f} %)" for k, v in r["unrecognised_by_reason"].items()),
        f"top {len(r['top_unrecognised'])} unrecognised names:",
    ]
    for row in r["top_unrecognised"]:
        lines.append(f"  {row['count']:>5}  {row['name']}  — {row['detail']}")
    return "\n".join(lines)
