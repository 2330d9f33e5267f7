"""EU CosIng annexes and the 81 labelled fragrance allergens, matched to canonical INCI names.

Which real input or user need each rule answers:

- Inputs: the official CosIng exports of Annexes II (prohibited), III (restricted),
  V (preservatives) and VI (UV filters) in the data directory (June 2026; four preamble
  lines, multi-line quoted cells), Annex IV (colourants, CI numbers) from the PyPI package
  ``on-the-list`` (its vendored August 2026 copy), and the derived list of the 81 EU-labelled
  fragrance allergens (Reg. (EU) 2023/1545).
- Parsing reuses ``on_the_list.annexes.read_annex``: the glossary column splits on ``;``/``/``
  only and the "Identified INGREDIENTS" column on commas that are not chemical locants
  ("N,N-DIETHYL-m-AMINOPHENOL" stays whole). A hand-rolled split shreds real names.
- Matching is by NAME only (glossary + identified-ingredient names, folded with
  ``on_the_list.normalise.fold``: case, spacing, PDF hyphen breaks, British spellings; then
  exact). Never by CAS for botanicals: a plant's CAS number is shared by all its parts, so a
  CAS match would make rosehip seed oil (Rosa canina fruit oil) a rose-flower-oil allergen.
- Annex II matches are curated (``data/kb/annex_curation.yaml``): entries whose own wording
  sets a condition (hair-dye-only colourants, "except for normal content in natural
  essences", petrolatum's refining history, nano-only entries, impurity thresholds) make the
  ingredient ``restricted`` but not ``prohibited``, with the reason kept as text.
- Allergens: by name; an entry no inventory name matches falls back to its CAS number only
  when the entry has one CAS and the inventory name is a defined chemical (e.g. the
  regulation's "Acetyl Cedrene" is CosIng's ACETYLCEDRENE, CAS 32388-55-9). Allergen names
  the inventory lacks ("POGOSTEMON CABLIN OIL", "ACETYL CEDRENE") become KB rows of their
  own (with the entry's CAS when it is a single defined chemical), so the parser can
  recognise what the regulation requires labels to print.
"""

from __future__ import annotations

import importlib.resources
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from on_the_list.annexes import is_nano_only, read_annex, split_glossary, split_identified
from on_the_list.models import AnnexEntry
from on_the_list.normalise import fold

from recommender import config

ANNEX_FILES = {
    "II": "COSING_Annex_II_v2.csv",
    "III": "COSING_Annex_III_v2.csv",
    "V": "COSING_Annex_V_v2.csv",
    "VI": "COSING_Annex_VI_v2.csv",
}
ANNEX_ORDER = ("II", "III", "IV", "V", "VI")
CURATION_FILE = config.AUTHORED_DATA_DIR / "kb" / "annex_curation.yaml"
_ACTIONS = ("conditional", "not_a_match", "ignore")
_CI = re.compile(r"^ci (\d{5}(?::\d{1,2})?)$")


def name_key(name: str) -> str:
    """The comparison form of a name (both sides of every annex match go through it)."""
    return fold(str(name))


def ci_number(name: str) -> str | None:
    """'CI 77491' (any spelling ``fold`` accepts) -> '77491'; None for other names."""
    m = _CI.match(name_key(name))
    return m.group(1) if m else None


def citation(annex: str, ref: str) -> str:
    return f"{annex}/{ref.replace(' ', '')}"


def citation_sort_key(cite: str) -> tuple:
    annex, _, ref = cite.partition("/")
    m = re.match(r"(\d+)(.*)", ref)
    num, rest = (int(m.group(1)), m.group(2)) if m else (10**9, ref)
    order = ANNEX_ORDER.index(annex) if annex in ANNEX_ORDER else len(ANNEX_ORDER)
    return (order, num, rest)


# --------------------------------------------------------------------------- reading


def annex_iv_path() -> Path:
    """Annex IV (colourants) as vendored by the ``on-the-list`` package."""
    res = importlib.resources.files("on_the_list") / "data" / "annex_IV.csv"
    return Path(str(res))


