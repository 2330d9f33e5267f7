"""Generated synonym table: names labels print for a defined chemical that CosIng spells
differently ("Nicotinamide", "3,7-Dimethyl-1,6-Octadien-3-Ol", "D-Limonene"), taken from the
``chemicals`` package (PubChem synonyms indexed by CAS number), never from a hand-written
table. Written at KB build time as models/kb/synonyms.csv.

Which real input or user need each rule answers:

- Only KB rows that denote one defined substance (``chem.is_defined_name``) with a valid,
  non-mixture CAS number contribute: CosIng gives botanicals, oils and polymers a CAS whose
  PubChem record is one constituent (an orange oil's CAS is not limonene), so their CAS
  must never name anything.
- PubChem synonym lists are depositor-submitted and messy. A synonym is kept only when it
  reads as a name of the same substance in the same form. Each rule below has a drop
  counter (``stats``) reported in the KB manifest:
  ``length`` (3..70 characters), ``code`` (registry numbers and codes: CAS/EC numbers,
  'nsc 1234', 'unii-...', 'ai3-...', formulas 'c10h16', any run of 3+ digits), ``letters``
  (at least 3 letters), ``inverted`` (CAS-index inverted names "alcohol, ethyl": a label
  splits at that comma anyway), ``malformed`` (unbalanced brackets, quotes, '%', ';'),
  ``form`` (another material, grade or form: solution, mixture, USP/NF/grade tags,
  bracketed tags '[usp]', '[german]', isotope labels, denatured, polymer, amorphous,
  colloidal, oil, extract, hydrate unless the INCI says hydrate ...), ``mixture``
  (the synonym itself names a botanical, oil, extract or polymer: limonene's record lists
  "sweet orange oil" and "lemon extract"; the test is ``chem.is_defined_name`` on the
  synonym plus words that occur only in botanical/mixture KB names, e.g. LEMON, SINENSIS),
  ``salt_ester`` (a salt, counter-ion or ester word not in the INCI name, or the INCI's
  counter-ion missing from the synonym: "benzoic acid" never maps to SODIUM BENZOATE),
  ``phrase`` (an English phrase, not a name: a function word such as "and", "with", "for",
  "not" joins its words; PubChem lists product and grade names such as "dry and clear" for
  benzoyl peroxide, "hefty dog and cat repellent" for cinnamal, "hydroquinone for
  synthesis"), ``acronym`` (at most 4 letters, punctuation aside: 'pol' is in 1-propanol's list, 'bha'
  means salicylic acid on a skincare label), ``us_colour_name`` ("FD&C Blue No. 1": the
  curated alias table maps US colour names to CI numbers, which carry the pigment class),
  ``group`` ("vitamin b", "aldehydes", "keton": a group or class word, not one substance),
  ``trade_name`` (inorganic records only: every word must occur in KB names, so silica and
  pigment grades and brands like "cab-o-sil m 5" or "bayertitan r-kb 2" go),
  ``other_compound`` (``chemicals`` resolves the name to a record of another constitution,
  by the first InChIKey block; stereo variants like d-limonene stay), ``heading`` (a bare
  CAS-index heading that other records use, "ethanone" from "Ethanone, 1-(...)-", unless
  it is the record's own common or IUPAC name: sephora_2023 labels print index names that
  the list splits at the comma, and acetaldehyde's record lists "ethanone").
- Then over the whole table: ``canonical`` (the folded key, or its letters-and-digits form,
  is already a KB name: the exact match wins, and a synonym must never redirect one real
  INCI name to another), ``alias_conflict`` (the curated alias table, data/aliases.csv,
  maps the name to another INCI: the alias table wins; a synonym that agrees with its alias
  is kept), ``material`` (the name of a source material learned from the data: what is
  left of "neroli oil" in methyl anthranilate's record, of a botanical KB name, or of an
  alias whose target is a botanical: "neroli", "chamomile"), ``ambiguous`` (the key or
  its loose form maps to more than one INCI).
- A record ``chemicals`` returns for another CAS number (the asked number is only in its
  synonym list, e.g. a "limonene fraction" mixture) gives nothing (``cas_redirected``).
- A CAS number shared by several KB rows (ALCOHOL and ALCOHOL DENAT. both carry 64-17-5)
  gives its synonyms to the one row whose own name the CAS record lists ('alcohol'), else to
  none (they would all be ambiguous).
- Deterministic: rows sorted by (key, inci), one row per folded key (``fold.key``), which is
  the form written in the ``synonym`` column and the form a label name is looked up by.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from recommender import config
from recommender.inci import fold
from recommender.knowledge import chem
from recommender.knowledge.kb import SYNONYMS_FILE  # noqa: F401  (re-exported for build)

COLUMNS = ("synonym", "inci", "cas", "source")
MIN_LEN, MAX_LEN = 3, 70

# Order of the per-name filters (the first failing one is counted).
NAME_FILTERS = (
    "length", "code", "letters", "inverted", "malformed", "phrase", "form", "mixture", "salt_ester",
    "acronym", "us_colour_name", "group", "word", "trade_name", "other_compound", "heading",
    "material",
)
TABLE_FILTERS = ("canonical", "alias_conflict", "ambiguous")

_LETTER = re.compile(r"[^\W\d_]")
_TOKEN_SPLIT = re.compile(r"[\s\-:_/.,()\[\]]+")
_REGISTRY = re.compile(
    r"^(?:nsc|unii|einecs|elincs|ec|ccris|ai3|brn|fema|hsdb|caswell|epa|dtxsid|dtxcid|chembl|"
    r"chebi|schembl|mfcd|akos|zinc|nci|ncgc|smr|mls|bdbm|cid|rtecs|un|tox21|bspbio|kbio|"
    r"spbio|spectrum|prestwick|lopac|hms|opera|cas|db|ks|bidd|fdb|hy|cs|pubchem|ins)"
    r"[\s\-.:#_]*(?:no\.?\s*|n[o°]\s*)?\d"
)
_FORMULA = re.compile(r"^(?:[a-z]{1,2}\d+)+[a-z]{0,2}$")   # c10h16, c2h5oh
_DIGITS3 = re.compile(r"\d{3,}")
_ODD_CHARS = re.compile(r"[%;\"'`?*={}|<>@]")
_HEXID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
_CONDENSED = re.compile(r"(?<![a-z])c\d*h\d")          # "(c2h5)3n", "(ch3)2o", "mfc5 h9"
# A trailing qualifier in parentheses: pharmacopoeia and index tags "(jp16)", "(van)", "(tn)",
# "(9ci)", product categories "(pigment)", "(oxide)", formulas "(tio2)"; stereo descriptors
# "(e)", "(rs)", "(3beta)" are not qualifiers.
_TRAILING = re.compile(r"\(([a-z]{2,}\d*|\d+[a-z]{2,}|[a-z]+ \d+)\)$")
_STEREO = re.compile(r"^(?:\d*(?:alpha|beta|gamma|delta)|cis|trans|rs|sr|dl|ls|endo|exo|"
                     r"syn|anti|meso|rac|sp|rp)$")
_CARBON = re.compile(r"C(?![laroudsnefm])|c|\[C[@H\]]")   # a carbon atom in a SMILES
_INVERTED = re.compile(r",(?:\s|$)")   # "alcohol, ethyl"; locant lists "1,2-" / "n,n-" stay
# Bracketed tags: "[usp]", "[inn-latin]", "[german]", isotope labels "[3h]", "(14c)".
_TAG = re.compile(r"\[[^\]\d]*[^\W\d_]{2}[^\]\d]*\]|"
    r"[\[(](?:2h|3h|11c|13c|14c|15n|17o|18o|18f|32p|33p|35s|36cl|45ca|123i|125i|131i)[\])]")

# Single words that are product or kitchen words on a label, never one substance's name.
_PLAIN_WORDS = frozenset((
    "lotion", "refresh", "cream", "balm", "serum", "tonic", "mist", "soap", "wash", "mask",
    "toner", "cleanser", "saffron", "lotio", "unguent", "salve", "spray", "drops", "tears",
    "wax", "butter", "milk", "clay", "musk", "amber", "honey", "sugar", "salt", "vinegar",
))
_SUBSTITUENT = re.compile(r"(?:mono|di|tri|tetra|penta|hexa)?[a-z]+(?:yl|ylene|ylidene)")
# a substituent with its locants ("2-methylpropyl" in isobutane's record): a piece of other
# names ("Tetrahydro-4-methyl-2-(2-methylpropyl)-2H-pyran-4-ol"), never the substance
_LOCANT_SUBSTITUENT = re.compile(
    r"(?:\d+(?:,\d+)*-)+[a-z]*(?:methyl|ethyl|propyl|butyl|pentyl|hexyl|heptyl|octyl|nonyl|decyl)")
# Words marking another material, grade, form or preparation than the pure substance.
_FORM_WORDS = frozenset((
    "solution", "solutions", "soln", "mixture", "mixtures", "mixt", "mix", "blend", "usp",
    "nf", "grade", "grades", "standard", "standards", "tablet", "tablets", "capsule",
    "capsules", "injection", "injectable", "ointment", "cream", "gel", "emulsion",
    "suspension", "dispersion", "concentrate", "concentrated", "preparation", "formulation",
    "radiolabeled", "radiolabelled", "labeled", "labelled", "tritiated", "deuterated",
    "isotope", "d2", "d3", "d4", "d5", "d6", "d8", "d10", "13c", "14c", "15n", "2h", "3h",
    "denatured", "denat", "polymer", "polymers", "homopolymer", "copolymer", "oligomer",
    "dimer", "trimer", "isomers", "fraction", "fractions", "crude", "technical", "tech",
    "reagent", "analytical", "acs", "ep", "bp", "jp", "jan", "inn", "usan", "ban", "dcf",
    "dcit", "mart", "vandf", "who", "fcc", "ph", "eur", "natural", "synthetic", "impure",
    "impurity", "impurities", "metabolite", "metabolites", "dust", "vapor", "vapour",
    "aerosol", "gas", "liquid", "solid", "crystals", "crystalline", "aqueous", "proof",
    "spirit", "spirits", "diluted", "dilute", "flavor", "flavour", "flavoring",
    "flavouring", "aroma", "fragrance", "perfume", "compound", "compounds", "product",
    "products", "complex", "complexes", "derivative", "derivatives", "deriv", "residue",
    "residues", "waste", "byproduct", "by-product", "tincture", "extract", "oil", "essence",
    "group", "oplossingen", "loesungen", "loesung", "losung", "diluent", "solvent", "vehicle",
    "carrier",
    "amorphous", "colloidal", "fused", "vitreous", "fumed", "precipitated", "slurry",
    "particles", "particle", "nano", "nanoparticles", "micronized",
))
_FILLER = frozenset(("of", "de", "d", "la", "le", "du", "des", "the", "and", "from", "with", "in",
                     "oleum", "aetheroleum"))
# Words naming a source material or preparation ("neroli oil", "lemon extract"): chem's
# mixture words without the chemical-process and grade words ("absolute ethanol" is
# anhydrous ethanol, "polymerized dipentene" is not a plant).
_MATERIAL_WORDS = (
    frozenset(w.lower() for w in chem._MIXTURE_WORDS)
    - {"absolute", "hydrogenated", "sulfonated", "ethoxylated", "polymerized", "epoxidized",
       "oxidized", "mixed", "alkyl", "fatty", "acids", "alcohols", "esters", "salts",
       "glycerides", "minerals", "hydrolyzed", "hydrolysate"}
) | {"essence", "absolue"}
_MATERIAL_RE = re.compile(r"\b(?:" + "|".join(sorted(_MATERIAL_WORDS)) + r")\b")
_HYDRATE = re.compile(r"\b(?:mono|di|tri|tetra|penta|hexa|hepta|octa|nona|deca|hemi|sesqui)?"
                      r"hydrates?\b")

# Counter-ions and salt words: the synonym and the INCI must agree on these.
_CATION_WORDS = {
    "sodium": "sodium", "natrium": "sodium", "na": "sodium", "potassium": "potassium",
    "kalium": "potassium", "calcium": "calcium", "magnesium": "magnesium", "zinc": "zinc",
    "ammonium": "ammonium", "lithium": "lithium", "aluminum": "aluminum",
    "aluminium": "aluminum", "barium": "barium", "strontium": "strontium", "copper": "copper",
    "cupric": "copper", "cuprous": "copper", "ferric": "iron", "ferrous": "iron",
    "iron": "iron", "manganese": "manganese", "silver": "silver", "tea": "tea",
    "triethanolamine": "tea", "mea": "mea", "ethanolamine": "mea", "monoethanolamine": "mea",
    "dea": "dea", "diethanolamine": "dea", "amp": "amp", "tromethamine": "tromethamine",
    "arginine": "arginine", "lysine": "lysine", "meglumine": "meglumine",
}
_ANION_WORDS = {
    "hydrochloride": "hcl", "dihydrochloride": "hcl", "hcl": "hcl", "hydrobromide": "hbr",
    "hbr": "hbr", "hydroiodide": "hi", "mesylate": "mesylate", "methanesulfonate": "mesylate",
    "tosylate": "tosylate", "besylate": "besylate", "maleate": "maleate",
    "fumarate": "fumarate", "tartrate": "tartrate", "bitartrate": "tartrate",
    "succinate": "succinate", "nitrate": "nitrate", "oxalate": "oxalate",
    "chloride": "chloride", "bromide": "bromide", "iodide": "iodide", "fluoride": "fluoride",
}
_SALT_WORDS = frozenset({"salt", "salts", "ester", "esters", "anion", "cation", "ion", "ions"})
_MULTIPLIER = re.compile(r"^(?:mono|di|tri|tetra|penta|hexa|bis|tris|hemi|sesqui)(?=[a-z]{4,})")
_ATE = re.compile(r"(?:ate|ite)$")
# Groups and class words, not one substance: "vitamin b", "aldehydes" and "keton" are in
# formaldehyde's record, "alcohols" in ethanol's.
_GROUP = re.compile(
    r"^(?:vitamin [a-z]|(?:an? )?(?:aldehy?d[eo]?s?|aldeide|ketone?s?|cetones?|ethers?|esters?|"
    r"alcohols?|acids?|amines?|amides?|oxides?|sugars?|salts?|waxe?s?|resins?|gums?))$"
)
_ACRONYM = re.compile(r"^[^\W\d_]{1,4}$")
_PHRASE = re.compile(r"(?<![\w\-])(?:and|with|for|or|not|to|from|in|by|the|against)(?![\w\-])")
_STEREO_ONLY = re.compile(r"^[\d,\s\-()+]*(?:alpha|beta|gamma|delta|cis|trans|dl)[\d,\s\-()+]*$")
_ACRONYM_PUNCT = re.compile(r"[\s.\-]+")
# US colour additive names ("FD&C Blue No. 1", "D and C Red 33"): the curated alias table
# maps them to CI numbers (data/aliases.csv, us_colour_name); PubChem puts them on dye
# INCI names that carry no pigment class, so they never come from here.
_US_COLOUR = re.compile(
    r"^(?:ext)?f?d(?:and)?c(?:red|blue|green|yellow|orange|violet|brown|black|white)"
)                                   # on the letters-and-digits form: "fdcblueno1"


def _words(text: str) -> list[str]:
    return [w for w in _TOKEN_SPLIT.split(text.lower()) if w]


def _norm(name: str) -> str:
    """NFKC, lower case, single spaces (PubChem lists mix cases and non-breaking spaces)."""
    return " ".join(unicodedata.normalize("NFKC", str(name)).lower().split())


def _ions(words: Iterable[str]) -> tuple[set[str], set[str]]:
    cations, anions = set(), set()
    for w in words:
        base = _MULTIPLIER.sub("", w)
        if w in _CATION_WORDS or base in _CATION_WORDS:
            cations.add(_CATION_WORDS.get(w) or _CATION_WORDS[base])
        if w in _ANION_WORDS or base in _ANION_WORDS:
            anions.add(_ANION_WORDS.get(w) or _ANION_WORDS[base])
    return cations, anions


def _is_code(name: str) -> bool:
    if chem.valid_cas(name) or _REGISTRY.match(name) or _HEXID.search(name):
        return True
    if _FORMULA.match(name.replace(" ", "")) or _CONDENSED.search(name):
        return True   # formulas need a digit: "c10h16", "(ch3)2o", not "etoh"
    # a run of 3+ digits ("alda 341", "ci 42045", EC/registry numbers, "dtxsid7020")
    return _DIGITS3.search(name) is not None


def _malformed(name: str) -> bool:
    if _ODD_CHARS.search(name) or name[0] in ",.-)]" or name[-1] in ",-(":
        return True
    if "(" not in name and ")" not in name:
        return "[" in name and name.count("[") != name.count("]")
    depth = 0
    for c in name:
        depth += c == "("
        depth -= c == ")"
        if depth < 0:
            return True
    return depth != 0 or "[" in name and name.count("[") != name.count("]")


@functools.lru_cache(maxsize=1)
def chemicals_version() -> str:
    try:
        return metadata.version("chemicals")
    except metadata.PackageNotFoundError:  # pragma: no cover - chemicals is a kb-build dependency
        return ""


def source_label() -> str:
    return f"chemicals {chemicals_version()} (PubChem synonyms via CAS)"


def _metadata(cas: str):
    """The ``chemicals`` record of a CAS number (the same lookup ``chem`` uses), or None."""
    from chemicals.identifiers import search_chemical

    try:
        return search_chemical(cas)
    except Exception:  # chemicals raises ValueError (and others) for unknown CAS
        return None


def _resolve_name(name: str):
    """The ``chemicals`` record its name index gives for ``name`` (no autoload), or None."""
    from chemicals.identifiers import pubchem_db

    try:
        return pubchem_db.search_name(name, autoload=False)
    except Exception:
        return None


def _skeleton(meta) -> str:
    """First InChIKey block (connectivity): stereo and isotopic variants share it."""
    key = getattr(meta, "InChI_key", "") or ""
    return key.split("-")[0]


def read_alias_keys(path: Path | str | None = None) -> dict[str, str]:
    """Folded alias name -> target INCI, from data/aliases.csv (the curated table wins)."""
    path = Path(path) if path is not None else config.ALIASES_FILE
    out: dict[str, str] = {}
    if not path.exists():
        return out
    with open(path, encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            alias, target = rec.get("alias") or "", (rec.get("inci") or "").strip()
            if alias.strip() and target:
                out[fold.key(alias)] = " ".join(target.upper().split())
                out.setdefault("~" + fold.loose_key(alias), out[fold.key(alias)])
    return out


def _vocabulary(rows: list[Mapping[str, str]]) -> frozenset[str]:
    """Words (4+ letters) that occur in botanical/mixture KB names and never in a defined
    chemical's name: LEMON, SINENSIS, ORANGE-free ... learned from the KB itself."""
    defined: set[str] = set()
    other: set[str] = set()
    for r in rows:
        name = r["inci"]
        words = {w for w in re.split(r"[^A-Z]+", name.upper()) if len(w) >= 4}
        (defined if chem.is_defined_name(name) else other).update(words)
    return frozenset(w.lower() for w in other - defined)


