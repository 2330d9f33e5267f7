"""Post-needling protocols: a YAML file of rules, loaded and validated.

Which real input each part answers:

- A clinic hands its own aftercare sheet to skinrec ("retinoids from day 5, not 7"): every
  window, class, severity and source lives in a protocol file, never in code. The default,
  ``data/protocols/default.yaml``, encodes DESIGN.md's "Default protocol" with a source and
  an evidence level per rule (science/REPORT.md).
- A clinic editing that file by hand makes typos ("untill: 7", "severity: avod", "classes:
  [retinoids]", "until: seven"). A malformed file is refused with a :class:`ProtocolError`
  naming the file, the line and the field at fault, never half-loaded: a protocol that
  silently loses a rule would let a product through inside its window.
- Rules a person relies on cannot be dropped by a clinic file: when a protocol has no
  avoid-list rule, no pregnancy rule or no rule for unreadable ingredient lists, the
  built-in ones of :data:`BUILTIN_RULES` are added (and say so in ``Protocol.added``).

Schema (see ``data/protocols/default.yaml`` for a commented example)::

    name, version, description, disclaimer        strings (version quoted: "1.0")
    factors:
      depth: {default: 1, bands: [{max_mm: 0.25, factor: 0.5}, {min_mm: 1.5, factor: 1.5}]}
      modality: {mn: {factor: 1, label: needling}, rf: {...}, prp: {...}}
      source, evidence, see_also (optional list)
    may_contain: {counts_for_safety: true, source, evidence}        (optional)
    rules: list of
      id            [a-z][a-z0-9_]*, unique
      applies_to    one of
                      {product: all}                      every product
                      {product: peel, pattern: REGEX}     name or category matches REGEX
                      {product: modality, modalities: [rf, prp]}
                      {product: unreadable}               no ingredient list could be read
                      {avoid_list: true}                  the person's avoid-list
                      {classes: [...], inci: [...], except_inci: [...], class: CLASS,
                       position_min: N, position_max: N}  ingredient rules
      when          optional: pregnant
      stages        [{severity: avoid|caution, until: DAYS|never}, ...]  stricter stage first,
                    ends increasing ("avoid until 3, then caution until 7")
      scaled        optional bool, default true: multiply the window ends by the factor
      label, note   optional text used in reasons ("a retinoid", "prefer a mineral sunscreen")
      exemptions    optional [{id, inci: [...], position_min: N, note, source, evidence}]
      source, evidence, see_also (optional list)

Evidence levels (same words as the class files): ``peer_reviewed`` (REPORT.md "P"),
``professional`` ("A"), ``clinic`` ("C"), ``regulation`` ("R"), ``none``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from recommender import config

DEFAULT_PROTOCOL_FILE = config.PROTOCOLS_DIR / "default.yaml"

SEVERITIES = ("avoid", "caution")             # strictest first
SEVERITY_RANK = {"suitable": 0, "caution": 1, "avoid": 2}
EVIDENCE_LEVELS = ("peer_reviewed", "professional", "regulation", "clinic", "none")
DESIGN_CHOICE = "skinrec design choice"

# DESIGN.md's class vocabulary plus 'nsaid' (recommender.knowledge.classes.VOCABULARY).
KNOWN_CLASSES = frozenset(
    {
        "retinoid", "aha", "bha", "pha", "vitamin_c", "benzoyl_peroxide", "fragrance",
        "fragrance_allergen", "essential_oil", "drying_alcohol", "physical_exfoliant",
        "chemical_uv_filter", "mineral_uv_filter", "pigment", "hyaluronic_acid", "peptide",
        "growth_factor", "ceramide", "panthenol", "centella", "niacinamide", "humectant",
        "nsaid",
    }
)
PRODUCT_KINDS = ("all", "peel", "modality", "unreadable")
CONDITIONS = ("pregnant",)
NEVER = math.inf

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ProtocolError(ValueError):
    """A protocol file that cannot be used: names the file, the line and the field at fault."""

    def __init__(self, problem: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.problem = problem
        self.path = path
        self.line = line
        self.field = field
        where = path or "<protocol>"
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"{where}: {problem}")


# ---------------------------------------------------------------------------------------
# YAML with line numbers: mappings and sequences remember where they and their items are.


class _Map(dict):
    line: int | None = None

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lines: dict[Any, int] = {}


class _Seq(list):
    line: int | None = None

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lines: list[int] = []


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            duplicate = key in out
        except TypeError:
            raise ProtocolError("a key must be a plain word", line=line, field=str(key)) from None
        if duplicate:
            raise ProtocolError(f"key {key!r} appears twice in this mapping", line=line,
                                field=str(key))
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq()
    out.line = node.start_mark.line + 1
    for child in node.value:
        out.append(loader.construct_object(child, deep=True))
        out.lines.append(child.start_mark.line + 1)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


# ---------------------------------------------------------------------------------------
# The protocol as data.


@dataclass(frozen=True, slots=True)
class Stage:
    severity: str            # "avoid" | "caution"
    until: float             # base window end in days (NEVER = math.inf for "never")


@dataclass(frozen=True, slots=True)
class Exemption:
    id: str
    inci: frozenset[str]
    position_min: int | None
    note: str
    source: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    scope: str                                  # "ingredient" | "product" | "avoid_list"
    stages: tuple[Stage, ...]
    source: str
    evidence: str
    product: str | None = None                  # "all" | "peel" | "modality" | "unreadable"
    classes: tuple[str, ...] = ()
    inci: frozenset[str] = frozenset()
    except_inci: frozenset[str] = frozenset()
    flag_class: str | None = None
    position_min: int | None = None
    position_max: int | None = None
    pattern: re.Pattern | None = None
    modalities: tuple[str, ...] = ()
    when: str | None = None
    scaled: bool = True
    label: str = ""
    note: str = ""
    exemptions: tuple[Exemption, ...] = ()
    see_also: tuple[str, ...] = ()
    line: int | None = None
    builtin: bool = False

    @property
    def never(self) -> bool:
        return any(math.isinf(s.until) for s in self.stages)

    def describe_target(self) -> str:
        """What the rule applies to, in words (for the protocol table)."""
        if self.scope == "avoid_list":
            text = "ingredients or classes on the person's avoid-list"
        elif self.product == "all":
            text = "every product"
        elif self.product == "peel":
            text = f"products whose name or category matches /{self.pattern.pattern}/"
        elif self.product == "modality":
            text = "every product after " + "/".join(self.modalities) + " treatment"
        elif self.product == "unreadable":
            text = "products whose ingredient list could not be read"
        else:
            parts = []
            if self.classes:
                parts.append("class " + ", ".join(self.classes))
            if self.inci:
                parts.append(", ".join(sorted(self.inci)).lower())
            text = " or ".join(parts)
            if self.except_inci:
                text += " except " + ", ".join(sorted(self.except_inci)).lower()
            if self.position_min is not None and self.position_max is not None:
                text += f" at positions {self.position_min}-{self.position_max}"
            elif self.position_min is not None:
                text += f" at position {self.position_min} or later"
            elif self.position_max is not None:
                text += f" at positions 1-{self.position_max}"
        if self.when:
            text += f" (when {self.when})"
        return text


@dataclass(frozen=True, slots=True)
class DepthBand:
    factor: float
    max_mm: float | None = None     # applies when depth <= max_mm
    min_mm: float | None = None     # applies when depth >= min_mm


@dataclass(frozen=True, eq=False)
class Protocol:
    name: str
    version: str
    description: str
    disclaimer: str
    rules: tuple[Rule, ...]
    depth_default: float
    depth_bands: tuple[DepthBand, ...]
    modalities: dict[str, tuple[float, str]]     # id -> (factor, label)
    factors_source: str
    factors_evidence: str
    may_contain_counts: bool = True
    may_contain_source: str = DESIGN_CHOICE
    may_contain_evidence: str = "none"
    path: str | None = None
    added: tuple[str, ...] = ()                  # ids of built-in rules added on load
    factors_see_also: tuple[str, ...] = ()
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    # -- factors -----------------------------------------------------------------------
    def depth_factor(self, depth_mm: float) -> float:
        """Step function: the first band that holds (max_mm: depth <= max; min_mm: >= min)."""
        for band in self.depth_bands:
            if band.max_mm is not None and depth_mm <= band.max_mm:
                return band.factor
            if band.min_mm is not None and depth_mm >= band.min_mm:
                return band.factor
        return self.depth_default

    def modality_factor(self, modality: str) -> float:
        return self.modalities[self.check_modality(modality)][0]

    def modality_label(self, modality: str) -> str:
        return self.modalities[self.check_modality(modality)][1]

    def check_modality(self, modality: str) -> str:
        if modality not in self.modalities:
            raise ValueError(
                f"unknown modality {modality!r}; protocol {self.name!r} knows "
                + ", ".join(self.modalities)
            )
        return modality

    def factor(self, depth_mm: float, modality: str) -> float:
        """f = depth factor x modality factor (DESIGN.md, "Exact semantics")."""
        return self.depth_factor(depth_mm) * self.modality_factor(modality)

    # -- lookup ------------------------------------------------------------------------
    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"protocol {self.name!r} has no rule {rule_id!r}")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)

    def summary(self) -> dict:
        return {"name": self.name, "version": self.version}

    def to_dict(self) -> dict:
        """The whole protocol as plain data (for the API and `skinrec protocol --json`)."""
        def stage(s: Stage) -> dict:
            return {"severity": s.severity, "until": None if math.isinf(s.until) else s.until}

        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "disclaimer": self.disclaimer,
            # the file name only: a served document never shows the server's directories
            "file": Path(self.path).name if self.path else None,
            "factors": {
                "depth": {
                    "default": self.depth_default,
                    "bands": [
                        {k: v for k, v in (("max_mm", b.max_mm), ("min_mm", b.min_mm),
                                           ("factor", b.factor)) if v is not None}
                        for b in self.depth_bands
                    ],
                },
                "modality": {k: {"factor": f, "label": lab}
                             for k, (f, lab) in self.modalities.items()},
                "source": self.factors_source,
                "evidence": self.factors_evidence,
            },
            "may_contain": {"counts_for_safety": self.may_contain_counts,
                            "source": self.may_contain_source,
                            "evidence": self.may_contain_evidence},
            "rules": [
                {
                    "id": r.id,
                    "applies_to": r.describe_target(),
                    "scope": r.scope,
                    "stages": [stage(s) for s in r.stages],
                    "scaled": r.scaled,
                    "when": r.when,
                    "source": r.source,
                    "evidence": r.evidence,
                    "see_also": list(r.see_also),
                    "exemptions": [
                        {"id": e.id, "inci": sorted(e.inci), "position_min": e.position_min,
                         "note": e.note, "source": e.source, "evidence": e.evidence}
                        for e in r.exemptions
                    ],
                    "builtin": r.builtin,
                }
                for r in self.rules
            ],
            "added": list(self.added),
        }


# ---------------------------------------------------------------------------------------
# Validation helpers: every error carries the line and a dotted field path.


class _V:
    def __init__(self, path: str | None):
        self.path = path

    def fail(self, problem: str, line: int | None, field: str) -> ProtocolError:
        return ProtocolError(problem, path=self.path, line=line, field=field)

    def mapping(self, value: Any, line: int | None, field: str) -> _Map:
        if not isinstance(value, dict):
            raise self.fail(f"expected a mapping (key: value lines), got {_kind(value)}",
                            line, field)
        return value

    def keys(self, m: _Map, field: str, required: tuple[str, ...], optional: tuple[str, ...]):
        for key in m:
            if key not in required and key not in optional:
                known = ", ".join(required + optional)
                raise self.fail(f"unknown field {key!r} (known: {known})", _line(m, key),
                                _join(field, key))
        for key in required:
            if key not in m:
                raise self.fail(f"missing required field {key!r}", m.line, _join(field, key))

    def string(self, m: _Map, key: str, field: str, *, required: bool = True,
               default: str = "") -> str:
        if key not in m:
            if required:
                raise self.fail(f"missing required field {key!r}", m.line, _join(field, key))
            return default
        value = m[key]
        if not isinstance(value, str) or not value.strip():
            hint = " (quote it: \"1.0\")" if isinstance(value, int | float) else ""
            raise self.fail(f"expected non-empty text, got {_kind(value)}{hint}",
                            _line(m, key), _join(field, key))
        return " ".join(value.split())

    def number(self, m: _Map, key: str, field: str, *, positive: bool = True,
               allow_never: bool = False) -> float:
        if key not in m:
            raise self.fail(f"missing required field {key!r}", m.line, _join(field, key))
        value = m[key]
        if allow_never and value == "never":
            return NEVER
        if isinstance(value, bool) or not isinstance(value, int | float):
            expect = "a number of days or 'never'" if allow_never else "a number"
            raise self.fail(f"expected {expect}, got {_kind(value)}", _line(m, key),
                            _join(field, key))
        value = float(value)
        if not math.isfinite(value) or (positive and value <= 0):
            raise self.fail(f"expected a positive finite number, got {m[key]!r}",
                            _line(m, key), _join(field, key))
        return value

    def integer(self, m: _Map, key: str, field: str) -> int | None:
        if key not in m:
            return None
        value = m[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(f"expected a whole number >= 1, got {value!r}", _line(m, key),
                            _join(field, key))
        return value

    def boolean(self, m: _Map, key: str, field: str, default: bool) -> bool:
        if key not in m:
            return default
        value = m[key]
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {value!r}", _line(m, key),
                            _join(field, key))
        return value

    def str_list(self, m: _Map, key: str, field: str, *, required: bool = False) -> list[str]:
        if key not in m:
            if required:
                raise self.fail(f"missing required field {key!r}", m.line, _join(field, key))
            return []
        value = m[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(f"expected a non-empty list of names, got {_kind(value)}",
                            _line(m, key), _join(field, key))
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                line = value.lines[i] if isinstance(value, _Seq) else _line(m, key)
                raise self.fail(f"expected a name, got {_kind(item)}", line,
                                f"{_join(field, key)}[{i}]")
            out.append(" ".join(item.split()))
        return out

    def evidence(self, m: _Map, field: str) -> str:
        value = self.string(m, "evidence", field)
        if value not in EVIDENCE_LEVELS:
            raise self.fail(f"unknown evidence level {value!r} (known: "
                            + ", ".join(EVIDENCE_LEVELS) + ")", _line(m, "evidence"),
                            _join(field, "evidence"))
        return value

    def classes(self, m: _Map, key: str, field: str) -> list[str]:
        names = self.str_list(m, key, field)
        value = m.get(key)
        for i, name in enumerate(names):
            if name not in KNOWN_CLASSES:
                line = value.lines[i] if isinstance(value, _Seq) else _line(m, key)
                raise self.fail(
                    f"unknown class {name!r} (known: {', '.join(sorted(KNOWN_CLASSES))})",
                    line, f"{_join(field, key)}[{i}]" if isinstance(value, list)
                    else _join(field, key))
        return names


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value!r} (a yes/no value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _line(m: Any, key: Any) -> int | None:
    if isinstance(m, _Map):
        return m.lines.get(key, m.line)
    return None


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else str(key)


def _upper(names: list[str]) -> frozenset[str]:
    return frozenset(" ".join(n.upper().split()) for n in names)


# ---------------------------------------------------------------------------------------
# Parsing a protocol document.

_TOP_REQUIRED = ("name", "version", "description", "disclaimer", "factors", "rules")
_TOP_OPTIONAL = ("schema", "may_contain")
_RULE_REQUIRED = ("id", "applies_to", "stages", "source", "evidence")
_RULE_OPTIONAL = ("when", "scaled", "label", "note", "exemptions", "see_also")
_APPLIES_KEYS = ("product", "pattern", "modalities", "avoid_list", "classes", "inci",
                 "except_inci", "class", "position_min", "position_max")


def parse_protocol(text: str, path: str | None = None) -> Protocol:
    """Parse and validate protocol YAML text. Raises :class:`ProtocolError`."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except ProtocolError as exc:
        exc.path = path
        raise ProtocolError(exc.problem, path=path, line=exc.line, field=exc.field) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        cmark = getattr(exc, "context_mark", None)
        if context and cmark is not None and cmark.line + 1 != line:
            context += f" that starts on line {cmark.line + 1}"
        msg = f"not valid YAML: {problem}" + (f" ({context})" if context else "")
        lines = text.splitlines()
        if line is not None and 0 < line <= len(lines) and lines[line - 1].strip():
            msg += f": {lines[line - 1].strip()!r}"
        raise ProtocolError(msg, path=path, line=line) from None
    v = _V(path)
    if doc is None:
        raise v.fail("the file is empty", 1, "")
    top = v.mapping(doc, 1, "")
    v.keys(top, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    if "schema" in top and top["schema"] != 1:
        raise v.fail(f"unsupported schema {top['schema']!r} (this skinrec reads schema 1)",
                     _line(top, "schema"), "schema")

    name = v.string(top, "name", "")
    version = v.string(top, "version", "")
    description = v.string(top, "description", "")
    disclaimer = v.string(top, "disclaimer", "")

    # factors
    fac = v.mapping(top["factors"], _line(top, "factors"), "factors")
    v.keys(fac, "factors", ("depth", "modality", "source", "evidence"), ("see_also",))
    depth = v.mapping(fac["depth"], _line(fac, "depth"), "factors.depth")
    v.keys(depth, "factors.depth", ("default",), ("bands",))
    depth_default = v.number(depth, "default", "factors.depth")
    bands: list[DepthBand] = []
    raw_bands = depth.get("bands") or []
    if not isinstance(raw_bands, list):
        raise v.fail("expected a list of bands", _line(depth, "bands"), "factors.depth.bands")
    for i, raw in enumerate(raw_bands):
        fld = f"factors.depth.bands[{i}]"
        b = v.mapping(raw, raw_bands.lines[i], fld)
        v.keys(b, fld, ("factor",), ("max_mm", "min_mm"))
        has_max, has_min = "max_mm" in b, "min_mm" in b
        if has_max == has_min:
            raise v.fail("a band needs exactly one of max_mm (depth <= max) or min_mm "
                         "(depth >= min)", b.line, fld)
        bound = v.number(b, "max_mm" if has_max else "min_mm", fld)
        bands.append(DepthBand(factor=v.number(b, "factor", fld),
                               max_mm=bound if has_max else None,
                               min_mm=bound if has_min else None))
    _check_depth_monotone(v, bands, depth_default, raw_bands)

    mod = v.mapping(fac["modality"], _line(fac, "modality"), "factors.modality")
    if not mod:
        raise v.fail("at least one modality is needed (mn)", mod.line, "factors.modality")
    modalities: dict[str, tuple[float, str]] = {}
    for key in mod:
        fld = f"factors.modality.{key}"
        if not isinstance(key, str) or not _ID_RE.match(key):
            raise v.fail("a modality id is a lower-case word", _line(mod, key), fld)
        entry = v.mapping(mod[key], _line(mod, key), fld)
        v.keys(entry, fld, ("factor",), ("label",))
        modalities[key] = (v.number(entry, "factor", fld),
                           v.string(entry, "label", fld, required=False, default=key))
    factors_source = v.string(fac, "source", "factors")
    factors_evidence = v.evidence(fac, "factors")
    factors_see_also = tuple(v.str_list(fac, "see_also", "factors"))

    # may-contain
    mc_counts, mc_source, mc_evidence = True, DESIGN_CHOICE, "none"
    if "may_contain" in top:
        mc = v.mapping(top["may_contain"], _line(top, "may_contain"), "may_contain")
        v.keys(mc, "may_contain", ("counts_for_safety", "source", "evidence"), ())
        mc_counts = v.boolean(mc, "counts_for_safety", "may_contain", True)
        mc_source = v.string(mc, "source", "may_contain")
        mc_evidence = v.evidence(mc, "may_contain")

    # rules
    raw_rules = top["rules"]
    if not isinstance(raw_rules, list) or not raw_rules:
        raise v.fail("expected a non-empty list of rules", _line(top, "rules"), "rules")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_rules):
        rule = _parse_rule(v, raw, raw_rules.lines[i], i, modalities)
        if rule.id in seen:
            raise v.fail(f"rule id {rule.id!r} already used by rules[{seen[rule.id]}]",
                         _line(raw, "id"), f"rules[{i}].id")
        seen[rule.id] = i
        rules.append(rule)

    added = []
    for builtin in BUILTIN_RULES:
        if not any(_same_kind(r, builtin) for r in rules):
            if builtin.id in seen:
                raise v.fail(f"rule id {builtin.id!r} is reserved for the built-in rule for "
                             f"{builtin.describe_target()}", _line(raw_rules[seen[builtin.id]],
                                                                   "id"),
                             f"rules[{seen[builtin.id]}].id")
            rules.append(builtin)
            added.append(builtin.id)

    return Protocol(
        name=name, version=version, description=description, disclaimer=disclaimer,
        rules=tuple(rules), depth_default=depth_default, depth_bands=tuple(bands),
        modalities=modalities, factors_source=factors_source,
        factors_evidence=factors_evidence, factors_see_also=factors_see_also,
        may_contain_counts=mc_counts, may_contain_source=mc_source,
        may_contain_evidence=mc_evidence, path=path, added=tuple(added),
    )


