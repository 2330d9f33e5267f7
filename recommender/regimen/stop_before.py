"""Which shelf products to stop before the next session, and from which date.

Which need it answers: the handout's "before your next session on <date>, stop ...": an
active still on the skin when the needles go in is carried into the dermis (science/
REPORT.md section 3). Rules are data (data/regimen/stop_before.yaml) with a source each, or
"skinrec design choice" with evidence none. A product matched by several rules stops at the
largest number of days; the record names the ingredient as printed and its position.
"""

from __future__ import annotations

import datetime as dt
import math

from recommender.regimen.actives import ClassMention
from recommender.regimen.rules import StopRule


def stop_record(product: dict, classes: dict[str, list[ClassMention]], rules: tuple[StopRule, ...],
                treated: dt.date, next_session_day: int) -> dict | None:
    """The stop-before record for one product, or None when no rule applies."""
    matched: list[tuple[StopRule, str, list[dict]]] = []
    for r in rules:
        hits: list[ClassMention] = []
        if r.inci:
            hits += [m for ms in classes.values() for m in ms
                     if (m.inci or "").upper() in r.inci]
        if r.classes:
            hits += [m for c in sorted(r.classes) for m in classes.get(c, [])]
        what = ""
        if hits:
            uniq = {(m.position, m.ingredient): m for m in hits}
            hits = [uniq[k] for k in sorted(uniq)]
            what = ", ".join(m.text() for m in hits)
        elif r.product_pattern is not None:
            text = f"{product.get('name', '')} {product.get('category', '')}"
            m = r.product_pattern.search(text)
            if m:
                what = f"name or category says {m.group(0)!r}"
        if what:
            matched.append((r, what, [m.to_dict() for m in hits]))
    if not matched:
        return None
    # Prescription retinoids are also retinoids: keep the strictest rule as the lead.
    matched.sort(key=lambda x: -x[0].days)
    lead = matched[0][0]
    days = lead.days
    # Whole days, rounded up (stopping earlier is the safe side); never before day 0.
    stop_day = max(0, next_session_day - math.ceil(days))
    stop_date = treated + dt.timedelta(days=stop_day)
    session_date = treated + dt.timedelta(days=next_session_day)
    reasons = [f"{what} is {r.label}: stop {r.days:g} days before the next session "
               f"(source: {r.source}; evidence: {r.evidence})" for r, what, _ in matched]
    return {
        "product_id": product["product_id"], "name": product["name"],
        "days_before": days, "stop_from_day": stop_day, "stop_from_date": stop_date.isoformat(),
        "next_session_date": session_date.isoformat(), "rule": lead.id,
        "rules": [r.id for r, _, _ in matched],
        "ingredients": [i for _, _, ings in matched for i in ings],
        "reason": "; ".join(reasons), "source": lead.source, "evidence": lead.evidence,
    }