def _name_filter(
    name: str, inci: str, inci_words: set[str], ions: tuple[set[str], set[str]],
    inci_is_ester: bool, botanical: frozenset[str], skeleton: str,
    vocabulary: frozenset[str] | None = None,
) -> str | None:
    """The first per-name rule ``name`` fails, or None when it may stand for ``inci``."""
    if not MIN_LEN <= len(name) <= MAX_LEN:
        return "length"
    if _is_code(name):
        return "code"
    if len(_LETTER.findall(name)) < 3 or _STEREO_ONLY.match(name):
        return "letters"
    if _INVERTED.search(name):
        return "inverted"
    if _malformed(name):
        return "malformed"
    if _PHRASE.search(name):
        return "phrase"
    words = _words(name)
    trailing = _TRAILING.search(name)
    if (_TAG.search(name) or any(w in _FORM_WORDS for w in words)
            or (trailing and not _STEREO.match(trailing.group(1)))):
        return "form"
    if _HYDRATE.search(name) and "HYDRATE" not in inci:
        return "form"
    if not chem.is_defined_name(name.upper()) or any(w in botanical for w in words):
        return "mixture"
    cations, anions = _ions(words)
    if (cations, anions) != ions or any(w in _SALT_WORDS for w in words):
        return "salt_ester"
    if not inci_is_ester and any(_ATE.search(w) and w not in inci_words for w in words
                                 if len(w) > 4):
        return "salt_ester"
    if _ACRONYM.match(name) or _ACRONYM.match(_ACRONYM_PUNCT.sub("", name)):
        return "acronym"
    if _US_COLOUR.match(re.sub(r"[^a-z0-9]+", "", name)):
        return "us_colour_name"
    if _GROUP.match(name):
        return "group"
    if " " not in name and (("-" not in name and (name in _PLAIN_WORDS or _SUBSTITUENT.fullmatch(name)))
                            or _LOCANT_SUBSTITUENT.fullmatch(name)):
        # product words and bare substituent names that labels print as pieces of other
        # names: "lotion" (UREA), "refresh" (VP), "dimethyl" (ETHANE), "hexylene" (HEXENE),
        # "2-methylpropyl" (ISOBUTANE)
        return "word"
    if vocabulary is not None and (
        any(len(w) >= 3 and w.isalpha() and w not in vocabulary for w in words)
        or not any(w in vocabulary for w in words)
    ):
        # inorganic records list grades and brands by the hundred ("cab-o-sil m 5",
        # "bayertitan r-kb 2", "flamenco"): only names made of KB words stay
        return "trade_name"
    if skeleton:
        other = _resolve_name(name)
        if other is not None and _skeleton(other) and _skeleton(other) != skeleton:
            return "other_compound"
    return None