def _check_depth_monotone(v: _V, bands: list[DepthBand], default: float, raw) -> None:
    """Deeper needling must never shorten a window: the factor cannot fall with depth."""
    probes = sorted({0.0, *(b.max_mm for b in bands if b.max_mm is not None),
                     *(b.min_mm for b in bands if b.min_mm is not None)})
    probes = sorted({p for x in probes for p in (x, x + 1e-6)} | {100.0})
    last = None
    proto = Protocol("", "", "", "", (), default, tuple(bands), {"mn": (1.0, "")}, "", "none")
    for depth in probes:
        f = proto.depth_factor(depth)
        if last is not None and f < last[1]:
            raise v.fail(f"depth factor falls from {last[1]:g} at {last[0]:g} mm to {f:g} at "
                         f"{depth:g} mm: deeper needling may never shorten a window",
                         getattr(raw, "line", None), "factors.depth.bands")
        last = (depth, f)


def _same_kind(rule: Rule, builtin: Rule) -> bool:
    if builtin.scope == "avoid_list":
        return rule.scope == "avoid_list"
    if builtin.product == "unreadable":
        return rule.product == "unreadable"
    if builtin.when == "pregnant":
        return rule.when == "pregnant"
    return False


def _parse_rule(v: _V, raw: Any, line: int, i: int, modalities: dict) -> Rule:
    fld = f"rules[{i}]"
    r = v.mapping(raw, line, fld)
    rid = r.get("id")
    if isinstance(rid, str) and _ID_RE.match(rid):
        fld = f"rules[{i}] ({rid})"
    v.keys(r, fld, _RULE_REQUIRED, _RULE_OPTIONAL)
    rid = v.string(r, "id", fld)
    if not _ID_RE.match(rid):
        raise v.fail(f"rule id {rid!r} must be a lower-case word ([a-z][a-z0-9_]*)",
                     _line(r, "id"), f"{fld}.id")

    a_fld = f"{fld}.applies_to"
    a = v.mapping(r["applies_to"], _line(r, "applies_to"), a_fld)
    v.keys(a, a_fld, (), _APPLIES_KEYS)
    kw: dict[str, Any] = {}

    def only(allowed: tuple[str, ...], what: str) -> None:
        for key in a:
            if key not in allowed:
                raise v.fail(f"{key!r} does not go with {what}", _line(a, key),
                             f"{a_fld}.{key}")

    if "product" in a:
        kind = a["product"]
        if kind not in PRODUCT_KINDS:
            raise v.fail(f"unknown product rule {kind!r} (known: {', '.join(PRODUCT_KINDS)})",
                         _line(a, "product"), f"{a_fld}.product")
        kw.update(scope="product", product=kind)
        if kind == "peel":
            only(("product", "pattern"), "product: peel")
            pattern = v.string(a, "pattern", a_fld, required=False, default="peel")
            try:
                kw["pattern"] = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise v.fail(f"not a valid regular expression: {exc}", _line(a, "pattern"),
                             f"{a_fld}.pattern") from None
        elif kind == "modality":
            only(("product", "modalities"), "product: modality")
            mods = v.str_list(a, "modalities", a_fld, required=True)
            for j, m in enumerate(mods):
                if m not in modalities:
                    raise v.fail(f"unknown modality {m!r} (factors.modality defines "
                                 f"{', '.join(modalities)})", _line(a, "modalities"),
                                 f"{a_fld}.modalities[{j}]")
            kw["modalities"] = tuple(mods)
        else:
            only(("product",), f"product: {kind}")
    elif "avoid_list" in a:
        only(("avoid_list",), "avoid_list")
        if a["avoid_list"] is not True:
            raise v.fail("expected avoid_list: true", _line(a, "avoid_list"),
                         f"{a_fld}.avoid_list")
        kw.update(scope="avoid_list")
    else:
        if "pattern" in a or "modalities" in a:
            key = "pattern" if "pattern" in a else "modalities"
            raise v.fail(f"{key!r} needs product: peel / product: modality", _line(a, key),
                         f"{a_fld}.{key}")
        classes = v.classes(a, "classes", a_fld)
        inci = v.str_list(a, "inci", a_fld)
        if not classes and not inci:
            raise v.fail("an ingredient rule needs 'classes' or 'inci' (or use product: ... "
                         "or avoid_list: true)", a.line, a_fld)
        flag_class = None
        if "class" in a:
            flag_class = v.string(a, "class", a_fld)
            if flag_class not in KNOWN_CLASSES:
                raise v.fail(f"unknown class {flag_class!r}", _line(a, "class"),
                             f"{a_fld}.class")
        pmin = v.integer(a, "position_min", a_fld)
        pmax = v.integer(a, "position_max", a_fld)
        if pmin is not None and pmax is not None and pmin > pmax:
            raise v.fail(f"position_min {pmin} is after position_max {pmax}",
                         _line(a, "position_min"), f"{a_fld}.position_min")
        kw.update(scope="ingredient", classes=tuple(classes), inci=_upper(inci),
                  except_inci=_upper(v.str_list(a, "except_inci", a_fld)),
                  flag_class=flag_class, position_min=pmin, position_max=pmax)

    when = None
    if "when" in r:
        when = r["when"]
        if when not in CONDITIONS:
            raise v.fail(f"unknown condition {when!r} (known: {', '.join(CONDITIONS)})",
                         _line(r, "when"), f"{fld}.when")

    stages = _parse_stages(v, r, fld)
    scaled = v.boolean(r, "scaled", fld, True)

    exemptions = []
    if "exemptions" in r:
        raw_ex = r["exemptions"]
        if not isinstance(raw_ex, list) or not raw_ex:
            raise v.fail("expected a non-empty list of exemptions", _line(r, "exemptions"),
                         f"{fld}.exemptions")
        if kw["scope"] != "ingredient":
            raise v.fail("exemptions apply to ingredient rules only", _line(r, "exemptions"),
                         f"{fld}.exemptions")
        for j, ex in enumerate(raw_ex):
            e_fld = f"{fld}.exemptions[{j}]"
            e = v.mapping(ex, raw_ex.lines[j], e_fld)
            v.keys(e, e_fld, ("id", "inci", "source", "evidence"), ("position_min", "note"))
            eid = v.string(e, "id", e_fld)
            if not _ID_RE.match(eid):
                raise v.fail(f"exemption id {eid!r} must be a lower-case word",
                             _line(e, "id"), f"{e_fld}.id")
            exemptions.append(Exemption(
                id=eid, inci=_upper(v.str_list(e, "inci", e_fld, required=True)),
                position_min=v.integer(e, "position_min", e_fld),
                note=v.string(e, "note", e_fld, required=False),
                source=v.string(e, "source", e_fld), evidence=v.evidence(e, e_fld)))

    return Rule(
        id=rid, stages=stages, source=v.string(r, "source", fld),
        evidence=v.evidence(r, fld), when=when, scaled=scaled,
        label=v.string(r, "label", fld, required=False),
        note=v.string(r, "note", fld, required=False),
        exemptions=tuple(exemptions), see_also=tuple(v.str_list(r, "see_also", fld)),
        line=line, **kw,
    )