def annex_paths(data_dir: Path) -> dict[str, Path]:
    base = Path(data_dir) / config.COSING_ANNEXES_DIR
    paths = {annex: base / fname for annex, fname in ANNEX_FILES.items()}
    paths["IV"] = annex_iv_path()
    return {a: paths[a] for a in ANNEX_ORDER}


def read_annexes(data_dir: Path) -> dict[str, list[AnnexEntry]]:
    """Every annex entry, by annex (II, III, IV, V, VI)."""
    out: dict[str, list[AnnexEntry]] = {}
    for annex, path in annex_paths(data_dir).items():
        if not path.exists():
            raise FileNotFoundError(f"{path} not found. {config.DATA_HOWTO}")
        out[annex] = read_annex(annex, path.read_text(encoding="utf-8"))
        if not out[annex]:
            raise ValueError(f"{path}: no annex entries read")
    return out


@dataclass(frozen=True)
class Allergen:
    ref: str                      # Annex III reference, e.g. "84"
    names: tuple[str, ...]        # glossary + identified names as printed
    cas: tuple[str, ...]          # every CAS number in the entry

    @property
    def citation(self) -> str:
        return citation("III", self.ref)


_CAS_RE = re.compile(r"\b\d{2,7}-\d{2}-\d\b")


def read_allergens(path: Path) -> list[Allergen]:
    """The 81 EU-labelled fragrance allergens (derived from Annex III)."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        names = split_glossary(row.get("inci_glossary_names") or "")
        names += split_identified(row.get("identified_inci") or "")
        seen: dict[str, str] = {}
        for n in names:
            seen.setdefault(name_key(n), n.strip())
        cas = tuple(dict.fromkeys(_CAS_RE.findall(row.get("cas") or "")))
        out.append(Allergen(str(row["annex_iii_ref"]).strip(), tuple(seen.values()), cas))
    return out


# --------------------------------------------------------------------------- curation


@dataclass(frozen=True)
class Decision:
    action: str        # "conditional" | "not_a_match" | "ignore"
    reason: str
    rule: str          # which curation item decided, for the manifest counts


@dataclass
class Curation:
    """``data/kb/annex_curation.yaml``, validated."""

    rules: list[tuple[str, re.Pattern, Decision]]
    nano: Decision
    also_permitted: Decision
    entries: dict[tuple[str, str], list[tuple[frozenset[str] | None, re.Pattern | None, Decision]]]
    ci_common_names: list[dict]
    path: str = ""

    def entry_decision(self, annex: str, ref: str, name: str) -> Decision | None:
        for names, pattern, decision in self.entries.get((annex, ref.replace(" ", "")), []):
            if names is not None and name not in names:
                continue
            if pattern is not None and not pattern.search(name):
                continue
            return decision
        return None

    def rule_decision(self, chemical_name: str) -> Decision | None:
        for _rid, pattern, decision in self.rules:
            if pattern.search(chemical_name):
                return decision
        return None


class CurationError(ValueError):
    pass


def _decision(path: Path, where: str, item: Mapping, rule_id: str) -> Decision:
    action = item.get("action")
    reason = str(item.get("reason") or "").strip()
    if action not in _ACTIONS:
        raise CurationError(f"{path}: {where}: action {action!r} not one of {_ACTIONS}")
    if not reason:
        raise CurationError(f"{path}: {where}: every decision needs a reason")
    return Decision(action, " ".join(reason.split()), rule_id)


def load_curation(path: Path | str | None = None) -> Curation:
    path = Path(path) if path is not None else CURATION_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CurationError(f"{path}: must be a mapping")
    rules = []
    for i, item in enumerate(data.get("annex_ii_rules") or []):
        rid = str(item.get("id") or f"rule{i}")
        try:
            pattern = re.compile(item["pattern"], re.IGNORECASE | re.MULTILINE)
        except (KeyError, re.error) as exc:
            raise CurationError(f"{path}: annex_ii_rules[{i}]: bad pattern: {exc}") from exc
        rules.append((rid, pattern, _decision(path, f"annex_ii_rules[{i}]", item, f"rule:{rid}")))
    nano = _decision(path, "nano_rule", data.get("nano_rule") or {}, "rule:nano")
    also = _decision(
        path, "also_permitted_elsewhere", data.get("also_permitted_elsewhere") or {},
        "rule:also_permitted_elsewhere",
    )
    entries: dict = defaultdict(list)
    for i, item in enumerate(data.get("entries") or []):
        annex, ref = str(item.get("annex", "")), str(item.get("ref", "")).replace(" ", "")
        if annex not in ANNEX_ORDER or not ref:
            raise CurationError(f"{path}: entries[{i}]: needs annex (II..VI) and ref")
        names = item.get("names")
        names = frozenset(str(n).upper() for n in names) if names else None
        pat = item.get("name_pattern")
        pat = re.compile(pat) if pat else None
        cite = citation(annex, ref)
        entries[(annex, ref)].append(
            (names, pat, _decision(path, f"entries[{i}] ({cite})", item, f"entry:{cite}"))
        )
    ci_names = []
    for i, item in enumerate(data.get("annex_iv_common_names") or []):
        name = str(item.get("name") or "").strip().upper()
        cis = [str(c) for c in item.get("ci") or []]
        if not name or not cis or not str(item.get("reason") or "").strip():
            raise CurationError(f"{path}: annex_iv_common_names[{i}]: needs name, ci, reason")
        ci_names.append({"name": name, "ci": cis, "reason": " ".join(item["reason"].split())})
    return Curation(rules, nano, also, dict(entries), ci_names, str(path))


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Listing:
    """One annex entry naming one canonical ingredient."""

    annex: str
    ref: str
    status: str            # "prohibited" | "conditional" (Annex II) | "listed" (III-VI)
    reason: str = ""
    rule: str = ""
    ci: str | None = None  # Annex IV: the entry's colour-index number

    @property
    def citation(self) -> str:
        return citation(self.annex, self.ref)


@dataclass
class AnnexMatches:
    by_name: dict[str, list[Listing]] = field(default_factory=dict)
    decided: Counter = field(default_factory=Counter)      # rule/entry id -> matches decided
    dropped: list[tuple[str, str, str]] = field(default_factory=list)  # (cite, name, reason)
    entries_matched: Counter = field(default_factory=Counter)   # annex -> entries with a match

    def listings(self, name: str) -> list[Listing]:
        return self.by_name.get(name, [])


_PAREN_CI = re.compile(r"^(.*?)\s*\(\s*C\.?\s?I\.?\s*(\d{5}(?::\d{1,2})?)\s*\)\s*$", re.IGNORECASE)


def entry_names(entry: AnnexEntry) -> list[str]:
    """An entry's names, plus both halves of a "NAME (CI nnnnn)" cell.

    Annex IV entry 18 prints its only glossary name as "PONCEAUX SX (CI 14700)"; without
    the split, neither CI 14700 nor the dye name would ever match.
    """
    out = list(entry.names)
    for n in entry.names:
        m = _PAREN_CI.match(n)
        if m:
            out += [m.group(1), f"CI {m.group(2)}"]
    return out


def entry_keys(entry: AnnexEntry) -> set[str]:
    return {name_key(n) for n in entry_names(entry)} - {""}


def _entry_ci(entry: AnnexEntry) -> str | None:
    for n in entry_names(entry):
        ci = ci_number(n)
        if ci:
            return ci
    return None


def match_annexes(
    names: Iterable[str], annexes: Mapping[str, list[AnnexEntry]], curation: Curation
) -> AnnexMatches:
    """Annex listings of every canonical name, Annex II curated as prohibited/conditional."""
    index: dict[str, list[str]] = defaultdict(list)
    for n in names:
        index[name_key(n)].append(n)
    out = AnnexMatches()
    by_name: dict[str, list[Listing]] = defaultdict(list)
    for annex in ANNEX_ORDER:
        for entry in annexes.get(annex, []):
            hits = sorted({n for key in entry_keys(entry) for n in index.get(key, ())})
            if not hits:
                continue
            cite = citation(annex, entry.reference)
            rule = curation.rule_decision(entry.chemical_name) if annex == "II" else None
            if rule is not None and rule.action == "ignore":
                out.decided[rule.rule] += len(hits)
                continue
            nano = annex == "II" and is_nano_only(entry.chemical_name, entry.names)
            ci = _entry_ci(entry) if annex == "IV" else None
            matched_any = False
            for name in hits:
                decision = curation.entry_decision(annex, entry.reference, name)
                if decision is None and annex == "II":
                    decision = rule if rule is not None else (curation.nano if nano else None)
                if decision is not None:
                    out.decided[decision.rule] += 1
                    if decision.action in ("not_a_match", "ignore"):
                        out.dropped.append((cite, name, decision.reason))
                        continue
                matched_any = True
                if annex == "II":
                    status = "conditional" if decision else "prohibited"
                else:
                    status = "listed"
                reason = decision.reason if decision else ""
                by_name[name].append(
                    Listing(annex, entry.reference.replace(" ", ""), status, reason,
                            decision.rule if decision else "", ci)
                )
            if matched_any:
                out.entries_matched[annex] += 1
    # An unconditional Annex II match on a name that a permissive annex also lists.
    for listings in by_name.values():
        elsewhere = sorted(
            {x.citation for x in listings if x.annex != "II"}, key=citation_sort_key
        )
        if not elsewhere:
            continue
        for i, x in enumerate(listings):
            if x.annex == "II" and x.status == "prohibited":
                d = curation.also_permitted
                listings[i] = Listing(
                    x.annex, x.ref, "conditional", d.reason.format(refs=", ".join(elsewhere)),
                    d.rule, x.ci,
                )
                out.decided[d.rule] += 1
    for listings in by_name.values():
        listings.sort(key=lambda x: citation_sort_key(x.citation))
    out.by_name = dict(by_name)
    return out


@dataclass
class AllergenMatches:
    by_name: dict[str, str] = field(default_factory=dict)     # canonical name -> "III/84"
    via: Counter = field(default_factory=Counter)             # "name" | "cas" | "added"
    added: dict[str, str] = field(default_factory=dict)       # new canonical name -> ref
    added_cas: dict[str, str] = field(default_factory=dict)   # new name -> the entry's CAS
    refs_covered: set[str] = field(default_factory=set)


def _is_plain_name(name: str) -> bool:
    """A name fit to be a canonical INCI row (no IUPAC commas, no stray case)."""
    return "," not in name and len(name) <= 80


def match_allergens(
    allergens: Iterable[Allergen],
    rows: Mapping[str, str],
    is_defined: Callable[[str], bool],
) -> AllergenMatches:
    """Flag canonical names (``rows``: name -> first CAS) that are EU-labelled allergens.

    By name first. An entry no name matches falls back to CAS only for a single-CAS entry
    and an inventory name ``is_defined`` accepts (a defined chemical, never a botanical);
    its printable names then become rows of their own.
    """
    index: dict[str, list[str]] = defaultdict(list)
    by_cas: dict[str, list[str]] = defaultdict(list)
    for n, cas in rows.items():
        index[name_key(n)].append(n)
        if cas:
            by_cas[cas].append(n)
    out = AllergenMatches()
    for allergen in allergens:
        cite = allergen.citation
        hits = sorted({n for a in allergen.names for n in index.get(name_key(a), ())})
        via = "name"
        if not hits and len(allergen.cas) == 1:
            hits = sorted(n for n in by_cas.get(allergen.cas[0], ()) if is_defined(n))
            via = "cas"
        for n in hits:
            out.by_name.setdefault(n, cite)
            out.via[via] += 1
        if via == "cas" or not hits:
            for a in allergen.names:
                upper = " ".join(a.upper().split())
                if _is_plain_name(upper) and not index.get(name_key(upper)):
                    out.added.setdefault(upper, cite)
                    if len(allergen.cas) == 1 and is_defined(upper):
                        out.added_cas.setdefault(upper, allergen.cas[0])
                    out.by_name.setdefault(upper, cite)
                    index[name_key(upper)].append(upper)
                    out.via["added"] += 1
                    hits.append(upper)
        if hits:
            out.refs_covered.add(allergen.ref)
    return out