def _remainder(name: str) -> str:
    """A name without its mixture, form and filler words ("neroli oil" -> "neroli"), or ''
    when nothing was removed: what is left names the source material."""
    words = _words(name)
    if not any(w in _MATERIAL_WORDS for w in words):
        return ""
    rest = [w for w in words if w not in _MATERIAL_WORDS and w not in _FILLER
            and w not in _FORM_WORDS]
    return " ".join(rest)


def _material_names(records: Mapping[str, list[str]], rows: list[Mapping[str, str]],
                    aliases_path: Path | None) -> frozenset[str]:
    """Names of source materials (plants, oils, preparations), learned from the data:
    record names marked as a mixture or form ("neroli oil" in methyl anthranilate's record,
    "lemon oil" in limonene's), KB names of botanicals and mixtures, and alias names whose
    curated target is one ("Chamomile Flower Extract" -> chamomile). A synonym equal to one
    of them names the material, not the substance."""
    out: set[str] = set()
    for names in records.values():
        for n in names:
            if not _MATERIAL_RE.search(n):
                continue
            for part in {n, re.split(r",\s|\s\(", n)[0]}:
                r = _remainder(part)
                if r:
                    out.add(r)
    for r in rows:
        if not chem.is_defined_name(r["inci"]):
            rem = _remainder(r["inci"])
            if rem:
                out.add(rem)
    path = Path(aliases_path) if aliases_path is not None else config.ALIASES_FILE
    if path.exists():
        with open(path, encoding="utf-8", newline="") as fh:
            for rec in csv.DictReader(fh):
                if rec.get("alias") and not chem.is_defined_name(rec.get("inci") or ""):
                    rem = _remainder(rec["alias"])
                    if rem:
                        out.add(rem)
    return frozenset(out)