def _parse_stages(v: _V, r: _Map, fld: str) -> tuple[Stage, ...]:
    raw = r["stages"]
    s_fld = f"{fld}.stages"
    if isinstance(raw, dict):          # one stage written without the list
        raw = _Seq([raw])
        raw.lines.append(raw[0].line)
    if not isinstance(raw, list) or not raw:
        raise v.fail("expected a list of stages like [{severity: avoid, until: 7}]",
                     _line(r, "stages"), s_fld)
    stages: list[Stage] = []
    for j, item in enumerate(raw):
        st_fld = f"{s_fld}[{j}]"
        s = v.mapping(item, raw.lines[j], st_fld)
        v.keys(s, st_fld, ("severity", "until"), ())
        sev = s["severity"]
        if sev not in SEVERITIES:
            raise v.fail(f"unknown severity {sev!r} (known: {', '.join(SEVERITIES)})",
                         _line(s, "severity"), f"{st_fld}.severity")
        until = v.number(s, "until", st_fld, allow_never=True)
        if stages:
            prev = stages[-1]
            if SEVERITY_RANK[sev] >= SEVERITY_RANK[prev.severity]:
                raise v.fail(f"stage {j} ({sev}) must be milder than stage {j - 1} "
                             f"({prev.severity}): list the strictest stage first",
                             _line(s, "severity"), f"{st_fld}.severity")
            if until <= prev.until:
                raise v.fail(f"stage {j} ends at {s['until']} but must end after stage "
                             f"{j - 1} ({prev.until:g})", _line(s, "until"),
                             f"{st_fld}.until")
        stages.append(Stage(sev, until))
    return tuple(stages)


