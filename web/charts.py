"""Server-side SVG charts (no plotting library, no script, no CDN): the machine may be offline.

Answers "when can I use it?" (:func:`timeline_svg`: the verdict on each of the next 14 days)
and "how much more gets in while the channels are open?" (:func:`absorption_svg`: each
active's absorption index over the hours after treatment, log scale, with "now" marked).
Every text is escaped; colours are presentation attributes and CSS classes, never inline
style, so the Content-Security-Policy holds.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

PALETTE = ("#1f6f8b", "#c8553d", "#6a994e", "#8e5ea2", "#d4a017", "#3d405b")
VERDICT_FILL = {"avoid": "#c0392b", "caution": "#e0a100", "suitable": "#2e8b57"}


def _t(x: float) -> str:
    return f"{x:.1f}"


def timeline_svg(daily: list[dict]) -> Markup:
    """One cell per day: colour = verdict, label = day after treatment and date."""
    cell, left, top, h = 44, 10, 24, 34
    width = left * 2 + cell * len(daily)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart timeline" '
             f'viewBox="0 0 {width} {top + h + 40}" role="img" '
             f'aria-label="verdict for each of the next {len(daily) - 1} days">',
             f'<text x="{left}" y="14" class="chart-title">Verdict by day (from today)</text>']
    for i, d in enumerate(daily):
        x = left + i * cell
        v = str(d["verdict"])
        label = f"day {d['day']:g} ({d['date']}): {v}"
        parts.append(f'<rect x="{x}" y="{top}" width="{cell - 2}" height="{h}" '
                     f'fill="{VERDICT_FILL.get(v, "#888")}" class="v-{escape(v)}">'
                     f'<title>{escape(label)}</title></rect>')
        parts.append(f'<text x="{x + (cell - 2) / 2}" y="{top + h / 2 + 4}" '
                     f'text-anchor="middle" class="cell-label">{escape(v[0].upper())}</text>')
        parts.append(f'<text x="{x + (cell - 2) / 2}" y="{top + h + 14}" text-anchor="middle" '
                     f'class="axis">d{d["day"]:g}</text>')
        parts.append(f'<text x="{x + (cell - 2) / 2}" y="{top + h + 28}" text-anchor="middle" '
                     f'class="axis small">{escape(str(d["date"])[5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def absorption_svg(curves: list[dict], now_hours: float) -> Markup | None:
    """Absorption index (log scale) over hours after treatment, one line per active."""
    series = [c for c in curves if c.get("t_hours") and c.get("absorption_index")]
    if not series:
        return None
    w, h, ml, mr, mt, mb = 640, 300, 56, 16, 28, 40
    pw, ph = w - ml - mr, h - mt - mb
    xs_max = max(max(c["t_hours"]) for c in series)
    vals = [v for c in series for v in c["absorption_index"] if v and v > 0]
    vals += [c["intact_index"] for c in series if c.get("intact_index")]
    lo = math.floor(math.log10(min(vals)))
    hi = math.ceil(math.log10(max(vals)))
    if hi == lo:
        hi += 1

    def px(t: float) -> float:
        return ml + pw * t / xs_max

    def py(v: float) -> float:
        return mt + ph * (1 - (math.log10(max(v, 10 ** lo)) - lo) / (hi - lo))

    legend_h = 16 * len(series)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart absorption" '
             f'viewBox="0 0 {w} {h + legend_h}" role="img" '
             f'aria-label="absorption index of each active over the hours after treatment">',
             f'<text x="{ml}" y="16" class="chart-title">Absorption index vs hours after '
             f'treatment (log scale; dashed: intact skin)</text>',
             f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" class="plot-area" '
             f'fill="none" stroke="#999"/>']
    for e in range(lo, hi + 1):
        y = py(10 ** e)
        parts.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{_t(y)}" y2="{_t(y)}" stroke="#ddd"/>')
        parts.append(f'<text x="{ml - 6}" y="{_t(y + 4)}" text-anchor="end" class="axis">'
                     f'1e{e}</text>')
    step = 12 if xs_max <= 96 else 24
    for t in range(0, int(xs_max) + 1, step):
        parts.append(f'<text x="{_t(px(t))}" y="{mt + ph + 16}" text-anchor="middle" '
                     f'class="axis">{t} h</text>')
    if 0 <= now_hours <= xs_max:
        x = px(now_hours)
        parts.append(f'<line x1="{_t(x)}" x2="{_t(x)}" y1="{mt}" y2="{mt + ph}" stroke="#333" '
                     f'stroke-dasharray="2,3"/><text x="{_t(x + 4)}" y="{mt + 12}" '
                     f'class="axis">now ({now_hours:g} h)</text>')
    for i, c in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{_t(px(t))},{_t(py(v))}" for t, v in
                       zip(c["t_hours"], c["absorption_index"], strict=False) if v)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2">'
                     f'<title>{escape(c["inci"])}</title></polyline>')
        if c.get("intact_index"):
            y = py(c["intact_index"])
            parts.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{_t(y)}" y2="{_t(y)}" '
                         f'stroke="{color}" stroke-dasharray="5,4" stroke-width="1"/>')
        ly = h + 12 + 16 * i - 8
        note = " (through open channels only)" if "negligible" in str(c.get("intact_term")) \
            else ""
        parts.append(f'<line x1="{ml}" x2="{ml + 20}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{color}" stroke-width="3"/><text x="{ml + 26}" y="{ly}" '
                     f'class="legend">{escape(c["inci"])} (position {int(c["position"])})'
                     f'{escape(note)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