def _headings(records: Mapping[str, list[str]]) -> dict[str, set[str]]:
    """CAS-index headings -> the CAS numbers whose names use them ("ethanone" in "ethanone,
    1-(...-2-naphthalenyl)-", "propanol" in "propanol, oxybis-")."""
    out: dict[str, set[str]] = defaultdict(set)
    for cas, names in records.items():
        for n in names:
            if ", " in n:
                out[n.split(", ", 1)[0]].add(cas)
    return out


def build_synonyms(
    rows: Iterable[Mapping[str, str]],
    *,
    aliases: Mapping[str, str] | None = None,
    aliases_path: Path | None = None,
    stats: Counter | None = None,
    decisions: list[tuple[str, str, str, str]] | None = None,
) -> list[tuple[str, str, str]]:
    """(synonym key, inci, cas) for the defined chemicals among KB ``rows``, sorted by
    (key, inci). ``rows``: KB records with at least ``inci`` and ``cas``. ``aliases``:
    folded alias -> INCI (default: read from ``aliases_path``, default data/aliases.csv).
    ``stats``: filled with counts (candidates, kept, dropped:<rule> ...). ``decisions``: when
    given, receives (name, inci, cas, rule or 'kept') for every candidate (for review)."""
    note = decisions.append if decisions is not None else (lambda _d: None)
    rows = list(rows)
    stats = stats if stats is not None else Counter()
    aliases = read_alias_keys(aliases_path) if aliases is None else aliases
    canonical = {fold.key(r["inci"]) for r in rows}
    canonical_loose = {fold.loose_key(r["inci"]) for r in rows}
    botanical = _vocabulary(rows)
    kb_words = frozenset(
        w.lower() for r in rows for w in re.split(r"[^A-Z]+", r["inci"].upper()) if len(w) >= 3
    )
    inorganic: set[str] = set()

    by_cas: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        cas = chem.valid_cas(r.get("cas") or "")
        if cas and not chem.is_mixture_cas(cas) and chem.is_defined_name(r["inci"]):
            by_cas[cas].append(r["inci"])

    records: dict[str, list[str]] = {}
    skeletons: dict[str, str] = {}
    own_names: dict[str, set[str]] = {}
    for cas in sorted(by_cas):
        meta = _metadata(cas)
        if meta is None:
            stats["cas_not_in_chemicals"] += 1
            continue
        if getattr(meta, "CASs", None) != cas:
            # chemicals found the number only in another record's synonyms (an obsolete or
            # related CAS, or a mixture such as "terpenes and terpenoids, limonene fraction")
            stats["cas_redirected"] += 1
            continue
        stats["cas_resolved"] += 1
        records[cas] = list(dict.fromkeys(
            _norm(n) for n in (meta.common_name, meta.iupac_name, *(meta.synonyms or ())) if n
        ))
        skeletons[cas] = _skeleton(meta)
        if getattr(meta, "smiles", None) and not _CARBON.search(meta.smiles):
            inorganic.add(cas)
        own_names[cas] = {fold.key(_norm(n)) for n in (meta.common_name, meta.iupac_name) if n}
    materials = _material_names(records, rows, aliases_path)
    headings = _headings(records)

    # key -> {inci: (cas, raw name)}
    candidates: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    # loose key -> every INCI whose record lists the name, whether or not a filter kept it
    # there: a name two records list is ambiguous even when one side dropped it.
    claimed: dict[str, set[str]] = defaultdict(set)
    for cas, names in records.items():
        incis = sorted(set(by_cas[cas]))
        if len(incis) > 1:
            own = {fold.key(n) for n in names}
            endorsed = [i for i in incis if fold.key(i) in own]
            if len(endorsed) == 1:
                stats["shared_cas_attributed"] += 1
                incis = endorsed
            else:
                stats["shared_cas_unresolved"] += 1
        for name in names:
            claimed[fold.loose_key(name)].update(incis)
        for inci in incis:
            inci_words = set(_words(inci))
            ions = _ions(inci_words)
            inci_is_ester = any(_ATE.search(w) for w in inci_words)
            for name in names:
                stats["candidates"] += 1
                why = _name_filter(
                    name, inci, inci_words, ions, inci_is_ester, botanical, skeletons[cas],
                    kb_words if cas in inorganic else None,
                )
                if (why is None and headings.get(name, set()) - {cas}
                        and fold.key(name) not in own_names[cas]):
                    # a bare index heading other records use ("Ethanone, 1-(...)" printed
                    # on sephora_2023 labels, split at the comma): it names their parent
                    # skeleton; kept only when it is this record's own common/IUPAC name
                    why = "heading"
                target = None
                if why is None:
                    k = fold.key(name)
                    lk = fold.loose_key(k)
                    target = aliases.get(k) or aliases.get("~" + lk)
                    if k in canonical or lk in canonical_loose:
                        why = "canonical"
                    elif target is not None and target != inci:
                        why = "alias_conflict"
                    elif " ".join(_words(name)) in materials:
                        why = "material"
                if why is not None:
                    stats[f"dropped:{why}"] += 1
                    note((name, inci, cas, why))
                    continue
                if target is not None:
                    stats["agrees_with_alias"] += 1
                if inci in candidates[k]:
                    stats["duplicate_key"] += 1
                    note((name, inci, cas, "duplicate_key"))
                    continue
                candidates[k][inci] = (cas, name)

    # Ambiguity: the key, or its letters-and-digits form, is claimed by more than one INCI.
    loose_targets: dict[str, set[str]] = defaultdict(set)
    for k, targets in candidates.items():
        loose_targets[fold.loose_key(k)].update(targets)
    out: list[tuple[str, str, str]] = []
    for k in sorted(candidates):
        targets = candidates[k]
        lk = fold.loose_key(k)
        if len(targets) > 1 or len(loose_targets[lk] | claimed[lk]) > 1:
            stats["dropped:ambiguous"] += len(targets)
            for inci, (cas, raw) in sorted(targets.items()):
                note((raw, inci, cas, "ambiguous"))
            continue
        (inci, (cas, raw)), = targets.items()
        note((raw, inci, cas, "kept"))
        out.append((k, inci, cas))
    out.sort(key=lambda t: (t[0], t[1]))
    stats["kept"] = len(out)
    return out


def write_synonyms(path: Path, table: list[tuple[str, str, str]]) -> None:
    """Write the table as CSV (``COLUMNS``), byte-stable: '\\n' line ends, utf-8."""
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    src = source_label()
    for syn, inci, cas in table:
        writer.writerow((syn, inci, cas, src))
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(buf.getvalue().encode("utf-8"))
    tmp.replace(path)
