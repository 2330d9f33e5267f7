"""The regimen's records: the treatment, the client, and the plan (JSON in, JSON out).

Which need it answers: the JSON is the clinic's record of what was advised; it must load
back (``Regimen.from_dict``) and re-render the same handout and calendar months later, with
the protocol name and version, the rules' sources and the disclaimer that were in force.
``Regimen.to_dict()`` follows DESIGN.md's regimen contract (``days`` with ``am``/``pm``
lists of ``{step, product_id, gap}``, ``reintroduce``, ``conflicts``, ``stop_before_next``)
and adds fields freely; ``from_dict(to_dict())`` gives an equal plan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

from recommender import DISCLAIMER

SCHEMA = "skinrec.regimen/1"


class RegimenError(ValueError):
    """Input the regimen cannot be built or loaded from; the message says what to fix."""


def parse_date(value, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise RegimenError(f"{what}: expected a date YYYY-MM-DD, got {value!r}") from None


@dataclass(frozen=True)
class Treatment:
    """One session: when (day 0), how deep, which modality, where."""

    date: dt.date
    depth_mm: float = 1.0
    modality: str = "mn"
    area: str = "face"

    def __post_init__(self):
        object.__setattr__(self, "date", parse_date(self.date, "treatment date"))
        try:
            depth = float(self.depth_mm)
        except (TypeError, ValueError):
            raise RegimenError(f"depth must be a number of mm, got {self.depth_mm!r}") from None
        if not depth > 0 or depth != depth or depth > 10:
            raise RegimenError(f"depth must be a positive number of mm (at most 10), got {self.depth_mm!r}")
        object.__setattr__(self, "depth_mm", depth)
        object.__setattr__(self, "modality", str(self.modality or "mn").strip().lower())
        object.__setattr__(self, "area", str(self.area or "face").strip() or "face")

    def to_dict(self) -> dict:
        return {"date": self.date.isoformat(), "depth_mm": self.depth_mm,
                "modality": self.modality, "area": self.area}


def _items(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(s.strip() for s in value if s and str(s).strip())


@dataclass(frozen=True)
class Client:
    """The person: skin types, concerns (steer the score), avoid-list and pregnancy (safety)."""

    skin_types: tuple[str, ...] = ()
    concerns: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    pregnant: bool = False

    def __post_init__(self):
        for f in ("skin_types", "concerns", "avoid"):
            object.__setattr__(self, f, _items(getattr(self, f)))
        object.__setattr__(self, "pregnant", bool(self.pregnant))

    def to_dict(self) -> dict:
        return {"skin_types": list(self.skin_types), "concerns": list(self.concerns),
                "avoid": list(self.avoid), "pregnant": self.pregnant}


@dataclass
class Regimen:
    """A built plan. Nested records are plain JSON-ready dicts and lists (see plan.py)."""

    treatment: dict
    client: dict
    protocol: dict                        # name, version, disclaimer, file (name only)
    next_session: dict                    # date, day
    phases: list
    steps: list
    shelf: list
    days: list
    reintroduce: list
    conflicts: list
    stop_before_next: list
    clinic: str | None = None
    notes: list = field(default_factory=list)
    generated: dict = field(default_factory=dict)
    disclaimer: str = DISCLAIMER
    schema: str = SCHEMA

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> Regimen:
        """Load a plan saved by ``to_dict`` (e.g. from the clinic's JSON record)."""
        if not isinstance(d, dict):
            raise RegimenError("a regimen record is a JSON object")
        if d.get("schema") != SCHEMA:
            raise RegimenError(f"not a skinrec regimen record (schema {d.get('schema')!r}, "
                               f"expected {SCHEMA!r})")
        names = {f.name for f in fields(cls)}
        missing = [n for n in ("treatment", "client", "protocol", "next_session", "phases",
                               "steps", "shelf", "days", "reintroduce", "conflicts",
                               "stop_before_next") if n not in d]
        if missing:
            raise RegimenError("regimen record is missing: " + ", ".join(missing))
        for day in d["days"]:
            if not isinstance(day, dict) or not {"day", "date", "am", "pm"} <= set(day):
                raise RegimenError("regimen record: each day needs day, date, am and pm")
        return cls(**{k: v for k, v in d.items() if k in names})

    # Convenience for the faces and tests.
    @property
    def treated(self) -> dt.date:
        return dt.date.fromisoformat(self.treatment["date"])

    def placements(self):
        """(day, slot, placement) for every filled step."""
        for day in self.days:
            for slot in ("am", "pm"):
                for p in day[slot]:
                    if p.get("product_id") is not None:
                        yield day, slot, p