# ---------------------------------------------------------------------------------------
# Built-in rules a protocol file cannot drop.

BUILTIN_RULES: tuple[Rule, ...] = (
    Rule(id="avoid_list", scope="avoid_list", stages=(Stage("avoid", NEVER),),
         source="personal avoid-list", evidence="none", label="on your avoid-list",
         builtin=True),
    Rule(id="pregnancy_retinoid", scope="ingredient", classes=("retinoid",),
         stages=(Stage("avoid", NEVER),), when="pregnant",
         source="https://www.droracle.ai/articles/97298/ (low-quality source; see "
                "science/REPORT.md section 3)",
         evidence="clinic", label="a retinoid, and retinoids are avoided in pregnancy",
         builtin=True),
    Rule(id="unreadable_list", scope="product", product="unreadable",
         stages=(Stage("caution", NEVER),), source=DESIGN_CHOICE, evidence="none",
         label="No ingredient list could be read for this product",
         note="check the label yourself", builtin=True),
)


# ---------------------------------------------------------------------------------------
# Loading.


def load_protocol(path: str | Path | None = None) -> Protocol:
    """Load and validate a protocol file; ``None`` loads the default protocol.

    Raises :class:`ProtocolError` (a ``ValueError``) for a malformed file and
    ``FileNotFoundError`` for a missing one.
    """
    if path is None:
        return default_protocol()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"not UTF-8 text ({exc.reason})", path=str(path)) from None
    return parse_protocol(text, str(path))


@lru_cache(maxsize=1)
def default_protocol() -> Protocol:
    """The versioned default protocol shipped in data/protocols/default.yaml (cached)."""
    return parse_protocol(DEFAULT_PROTOCOL_FILE.read_text(encoding="utf-8"),
                          str(DEFAULT_PROTOCOL_FILE))
