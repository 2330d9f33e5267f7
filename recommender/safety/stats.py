"""Catalog-wide safety figures for the README (issue #3): verdict counts at day 1, 3, 7, 14
after 1.0 mm needling, and the most frequent reasons.

Answers "what does the protocol do to a real shelf?": each product is assessed once and its
verdict at other days read with ``Assessment.verdict_at`` (windows all start at 0, so this is
exact). Products whose ingredient field could not be read (placeholders such as "No Info",
perfume travel sprays with no list) are counted apart, never as "suitable".

Run: ``python -m recommender.safety.stats [catalog ...]`` (needs the data directory and the
knowledge base); prints a Markdown table.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable

from recommender.inci.model import ParsedList
from recommender.safety.context import Context
from recommender.safety.engine import Assessment, _window_text, assess
from recommender.safety.protocol import Protocol, default_protocol

DAYS = (1, 3, 7, 14)


def _generic_reason(a: Assessment, rule_id: str) -> str:
    flag = next(f for f in a.flags if f.rule.id == rule_id)
    rule = flag.rule
    window = _window_text(flag.stages)
    if flag.scope == "product":
        return f"{rule.label or rule.id}: {window}"
    return f"contains {rule.label or rule.id}: {window}"


def summarise(
    items: Iterable[tuple[ParsedList, str | None, str | None]],
    *,
    days: tuple[float, ...] = DAYS,
    context: Context | None = None,
    protocol: Protocol | None = None,
    reasons_at: float = 1.0,
) -> dict:
    """Verdict counts per day and reason frequencies over (parsed, name, category) items.

    A reason is counted once per product and rule when its window is open at ``reasons_at``.
    """
    ctx = context or Context.make(day=reasons_at, depth=1.0, modality="mn")
    ctx = ctx.at(reasons_at)
    proto = protocol or default_protocol()
    counts = {d: Counter() for d in days}
    reasons: Counter = Counter()
    texts: dict[str, str] = {}
    ingredients: dict[str, Counter] = {}
    n = unreadable = 0
    safe_days: Counter = Counter()
    for parsed, name, category in items:
        n += 1
        if not parsed.found:
            unreadable += 1
            continue
        a = assess(parsed, ctx, proto, name=name, category=category)
        for d in days:
            counts[d][a.verdict_at(d)] += 1
        safe_days["never" if a.safe_from_day is None else a.safe_from_day] += 1
        seen = set()
        for f in a.flags:
            if not f.open or f.rule.id in ("first_24h",):
                continue
            if f.rule.id not in seen:
                seen.add(f.rule.id)
                reasons[f.rule.id] += 1
                texts.setdefault(f.rule.id, _generic_reason(a, f.rule.id))
            if f.scope == "ingredient":
                ingredients.setdefault(f.rule.id, Counter())[f.inci or f.ingredient] += 1
    assessed = n - unreadable
    return {
        "protocol": proto.summary(),
        "products": n,
        "unreadable": unreadable,
        "assessed": assessed,
        "counts": {d: {v: counts[d][v] for v in ("avoid", "caution", "suitable")} for d in days},
        "safe_from_day": dict(sorted(safe_days.items(), key=lambda kv: (kv[0] == "never",
                                                                           kv[0] if kv[0] != "never"
                                                                           else 0))),
        "reasons_at_day": reasons_at,
        "reasons": [
            {"rule": rid, "products": k, "share": k / assessed if assessed else 0.0,
             "reason": texts[rid],
             "top_ingredients": [name for name, _ in ingredients.get(rid, Counter()).most_common(3)]}
            for rid, k in reasons.most_common()
        ],
    }


def to_markdown(summary: dict, title: str = "", top: int = 10) -> str:
    s = summary
    lines = []
    if title:
        lines.append(f"**{title}**: {s['assessed']} products assessed "
                     f"({s['unreadable']} without a readable ingredient list, not counted), "
                     f"protocol {s['protocol']['name']} {s['protocol']['version']}, 1.0 mm mn.")
        lines.append("")
    lines.append("| day | avoid | caution | suitable |")
    lines.append("|---|---|---|---|")
    total = s["assessed"] or 1
    for d, c in s["counts"].items():
        lines.append(f"| {d:g} | " + " | ".join(
            f"{c[v]} ({100 * c[v] / total:.1f} %)" for v in ("avoid", "caution", "suitable"))
            + " |")
    lines.append("")
    lines.append(f"Most frequent reasons (open at day {s['reasons_at_day']:g}; a product counts "
                 "once per rule):")
    lines.append("")
    lines.append("| rule | products | reason | most frequent ingredients |")
    lines.append("|---|---|---|---|")
    for r in s["reasons"][:top]:
        lines.append(f"| {r['rule']} | {r['products']} ({100 * r['share']:.1f} %) | {r['reason']} "
                     f"| {', '.join(str(x) for x in r['top_ingredients'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - needs the data directory
    from recommender.catalogs import load_catalog
    from recommender.knowledge.reader import read_list

    names = (argv if argv is not None else sys.argv[1:]) or [
        "sephora_2023", "cosmetics_2017", "lookfantastic_2020"]
    for name in names:
        df = load_catalog(name)
        items = ((read_list(r.ingredients), r.name, r.category) for r in df.itertuples())
        print(to_markdown(summarise(items), title=name))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
