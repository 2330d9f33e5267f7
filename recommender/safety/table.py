"""The active protocol as a plain-text table (`skinrec protocol`).

Answers "what does this tool assume, and on what evidence?" for a shopper or an aesthetician
comparing it with the clinic's own sheet: one row per rule with its target, its windows (base,
and after the factor when a context is given), evidence level and source.
"""

from __future__ import annotations

import math
import textwrap

from recommender.safety.context import Context
from recommender.safety.protocol import Protocol, Rule


def _day(x: float) -> str:
    return "never" if math.isinf(x) else f"{round(x, 4):g}"


def _window(rule: Rule, factor: float = 1.0) -> str:
    k = factor if rule.scaled else 1.0
    parts = []
    for i, s in enumerate(rule.stages):
        text = f"{s.severity} at any time" if math.isinf(s.until) \
            else f"{s.severity} until {_day(s.until * k)}"
        parts.append(text if i == 0 else "then " + text)
    text = ", ".join(parts)
    if not rule.scaled:
        text += " (not scaled)"
    return text


def _factors_line(p: Protocol) -> str:
    bands = []
    for b in p.depth_bands:
        if b.max_mm is not None:
            bands.append(f"<= {b.max_mm:g} mm x{b.factor:g}")
        else:
            bands.append(f">= {b.min_mm:g} mm x{b.factor:g}")
    mods = ", ".join(f"{k} x{f:g}" for k, (f, _) in p.modalities.items())
    return (
        "Factor f = depth factor x modality factor, multiplying every window end except those "
        f"marked 'not scaled'. Depth: {', '.join(bands + [f'else x{p.depth_default:g}'])}. "
        f"Modality: {mods}. Source: {p.factors_source}; evidence: {p.factors_evidence}."
    )


def protocol_table(protocol: Protocol, context: Context | None = None, width: int = 120) -> str:
    """Render ``protocol`` as text. With ``context``, windows are shown after its factor."""
    p = protocol
    out = [f"{p.name} {p.version}" + (f"  ({p.path})" if p.path else "")]
    out += textwrap.wrap(p.description, width)
    out.append("")
    out += textwrap.wrap(_factors_line(p), width)
    mc = ("count for safety with the same severity as declared ingredients, not for benefit"
          if p.may_contain_counts else "are ignored")
    out += textwrap.wrap(f"May-contain entries {mc}. Source: {p.may_contain_source}; "
                         f"evidence: {p.may_contain_evidence}.", width)
    factor = 1.0
    window_head = "WINDOW (DAYS AFTER TREATMENT)"
    if context is not None:
        factor = p.factor(context.depth_mm, context.modality)
        window_head = f"WINDOW AT {context.depth_mm:g} MM {context.modality.upper()} (f={factor:g})"
        out.append(f"Windows below are for {context.depth_mm:g} mm {context.modality} "
                   f"(f = {factor:g}).")
    else:
        out.append("Windows below are the base windows (0.5-1.0 mm needling, f = 1).")
    if p.added:
        out.append("Built-in rules added because this file lacks them: " + ", ".join(p.added))
    out.append("")

    rows = [("RULE", "APPLIES TO", window_head, "EVIDENCE", "SOURCE")]
    for r in p.rules:
        rows.append((r.id, r.describe_target(), _window(r, factor), r.evidence, r.source))
        for ex in r.exemptions:
            target = ", ".join(sorted(ex.inci)).lower()
            if ex.position_min is not None:
                target += f" at position {ex.position_min} or later"
            rows.append(("  except " + ex.id, target, "no flag" + (f": {ex.note}" if ex.note
                                                                   else ""),
                         ex.evidence, ex.source))
    widths = [max(len(r[0]) for r in rows), 34, min(40, max(len(r[2]) for r in rows)),
              max(len(r[3]) for r in rows)]
    src_width = max(30, width - sum(widths) - 2 * 4)
    widths.append(src_width)
    for row in rows:
        cells = [
            textwrap.wrap(text, w, break_long_words=False, break_on_hyphens=False) or [""]
            for text, w in zip(row, widths, strict=True)
        ]
        for k in range(max(len(c) for c in cells)):
            line = "  ".join(
                (c[k] if k < len(c) else "").ljust(w) for c, w in zip(cells, widths, strict=True)
            )
            out.append(line.rstrip())
    out.append("")
    out += textwrap.wrap("Not medical advice. " + p.disclaimer
                         if "medical advice" not in p.disclaimer.lower() else p.disclaimer, width)
    return "\n".join(out) + "\n"


render_protocol = protocol_table   # the name the CLI imports
