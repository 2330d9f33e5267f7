"""Requests -> who is asking: treatment time, depth, modality, concerns, skin type, avoid-list.

Answers "I was needled yesterday (or on 2026-03-02, or 36 hours ago) at 1.0 mm, I have dark
spots and dry skin" for the pages (form strings) and the API (typed JSON) alike: one parser,
one :class:`Person`, built through :func:`recommender.scoring.make_score_context` (the same
conversion the CLI uses). Bad types or values raise :class:`~web.errors.ApiError` 400 with a
message naming the field.

Time: ``treated_on`` (a date) gives whole days since treatment (yesterday = day 1);
``day`` or ``hours`` give the time directly; none gives day 1 (DESIGN.md default). Safe-from
dates are the treatment date plus ``safe_from_day`` rounded up to a whole day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from recommender.safety import Protocol
from recommender.scoring import ScoreContext, make_score_context
from web.errors import ApiError

TIME_FIELDS = ("treated_on", "day", "hours")
LIST_FIELDS = ("concerns", "skin_type", "avoid")


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Person:
    ctx: ScoreContext
    treated_on: date            # given, or estimated from day/hours
    treated_given: bool

    @property
    def day(self) -> float:
        return self.ctx.safety.t

    def safe_from_date(self, safe_from_day: float | None) -> date | None:
        if safe_from_day is None or (isinstance(safe_from_day, float) and math.isnan(safe_from_day)):
            return None
        return self.treated_on + timedelta(days=math.ceil(safe_from_day - 1e-9))

    def to_dict(self) -> dict:
        return {"treated_on": self.treated_on.isoformat(), "treated_on_given": self.treated_given,
                **self.ctx.to_dict()}


class Fields:
    """Typed access to a JSON object (strict types) or a form (strings, '' = absent)."""

    def __init__(self, data: Mapping[str, Any], *, form: bool):
        if not isinstance(data, Mapping):
            raise ApiError(400, "the request body must be a JSON object")
        self.data = data
        self.form = form

    def raw(self, key: str):
        v = self.data.get(key)
        if self.form and isinstance(v, str) and not v.strip():
            return None
        return v

    def number(self, key: str, *, minimum: float | None = None, maximum: float | None = None,
               integer: bool = False, exclusive_min: bool = False) -> float | int | None:
        v = self.raw(key)
        if v is None:
            return None
        kind = "an integer" if integer else "a number"
        if self.form:
            try:
                v = int(v) if integer else float(str(v).strip().replace(",", "."))
            except ValueError:
                raise ApiError(400, f"{key} must be {kind}, got {v!r}") from None
        elif isinstance(v, bool) or not isinstance(v, int | float) or \
                (integer and not float(v).is_integer()):
            raise ApiError(400, f"{key} must be {kind}, got {type(v).__name__} {v!r}")
        if not math.isfinite(v):
            raise ApiError(400, f"{key} must be a finite number")
        if minimum is not None and (v < minimum or (exclusive_min and v == minimum)):
            raise ApiError(400, f"{key} must be {'>' if exclusive_min else '>='} {minimum:g}, got {v:g}")
        if maximum is not None and v > maximum:
            raise ApiError(400, f"{key} must be <= {maximum:g}, got {v:g}")
        return int(v) if integer else float(v)

    def boolean(self, key: str, default: bool = False) -> bool:
        v = self.raw(key)
        if v is None:
            return default
        if self.form:
            return str(v).strip().lower() in ("1", "on", "true", "yes")
        if not isinstance(v, bool):
            raise ApiError(400, f"{key} must be true or false, got {type(v).__name__} {v!r}")
        return v

    def text(self, key: str, *, max_chars: int | None = None) -> str | None:
        v = self.raw(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise ApiError(400, f"{key} must be a string, got {type(v).__name__}")
        if max_chars is not None and len(v) > max_chars:
            raise ApiError(400, f"{key} is {len(v)} characters long; the limit is {max_chars}")
        return v

    def items(self, key: str) -> list[str]:
        """A comma-separated string or a list of strings (forms: repeated fields too)."""
        if self.form and hasattr(self.data, "getlist"):
            values = [v for v in self.data.getlist(key) if v.strip()]
        else:
            v = self.raw(key)
            values = [] if v is None else v if isinstance(v, list) else [v]
        for v in values:
            if not isinstance(v, str):
                raise ApiError(400, f"{key} must be a string or a list of strings")
        return values

    def date(self, key: str) -> date | None:
        v = self.text(key)
        if v is None:
            return None
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            raise ApiError(400, f"{key} must be a date YYYY-MM-DD, got {v!r}") from None


def person_from(data: Mapping[str, Any], protocol: Protocol, *, form: bool = False,
                use_models: bool = True) -> Person:
    f = Fields(data, form=form)
    given = [k for k in TIME_FIELDS if f.raw(k) is not None]
    if len(given) > 1:
        raise ApiError(400, f"give one of treated_on, day or hours, not {' and '.join(given)}")
    treated = f.date("treated_on")
    day = f.number("day", minimum=0, maximum=3650)
    hours = f.number("hours", minimum=0, maximum=3650 * 24)
    now = today()
    if treated is not None:
        if treated > now:
            raise ApiError(400, f"treated_on {treated.isoformat()} is in the future")
        day = float((now - treated).days)
        if day > 3650:
            raise ApiError(400, "treated_on is more than ten years ago")
    depth = f.number("depth", minimum=0, maximum=10, exclusive_min=True)
    modality = f.text("modality", max_chars=20)
    lists = {k: f.items(k) for k in LIST_FIELDS}
    try:
        ctx = make_score_context(hours=hours, day=day, depth=depth,
                                 modality=modality.strip().lower() if modality else None,
                                 avoid=lists["avoid"], pregnant=f.boolean("pregnant"),
                                 concerns=lists["concerns"], skin_type=lists["skin_type"],
                                 protocol=protocol, use_models=use_models)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    if treated is None:
        treated = now - timedelta(days=math.floor(ctx.safety.t))
    return Person(ctx, treated, f.raw("treated_on") is not None)
