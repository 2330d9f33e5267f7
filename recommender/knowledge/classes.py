"""Ingredient classes: the vocabulary every output uses (DESIGN.md, "Ingredient classes").

Which real input or need each rule answers:

- ``members``: canonical INCI names exactly as the EU CosIng inventory spells them. A label
  that prints "Retinyl Palmitate" reaches ``RETINYL PALMITATE`` through the parser and alias
  table, and the protocol needs to know it is a retinoid (avoid until day 7).
- ``patterns``: regexes over the upper-case canonical name, for families too large or too
  open to list (every ``... PEEL OIL`` is an essential oil, every ``CI nnnnn`` a colourant,
  every ``...PEPTIDE-n`` a peptide). Each pattern was read against all 28,712 CosIng names
  and its false hits put in ``exceptions``.
- ``exceptions``: the traps of DESIGN.md, stated as data: bakuchiol is no retinoid,
  hyaluronic/stearic/ascorbic/linoleic acid are no AHA, octisalate and homosalate are UV
  filters and no BHA, fatty alcohols are not drying, carrier oils are not essential oils,
  zinc oxide and titanium dioxide are never pigments.
- ``functions``: CosIng function terms that imply membership, used sparingly (a CosIng
  function is a claim by the notifier, not a property of the substance).
- ``eu_allergen``: the class follows the knowledge base's EU-labelled-allergen flag (Annex III
  entries that must be labelled above 0.001 % leave-on, Reg. (EU) 2023/1545), not names.
- ``extra_members``: names that are not in the CosIng inventory on purpose (drug substances
  such as tretinoin, adapalene, diclofenac, prohibited in cosmetics but printed on the drug
  products people bring to the clinic); each must be explained by ``extra_members_reason``.
- ``printed_patterns``: regexes over the upper-case *printed* name of a mention the knowledge
  base does not recognise (unmatched or only a fuzzy reading). A label that prints just
  "Essential Oil", "Hyacinth Essential Oil" or "Cashmere Mist Fragrance" names no INCI entry,
  but what it is, is printed: it must still be flagged (an essential oil in a post-needling
  product), whatever the learned fallback makes of it.
- ``query_terms``: the words a person types in a personal avoid-list ("retinoids", "AHA",
  "vitamin c"), mapped to the class id by :meth:`ClassRules.classes_for_query`.
- ``source`` / ``evidence``: every class cites where its membership comes from; a class with
  no published definition reads "skinrec design choice" with evidence "none".

A malformed class file is refused with the file and the field at fault, so a clinic editing
the data sees what to fix instead of silently losing a class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from recommender import config
from recommender.config import MEMO_ENTRIES

# The vocabulary (DESIGN.md). "peel" is a product-level rule, not an ingredient class.
VOCABULARY: tuple[str, ...] = (
    "retinoid", "aha", "bha", "pha", "vitamin_c", "benzoyl_peroxide", "fragrance",
    "fragrance_allergen", "essential_oil", "drying_alcohol", "physical_exfoliant",
    "chemical_uv_filter", "mineral_uv_filter", "pigment", "hyaluronic_acid", "peptide",
    "growth_factor", "ceramide", "panthenol", "centella", "niacinamide", "humectant", "nsaid",
)

EVIDENCE_LEVELS = frozenset(
    {"regulation", "peer_reviewed", "professional", "clinic", "nomenclature", "none"}
)

_REQUIRED = ("id", "description", "source", "evidence", "members", "patterns", "exceptions")
_OPTIONAL = (
    "functions", "eu_allergen", "extra_members", "extra_members_reason", "query_terms", "notes",
    "printed_patterns",
)
_LIST_FIELDS = ("members", "patterns", "exceptions", "functions", "extra_members", "query_terms",
                "printed_patterns")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ClassFileError(ValueError):
    """A class file that cannot be used; the message names the file and the field."""

    def __init__(self, path: Path | str, field_name: str, problem: str):
        self.path = str(path)
        self.field = field_name
        self.problem = problem
        super().__init__(f"{path}: field '{field_name}': {problem}")


def _fold_name(name: str) -> str:
    return " ".join(str(name).upper().split())


def _fold_query(text: str) -> str:
    text = str(text).lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class ClassRule:
    id: str
    description: str
    source: str
    evidence: str
    members: frozenset[str]
    patterns: tuple[str, ...]
    exceptions: frozenset[str]
    functions: frozenset[str] = frozenset()
    eu_allergen: bool = False
    extra_members: frozenset[str] = frozenset()
    extra_members_reason: str = ""
    query_terms: tuple[str, ...] = ()
    path: str = ""
    printed_patterns: tuple[str, ...] = ()
    _regex: re.Pattern | None = field(default=None, repr=False, compare=False)
    _printed: re.Pattern | None = field(default=None, repr=False, compare=False)

    def matches(self, name: str, functions: frozenset[str], eu_allergen: bool) -> bool:
        if name in self.exceptions:
            return False
        if name in self.members or name in self.extra_members:
            return True
        if self._regex is not None and self._regex.search(name):
            return True
        if self.functions and not self.functions.isdisjoint(functions):
            return True
        return bool(self.eu_allergen and eu_allergen)


def _as_str_list(path: Path, data: Mapping, key: str) -> list[str]:
    value = data.get(key, [])
    if value is None:
        value = []
    if not isinstance(value, list):
        raise ClassFileError(path, key, f"must be a list, got {type(value).__name__}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ClassFileError(path, f"{key}[{i}]", f"must be a non-empty string, got {item!r}")
        out.append(item)
    return out


def parse_class_file(path: Path | str) -> ClassRule:
    """Read and validate one class file; raise :class:`ClassFileError` naming file and field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ClassFileError(path, "<yaml>", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ClassFileError(path, "<root>", "must be a mapping of field names to values")
    for key in _REQUIRED:
        if key not in data:
            raise ClassFileError(path, key, "missing")
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ClassFileError(path, unknown[0], "unknown field (typo?)")

    cid = data["id"]
    if not isinstance(cid, str) or not _ID_RE.match(cid):
        raise ClassFileError(path, "id", f"must be a lower-case identifier, got {cid!r}")
    if cid != path.stem:
        raise ClassFileError(path, "id", f"{cid!r} does not match the file name {path.stem!r}")
    for key in ("description", "source"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise ClassFileError(path, key, "must be a non-empty string")
    evidence = data["evidence"]
    if evidence not in EVIDENCE_LEVELS:
        raise ClassFileError(path, "evidence", f"{evidence!r} not one of {sorted(EVIDENCE_LEVELS)}")
    if "skinrec design choice" in data["source"].lower() and evidence != "none":
        raise ClassFileError(path, "evidence", "a 'skinrec design choice' source has evidence 'none'")

    lists = {key: _as_str_list(path, data, key) for key in _LIST_FIELDS}
    for key in ("members", "exceptions", "extra_members"):
        seen: set[str] = set()
        for i, name in enumerate(lists[key]):
            if name != name.strip() or name != name.upper() or "  " in name:
                raise ClassFileError(
                    path, f"{key}[{i}]", f"{name!r} is not an upper-case canonical INCI name"
                )
            if name in seen:
                raise ClassFileError(path, f"{key}[{i}]", f"{name!r} listed twice")
            seen.add(name)
    both = set(lists["members"]) & set(lists["exceptions"])
    if both:
        raise ClassFileError(path, "exceptions", f"also listed as members: {sorted(both)}")
    compiled = []
    for i, pattern in enumerate(lists["patterns"]):
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ClassFileError(path, f"patterns[{i}]", f"invalid regex {pattern!r}: {exc}") from exc
        if compiled[-1].search(""):
            raise ClassFileError(path, f"patterns[{i}]", f"{pattern!r} matches the empty name")
    for i, pattern in enumerate(lists["printed_patterns"]):
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise ClassFileError(path, f"printed_patterns[{i}]", f"invalid regex {pattern!r}: {exc}") from exc
        if rx.search(""):
            raise ClassFileError(path, f"printed_patterns[{i}]", f"{pattern!r} matches the empty name")
    printed = "|".join(f"(?:{p})" for p in lists["printed_patterns"])
    if lists["extra_members"] and not str(data.get("extra_members_reason", "")).strip():
        raise ClassFileError(path, "extra_members_reason", "required when extra_members is set")
    eu_allergen = data.get("eu_allergen", False)
    if not isinstance(eu_allergen, bool):
        raise ClassFileError(path, "eu_allergen", "must be true or false")

    regex = re.compile("|".join(f"(?:{p})" for p in lists["patterns"])) if compiled else None
    return ClassRule(
        id=cid,
        description=data["description"].strip(),
        source=data["source"].strip(),
        evidence=evidence,
        members=frozenset(lists["members"]),
        patterns=tuple(lists["patterns"]),
        exceptions=frozenset(lists["exceptions"]),
        functions=frozenset(_fold_name(f) for f in lists["functions"]),
        eu_allergen=eu_allergen,
        extra_members=frozenset(lists["extra_members"]),
        extra_members_reason=str(data.get("extra_members_reason", "") or "").strip(),
        query_terms=tuple(lists["query_terms"]),
        path=str(path),
        printed_patterns=tuple(lists["printed_patterns"]),
        _regex=regex,
        _printed=re.compile(printed) if printed else None,
    )


class ClassRules:
    """The loaded vocabulary. ``classify`` is called once per CosIng name by the KB build."""

    def __init__(self, rules: Iterable[ClassRule]):
        self._rules: dict[str, ClassRule] = {}
        for rule in rules:
            if rule.id in self._rules:
                raise ClassFileError(rule.path, "id", f"{rule.id!r} already defined")
            self._rules[rule.id] = rule
        self._ordered = tuple(self._rules[k] for k in sorted(self._rules))
        self._cache: dict[tuple, tuple[str, ...]] = {}
        self._queries: dict[str, str] = {}
        self._printed_cache: dict[str, tuple[str, ...]] = {}
        for rule in self._ordered:
            terms = [rule.id, rule.id.replace("_", " "), *rule.query_terms]
            for term in terms:
                key = _fold_query(term)
                other = self._queries.get(key)
                if other is not None and other != rule.id:
                    raise ClassFileError(
                        rule.path, "query_terms", f"{term!r} already maps to class {other!r}"
                    )
                self._queries[key] = rule.id

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self._ordered)

    def __contains__(self, class_id: object) -> bool:
        return class_id in self._rules

    def __len__(self) -> int:
        return len(self._rules)

    def rule(self, class_id: str) -> ClassRule:
        try:
            return self._rules[class_id]
        except KeyError:
            raise KeyError(f"unknown ingredient class {class_id!r}; known: {self.ids}") from None

    def classify(
        self, inci: str, functions: tuple[str, ...] = (), eu_allergen: bool = False
    ) -> tuple[str, ...]:
        """Sorted class ids of one canonical INCI name.

        ``functions``: CosIng function terms of the name (a comma-joined string is accepted).
        ``eu_allergen``: the KB's flag for the EU-labelled fragrance allergens.
        """
        if isinstance(functions, str):
            functions = tuple(functions.split(","))
        key = (inci, tuple(functions), bool(eu_allergen))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        name = _fold_name(inci)
        funcs = frozenset(_fold_name(f) for f in functions if f and str(f).strip())
        result = tuple(r.id for r in self._ordered if r.matches(name, funcs, bool(eu_allergen)))
        if len(self._cache) < 500_000:
            self._cache[key] = result
        return result

    def classify_printed(self, printed: str) -> tuple[str, ...]:
        """Sorted class ids whose ``printed_patterns`` match a printed name the KB does not know
        ("Hyacinth Essential Oil" -> essential_oil). Never used for recognised names."""
        hit = self._printed_cache.get(printed)
        if hit is None:
            name = _fold_name(printed)
            hit = tuple(r.id for r in self._ordered
                        if r._printed is not None and r._printed.search(name))
            if len(self._printed_cache) > MEMO_ENTRIES:
                self._printed_cache.clear()
            self._printed_cache[printed] = hit
        return hit

    def source(self, class_id: str) -> dict:
        rule = self.rule(class_id)
        return {"source": rule.source, "evidence": rule.evidence}

    def members(self, class_id: str) -> frozenset[str]:
        """The listed canonical members (patterns and functions catch more)."""
        rule = self.rule(class_id)
        return rule.members | rule.extra_members

    def description(self, class_id: str) -> str:
        return self.rule(class_id).description

    def classes_for_query(self, text: str) -> str | None:
        """Map a word from a personal avoid-list ("retinoids", "AHA", "Vitamin C") to a class id."""
        key = _fold_query(text)
        if not key:
            return None
        candidates = [key]
        if key.endswith("es"):
            candidates.append(key[:-2])
        if key.endswith("s"):
            candidates.append(key[:-1])
        for cand in candidates:
            if cand in self._queries:
                return self._queries[cand]
        return None


def load_class_rules(directory: Path | str | None = None) -> ClassRules:
    """Load every ``<id>.yaml`` in ``directory`` (default ``config.CLASSES_DIR``)."""
    directory = Path(directory) if directory is not None else config.CLASSES_DIR
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise FileNotFoundError(f"no class files (*.yaml) in {directory}")
    return ClassRules(parse_class_file(p) for p in files)
