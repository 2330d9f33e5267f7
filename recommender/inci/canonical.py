"""Mapping one printed name to a canonical INCI name.

The caller hands in the name table (CosIng inventory names), the alias table (US drug
and colour names, common and retired names, kept as data in ``data/aliases.csv``) and the
set of restricted names. Lookup order, most trustworthy first:

1. ``exact``: the folded name is a CosIng name (``fold.key``), or its letters-and-digits
   form is, unambiguously (``fold.loose_key``);
2. ``alias``: the folded name is in the curated alias table ("Avobenzone", "Red 40", "Shea
   Butter"), or else in the generated synonym table (PubChem synonyms of the KB's defined
   chemicals via CAS, e.g. "Nicotinamide"); ``Match.via`` says which;
3. ``alias`` via ``prefix``: a name cut short by a scraper ("Ammonium
   Acryloyldimethyltaurate/VP", "Hydroxyisohexyl 3-Cyclohexene") that stops at a word no known
   name ends with, and that exactly one known name continues by at most two words
   (``complete``). A cut name that
   several names continue ("Butyrospermum Parkii": butter, butter extract, oil ...) is refused;
4. ``rule`` (``Match.via``; kind of the name it reaches): general rewrites of how labels
   print a name, each tried only after the above failed, and taken only when every rewrite
   that reaches a known name reaches the same one (``rules.rewrites``): a botanical whose
   plant part is printed inside the brackets ("Thymus Vulgaris (Thyme Leaf Oil)",
   "Matricaria Recutita (Blue Chamomile Flower) Oil") or whose Latin name is the bracket
   ("Queensland Nut (Macadamia Ternifolia) Seed Oil"), "Extract of X", a grade or drug-facts
   purpose after the name ("Stearic Acid USP", "Avobenzone Sunscreen"), a free-from or grade
   claim before it ("Phthalate-Free Fragrance", "Food-Grade Paraffin"), "Vitamin B3 as
   Niacinamide";
5. ``fuzzy`` (not "recognized"): a close spelling of exactly one name, refused when the
   target is restricted or prohibited, when the numbers differ (Peptide-4/-7, PEG-8/-80),
   when short letter codes differ (Ceramide NP/AP), when a word is further from its
   counterpart than a typo goes ("Dioctyl" -> DICETYL, "Bronze" -> BRONZITE, "Seed" ->
   PEEL) or names another carbon chain (Dicaprylate/Dicaprate), or when a multiplier is
   added or lost (Cyclohexanemethanol -> CYCLOHEXANE DIMETHANOL). The score is reported.

A name that stays unmatched is returned as such; the caller lists it, never drops it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from recommender.inci import fold, rules
from recommender.memo import remember

_DIGITS = re.compile(r"\d+")
_CODES = re.compile(r"\b[A-Z]{1,3}\b")


@dataclass(frozen=True, slots=True)
class Match:
    inci: str | None
    kind: str | None          # "exact" | "alias" | "fuzzy" | None
    score: float | None
    via: str | None = None    # "inventory", "aliases", "synonyms", "prefix", "rule", "fuzzy"


NO_MATCH = Match(None, None, None)


class Canonicalizer:
    def __init__(
        self,
        names: Iterable[str],
        aliases: Mapping[str, str] | None = None,
        restricted: Iterable[str] = (),
        *,
        synonyms: Mapping[str, str] | None = None,
        fuzzy_min_score: float = 92.0,
        essential_oils: Iterable[str] = (),
    ) -> None:
        self._exact: dict[str, str] = {}
        loose: dict[str, str | None] = {}
        for name in names:
            k = fold.key(name)
            self._exact.setdefault(k, name)
            lk = fold.loose_of_key(k)
            if lk in loose and loose[lk] != name:
                loose[lk] = None  # ambiguous: two CosIng names share it
            else:
                loose.setdefault(lk, name)
        self._loose = {k: v for k, v in loose.items() if v is not None and k}
        self._alias: dict[str, str] = {}
        self._alias_loose: dict[str, str] = {}
        for alias, target in (aliases or {}).items():
            self._alias[fold.key(alias)] = target
            self._alias_loose.setdefault(fold.loose_key(alias), target)
        # generated synonyms (PubChem via CAS): consulted after the curated alias table
        self._synonym: dict[str, str] = {}
        self._synonym_loose: dict[str, str] = {}
        for syn, target in (synonyms or {}).items():
            self._synonym[fold.key(syn)] = target
            self._synonym_loose.setdefault(fold.loose_key(syn), target)
        self.restricted = frozenset(restricted)
        # canonical names of volatile (essential) oils: "Lavandula Angustifolia (Lavender)
        # Essential Oil" is read as LAVANDULA ANGUSTIFOLIA OIL only when that name is one
        self.essential_oils = frozenset(essential_oils)
        self.fuzzy_min_score = fuzzy_min_score
        self._choices: dict[str, list[str]] | None = None
        self._prefix_index: tuple[list[str], list[str], frozenset[str]] | None = None
        self._cache: dict[str, Match] = {}
        self._lookups: dict[str, Match] = {}
        self.token_cache: dict = {}  # the parser's per-token results, keyed by printed token
        self.run_cache: dict = {}    # the parser's split of names printed without separators
        self.resolve_cache: dict = {}  # the parser's reading of one name through its alternatives
        self._completions: dict[str, Match] = {}
        self._latin: frozenset[str] | None = None  # first two/three words of known names
        self._vocab: frozenset[str] = frozenset()  # every word of a known name

    def is_name(self, inci: str) -> bool:
        return fold.key(inci) in self._exact

    def lookup(self, name: str) -> Match:
        """Exact or alias match of one candidate name (no fuzzy)."""
        hit = self._lookups.get(name)
        if hit is None:
            hit = remember(self._lookups, name, self._lookup(name))
        return hit

    def _lookup(self, name: str) -> Match:
        k = fold.key(name)
        if not k:
            return NO_MATCH
        hit = self._exact.get(k)
        if hit is not None:
            redirected = self._alias.get(k)
            return Match(redirected or hit, "exact", 100.0, "inventory")
        hit = self._alias.get(k)
        if hit is not None:
            return Match(hit, "alias", 100.0, "aliases")
        hit = self._synonym.get(k)
        if hit is not None:
            return Match(hit, "alias", 100.0, "synonyms")
        lk = fold.loose_of_key(k)
        hit = self._loose.get(lk)
        if hit is not None:
            redirected = self._alias.get(fold.key(hit))
            return Match(redirected or hit, "exact", 100.0, "inventory")
        hit = self._alias_loose.get(lk)
        if hit is not None:
            return Match(hit, "alias", 100.0, "aliases")
        hit = self._synonym_loose.get(lk)
        if hit is not None:
            return Match(hit, "alias", 100.0, "synonyms")
        return self._rewritten(name)

    def _rewritten(self, name: str) -> Match:
        """The one known name the general rewrites of ``name`` reach (``rules``), else none."""
        found: dict[str, Match] = {}
        if self._latin is None:
            self._latin = frozenset(
                " ".join(k.split(" ")[:n]) for k in self._exact for n in (2, 3)
                if k.count(" ") >= n)
            self._vocab = frozenset(
                w for k in (*self._exact, *self._alias, *self._synonym)
                for w in re.split(r"[ /]", k) if w)
        for cand, essential in rules.rewrites(name, self._latin, self._vocab):
            m = self._lookup_plain(cand)
            if m.kind is None or (essential and m.inci not in self.essential_oils):
                continue
            found.setdefault(m.inci, m)
        if len(found) != 1:
            return NO_MATCH  # nothing, or two readings: never guess between substances
        (m,) = found.values()
        return Match(m.inci, m.kind, 100.0, "rule")

    def _lookup_plain(self, name: str) -> Match:
        """Exact or alias match of ``name`` as written (no rewrites)."""
        k = fold.key(name)
        if not k:
            return NO_MATCH
        hit = self._exact.get(k)
        if hit is not None:
            return Match(self._alias.get(k) or hit, "exact", 100.0, "inventory")
        for table, kind, via in ((self._alias, "alias", "aliases"),
                                 (self._synonym, "alias", "synonyms")):
            hit = table.get(k)
            if hit is not None:
                return Match(hit, kind, 100.0, via)
        lk = fold.loose_of_key(k)
        hit = self._loose.get(lk)
        if hit is not None:
            return Match(self._alias.get(fold.key(hit)) or hit, "exact", 100.0, "inventory")
        hit = self._alias_loose.get(lk) or self._synonym_loose.get(lk)
        if hit is not None:
            return Match(hit, "alias", 100.0,
                         "aliases" if lk in self._alias_loose else "synonyms")
        return NO_MATCH

    def complete(self, name: str) -> Match:
        """The one known name that continues a name cut short, or no match (see module doc)."""
        hit = self._completions.get(name)
        if hit is None:
            hit = remember(self._completions, name, self._complete(name))
        return hit

    def _complete(self, name: str) -> Match:
        k = fold.key(name)
        if len(k) < 10 or " " not in k:
            return NO_MATCH
        if self._prefix_index is None:
            table = {**self._synonym, **self._alias,
                     **{e: self._alias.get(e) or t for e, t in self._exact.items()}}
            keys = sorted(table)
            ends = frozenset(w.rsplit(" ", 1)[-1] for w in keys)
            self._prefix_index = (keys, [table[x] for x in keys], ends)
        keys, targets, ends = self._prefix_index
        if k.rsplit(" ", 1)[-1] in ends or k in self._exact or k in self._alias:
            return NO_MATCH  # it may end there: not evidently cut
        lo = bisect.bisect_left(keys, k + " ")
        hi = bisect.bisect_left(keys, k + "!")  # "!" sorts right after " "
        found = set(targets[lo:hi])
        if len(found) != 1 or any(keys[i].count(" ") - k.count(" ") > 2 for i in range(lo, hi)):
            return NO_MATCH  # several names continue it, or the cut took more than two words
            # ("Vetiveria Zizanioides" -> "... ROOT EXTRACT ACETYLATED" is a guess, not a reading)
        return Match(found.pop(), "alias", 100.0, "prefix")

    def fuzzy(self, name: str) -> Match:
        """A close spelling of exactly one safe name, or no match."""
        hit = self._cache.get(name)
        if hit is not None:
            return hit
        return remember(self._cache, name, self._fuzzy(name))

    def _fuzzy(self, name: str) -> Match:
        k = fold.key(name)
        if len(k) < 6:
            return NO_MATCH
        from rapidfuzz import fuzz, process

        if self._choices is None:
            # candidates bucketed by first character: a typo rarely hits the first letter, and
            # searching ~1/26 of the names keeps a cold batch run fast
            buckets: dict[str, list[str]] = {}
            for choice in list(self._exact) + list(self._alias):
                buckets.setdefault(choice[:1], []).append(choice)
            self._choices = buckets
        found = process.extract(
            k, self._choices.get(k[:1], ()), scorer=fuzz.ratio,
            score_cutoff=self.fuzzy_min_score, limit=3,
        )
        result = NO_MATCH
        for choice, score, _ in found:
            target = self._exact.get(choice) or self._alias.get(choice)
            if target is None or target in self.restricted:
                continue
            if not _same_identity(k, choice):
                continue
            result = Match(target, "fuzzy", round(float(score), 1), "fuzzy")
            break
        return result


def _same_identity(a: str, b: str) -> bool:
    """Numbers and short letter codes must agree: never Peptide-4 -> Peptide-7, NP -> AP; and
    the words must differ only as typos do (``_typo_words``)."""
    if _DIGITS.findall(a) != _DIGITS.findall(b):
        return False
    if _CODES.findall(a) != _CODES.findall(b):
        return False
    return _typo_words(a, b)


_WORDS = re.compile(r"[A-Z]+")
_MULTIPLIER = re.compile(r"(?<![A-Z])(?:DI|TRI|TETRA|PENTA|HEXA|BIS|TRIS|MONO|SESQUI)(?=[A-Z]{4})")
# carbon-chain and fatty stems: two names that differ in one of these are two substances
# (Dioctyl/Dicetyl, Dicaprylate/Dicaprate, Olivate/Oleate, Hexadecane/Hexadecene aside)
_CHAINS = re.compile(
    r"CAPRYL|CAPRO|CAPR|LAUR|MYRIST|PALMIT|ISOSTEAR|STEAR|LINOLEN|LINOLE|RICINOLE|OLE|OLIV|"
    r"BEHEN|ARACHID|ERUC|CET|OCT|UNDEC|DODEC|TRIDEC|DEC|NON|HEPT|HEX|PENT|BUT|PROP|ETH|METH|COCO")


def _typo_words(a: str, b: str) -> bool:
    """A typo changes a letter or two in a long word; it does not swap one word for another
    ("Dioctyl" -> DICETYL, "Bronze" -> BRONZITE, "Seed" -> PEEL), name another carbon chain
    ("Dicaprylate" -> DICAPRATE), or add or drop a multiplier ("Cyclohexanemethanol" ->
    CYCLOHEXANE DIMETHANOL)."""
    from rapidfuzz.distance import OSA

    wa, wb = _WORDS.findall(a), _WORDS.findall(b)
    if sorted(m for w in wa for m in _MULTIPLIER.findall(w)) \
            != sorted(m for w in wb for m in _MULTIPLIER.findall(w)) \
            and OSA.distance("".join(wa), "".join(wb)) > 1:
        return False  # (one letter lost from "Tetra" is still a typo)
    if len(wa) != len(wb):
        return True  # words joined or split ("Capryl Capric" / "CAPRYLIC/CAPRIC"): the score decides
    for x, y in zip(wa, wb, strict=True):
        if x == y or x + "S" == y or y + "S" == x:
            continue
        if OSA.distance(x, y) > max(1, min(len(x), len(y)) // 5):
            return False
        cx, cy = set(_CHAINS.findall(x)), set(_CHAINS.findall(y))
        if not (cx <= cy or cy <= cx):
            return False
    return True
