"""General rewrites of how labels print an INCI name, for names no table knows as printed.

The canonicaliser (``Canonicalizer._rewritten``) looks every rewrite up exactly and takes
one only when all the rewrites that reach a known name reach the same one: a rule never
chooses between two substances, and never invents a plant part the label does not print
("Ginkgo Biloba Extract" stays unread: CosIng has a leaf and a seed extract). Each rule
answers a family of real labels:

- ``plant part inside the brackets``: the part is printed, but inside the common-name
  bracket: "Thymus Vulgaris (Thyme Leaf Oil)", "Elettaria Cardamomum (Cardamom Seed Oil)",
  "Citrus Limon (Cold-Pressed Lemon Peel Essential Oil)" -> GENUS SPECIES PART OIL;
  "Matricaria Recutita (Blue Chamomile Flower) Oil" -> MATRICARIA RECUTITA FLOWER OIL.
  Without a printed part word nothing is read: "Petitgrain (Citrus Reticulata) Oil" and
  "Cedrus Atlantica (Atlas Cedarwood Oil)" name the part only in a common name.
- ``Latin name in the brackets``: "Queensland Nut (Macadamia Ternifolia) Seed Oil",
  "Red Raspberry Seed Oil (Rubus Idaeus)", "Lavender Flower (Lavandula Angustifolia)
  Essential Oil" -> GENUS SPECIES PART OIL (again only with a printed part word: the common
  name "Neroli" or "Petitgrain" may itself say which part).
- ``Extract of X`` / ``Oil of X`` word order -> "X Extract" / "X Oil".
- a pharmacopoeia grade or a drug-facts purpose after the name: "Stearic Acid USP",
  "Glycerin USP", "Indole Pure", "Avobenzone Sunscreen", "Citric Acid Formula #305-1".
- a free-from or grade claim before the name: "Phthalate-Free Fragrance",
  "Phthalates Free Fragrance", "Food-Grade Paraffin", "All-Natural Beeswax".
- singular for plural and back, one word at a time: "Acrylate Copolymer" (ACRYLATES
  COPOLYMER), "Iron Oxide" (IRON OXIDES), "Collagen Amino Acid" (COLLAGEN AMINO ACIDS).
- "Vitamin B3 as Niacinamide", "Zinc as Zinc Bisglycinate": the form after "as" is what the
  product holds (the bracketed "(as ...)" form is read by the parser).
- a key-ingredient blurb: "Salicylic Acid: Reduces pore blockages and supports ...",
  "Zinc Oxide (OTC): Filters harmful UV rays" -> the name before the colon (the product holds
  it; dropping the blurb as prose would lose a salicylic acid flag).

- label typography: capital I and small l, capital O and zero are one glyph in many label
  fonts ("lsododecane", "llex Paraguariensis", "3-0-Ethyl Ascorbic Acid"); an amino acid's
  L- descriptor, which INCI leaves out ("L-Lysine HCl" -> LYSINE HCL; never a D- form).

``essential`` marks a rewrite that dropped "Essential": it may only reach a volatile oil.

``not_a_name`` says which printed tokens are no ingredient at all (the parser sets them aside
with a note, outside the declared mentions): claims ("Pure", "FDA Approved", "Naturally
Derived"), manufacturers' formula codes ("F.I.L. C179346/1", "Il28-1"), parts of an article
(a candle's "100% Cotton Wick"), nutrition-facts rows, a perfume's alcohol strength, and the
retailer's or maker's notes printed after a list ("Made in the USA.", "Ingredients subject to
change", "... for the most up-to-date list").
``uninverted`` reads a CAS index name the splitter cut at its comma ("1,6-Nonadien-3-ol,
3,7-dimethyl (freesia note)"); ``cas_piece`` tells the pieces after a CAS name's commas
(substituents "3-oxo-2-pentyl-", ".alpha.", "(E)-"; the ester part "methyl ester"), which the
parser joins back to their parent as one ingredient, and ``cas_readings`` reads the whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from recommender.inci.split import PURPOSE_WORDS

# plant parts as CosIng prints them (a slash joins several: "LEAF/STEM")
PARTS = frozenset((
    "AERIAL", "BARK", "BEAN", "BERRY", "BRANCH", "BUD", "BULB", "CALLUS", "CONE", "FLOWER",
    "FRUIT", "GUM", "HERB", "HULL", "HUSK", "KERNEL", "LEAF", "NEEDLE", "NUT", "PEEL", "PETAL",
    "PIT", "POD", "RESIN", "RHIZOME", "ROOT", "SAP", "SEED", "SHELL", "SPROUT", "STEM",
    "TUBER", "TWIG", "WOOD",
))
# what is made of the part
PREPARATIONS = frozenset(("EXTRACT", "OIL", "BUTTER", "WATER", "JUICE", "POWDER", "WAX", "CERA"))
# words that say which part, form or process, never part of a common name: a rule that drops
# a common name stops at them ("Borago Officinalis Flowers Extract" is not the plant extract)
_NOT_COMMON = PARTS | PREPARATIONS | {p + "S" for p in PARTS | PREPARATIONS} | frozenset((
    "LEAVES", "BERRIES", "BLOSSOM", "BLOSSOMS", "PETALS", "HIP", "HIPS", "GERM", "BRAN",
    "STRAW", "STALK", "STALKS", "SHOOT", "SHOOTS", "TOPS", "WHOLE", "FERMENT", "FERMENTED",
    "HYDROLYZED", "HYDROLYSED", "HYDROGENATED", "ACETYLATED", "EXO", "CELL", "CELLS",
    "CULTURE", "LYSATE", "FILTRATE", "MEAL", "FLOUR", "ABSOLUTE", "CONCRETE", "RESINOID",
    "TINCTURE", "ESSENCE", "INFUSION", "DISTILLATE", "HYDROSOL", "LATEX", "GEL", "PULP",
    "PUREE", "RIND", "ZEST", "ESSENTIAL", "UNSAPONIFIABLES", "PROTEIN", "PROTEINS", "STEROLS",
    "ACID", "ACIDS", "AMINO", "WAXES", "ESTERS", "GLYCERIDES", "POLYSACCHARIDE", "SPROUT",
    "PLANT",
))

_SPLIT = re.compile(r"^([^()]+?)\s*\(([^()]+)\)\s*([^()]*)$")
_BINOMIAL = re.compile(r"^[A-Z][A-Z\-]+ [A-Z][A-Z\-]+(?: [A-Z][A-Z\-]+)?$")
_OF = re.compile(r"^(EXTRACTS?|OIL) OF (.+)$")
_AS = re.compile(r"^(.+?) AS (.+)$")
# a drug-facts table's purpose column printed after or before an active ("Octocrylene 10%
# Sunscreen"; Sephora P481164: "Purpose Avobenzone 2.0%, Sunscreen Homosalate 5.0%")
_PURPOSES = r"(?i:" + PURPOSE_WORDS + r")"
_TRAILING = re.compile(
    r"\s+(?:USP|NF|BP|EP|FCC|PH\.? ?EUR\.?|PURE|EXTRA PURE|" + _PURPOSES + r"|"
    r"FORMULA\s*#?\s*[\w\-/]+|\d+(?:[.,]\d+)?\s*PERCENT|\d+(?:[.,]\d+)?\s*(?:MG|MCG|G|IU)\b.*"
    r"|VOL)\.?$")
_GLYPH_I = re.compile(r"(?<![A-Z0-9])L(?=[BCDFGHJKLMNPQRSTVWXZ])")
_GLYPH_O = re.compile(r"(?<=\d-)0(?=-)")
_LEADING = re.compile(
    r"^(?:(?:[A-Z]+S?[- ]FREE|FOOD[- ]GRADE|COSMETIC[- ]GRADE|PHARMACEUTICAL[- ]GRADE|"
    r"ALL[- ]NATURAL|100 ?%|" + _PURPOSES + r")\s+)+")


def _part_tail(words: list[str]) -> tuple[list[str], str | None, bool]:
    """The trailing (PART ...) PREPARATION words of ``words``: (parts, preparation, essential)."""
    essential = False
    if not words:
        return [], None, False
    prep = words[-1] if words[-1] in PREPARATIONS else None
    rest = words[:-1] if prep else words[:]
    if prep and rest and rest[-1] == "ESSENTIAL":
        essential = True
        rest = rest[:-1]
    parts: list[str] = []
    while rest and all(p in PARTS for p in rest[-1].split("/")):
        parts.insert(0, rest.pop())
    return parts, prep, essential


def rewrites(name: str, prefixes: frozenset[str] = frozenset(),
             vocab: frozenset[str] | None = None) -> Iterator[tuple[str, bool]]:
    """Candidate readings of one printed name (upper case), most literal first.

    ``prefixes``: the first words of known names, joined (``"CAMELLIA SINENSIS"``, ...): a
    common name printed without brackets after the Latin one is dropped only where the Latin
    name ends ("Camellia Sinensis Green Tea Leaf Extract", never "Citrus Aurantium Dulcis").
    ``vocab``: every word of a known name (folded); when given, a singular/plural variant is
    tried only when the new word is one (a cheap bound: most misses try none).
    """
    s = " ".join(name.upper().replace("[", "(").replace("]", ")").split())
    if not s:
        return
    words = s.split(" ")
    if prefixes and "(" not in s and 4 <= len(words) <= 9:
        # "Camellia Sinensis Green Tea Leaf Extract", "Pyrus Malus Apple Fruit Extract"
        for n_latin in (3, 2):
            latin = " ".join(words[:n_latin])
            if latin not in prefixes:
                continue
            rest = words[n_latin:]
            i = 0
            while i < len(rest) and rest[i] not in _NOT_COMMON \
                    and " ".join(words[:n_latin + i + 1]) not in prefixes:
                i += 1
            dropped = rest[:i]
            if i < len(rest) and rest[i] in _NOT_COMMON and rest[i] not in PARTS \
                    and rest[i] not in PREPARATIONS:
                break  # a form or process word ("Flowers", "Hydrolyzed"): not a common name
            if any(" ".join(dropped[j:j + 2]) in prefixes for j in range(len(dropped))):
                break  # another Latin name ("Lavandula Angustifolia Rosmarinus Officinalis
                # Extract" is two names run together, not one with a common name)
            parts, prep, ess = _part_tail(rest[i:])
            if 1 <= i <= 3 and prep and len(parts) + 1 + ess == len(rest) - i:
                yield " ".join([latin, *parts, prep]), ess
            break
    m = _SPLIT.match(s)
    if m:
        out, inner, tail = m.group(1).strip(" -"), m.group(2).strip(), m.group(3).strip(" .")
        in_words, tail_words = inner.split(), tail.split()
        if _BINOMIAL.match(out):
            if not tail_words:
                # "Thymus Vulgaris (Thyme Leaf Oil)"
                parts, prep, ess = _part_tail(in_words)
                if parts and prep:
                    yield f"{out} {' '.join(parts)} {prep}", ess
            else:
                # "Matricaria Recutita (Blue Chamomile Flower) Oil"
                t_parts, t_prep, t_ess = _part_tail(tail_words)
                if t_prep and not t_parts and len(tail_words) == 1 + t_ess:
                    parts, prep, _ = _part_tail(in_words)
                    if parts and not prep:
                        yield f"{out} {' '.join(parts)} {t_prep}", t_ess
        if _BINOMIAL.match(inner) and tail_words:
            # "Queensland Nut (Macadamia Ternifolia) Seed Oil", "Lavender Flower (Lavandula
            # Angustifolia) Essential Oil"
            parts, prep, ess = _part_tail(tail_words)
            if prep and len(parts) + 1 + ess == len(tail_words):
                if not parts:  # the part printed before the bracket
                    o_parts, o_prep, _ = _part_tail(out.split())
                    parts = o_parts if not o_prep else []
                if parts:
                    yield f"{inner} {' '.join(parts)} {prep}", ess
        elif _BINOMIAL.match(inner):
            # "Red Raspberry Seed Oil (Rubus Idaeus)", "Aloe Leaf Juice (Aloe Barbadensis)"
            parts, prep, ess = _part_tail(out.split())
            if parts and prep:
                yield f"{inner} {' '.join(parts)} {prep}", ess
    if ":" in s:
        # a key-ingredient blurb: "Salicylic Acid: Reduces pore blockages ...", "Vitamin E:
        # Acts as an anti-inflammatory emollient": the name before the colon is in the product
        head, _, blurb = s.partition(":")
        if len(blurb.split()) >= 2 and head.strip():
            head = re.sub(r"\s*\((?:OTC|\d+(?:[.,]\d+)?\s*%)\)", "", head).strip(" -*")
            yield head, False
            if head.startswith("AND "):
                yield head[4:], False
    if "(" not in s and len(words) <= 8:
        # singular and plural: "Acrylate Copolymer" (ACRYLATES COPOLYMER), "Iron Oxide",
        # "Collagen Amino Acid" (COLLAGEN AMINO ACIDS)
        for i, w in enumerate(words):
            for j, p in enumerate(w.split("/")):
                if len(p) < 4 or not p.isalpha():
                    continue
                q = p[:-1] if p.endswith("S") and not p.endswith("SS") else p + "S"
                if vocab is not None and q not in vocab:
                    continue
                parts = w.split("/")
                parts[j] = q
                yield " ".join([*words[:i], "/".join(parts), *words[i + 1:]]), False
    if "-0-" in s or ("L" in s and _GLYPH_I.search(s) is not None):
        # one glyph for two characters in many label fonts, and so in OCR and retyping:
        # capital I and small l ("lsododecane" = ISODODECANE; no INCI word starts with L and
        # a consonant), capital O and zero in a locant ("3-0-Ethyl Ascorbic Acid": there is
        # no position 0)
        g = _GLYPH_O.sub("O", _GLYPH_I.sub("I", s))
        if g != s:
            yield g, False
    if s.startswith("VIT") and (v := _VIT.match(s)) is not None:
        # "Vit. E", "Vit C", "Vit B5": the usual abbreviation of "Vitamin" (the alias table
        # holds the vitamins' common names, "Vitamin E" -> TOCOPHEROL)
        yield f"VITAMIN {v.group(1)}{v.group(2)}", False
    if s.startswith("L-") and len(s) > 6 and s[2].isalpha():
        # INCI names an amino acid's L-form without the descriptor ("L-Lysine HCl" is
        # LYSINE HCL); never the D- or DL-form
        yield s[2:], False
    stripped = _LEADING.sub("", _TRAILING.sub("", s)).strip(" *")
    for v in dict.fromkeys((s, stripped)):
        if not v or "(" in v:
            continue
        m = _OF.match(v)
        if m:
            yield f"{m.group(2)} {'EXTRACT' if m.group(1).startswith('EXTRACT') else 'OIL'}", False
        m = _AS.match(v)
        if m:
            yield m.group(2), False
    if stripped and stripped != s:
        yield stripped, False
        base = re.sub(r"\s*\([^()]*\)", " ", stripped)
        base = " ".join(base.split())
        if base and base != stripped:
            yield base, False


_VIT = re.compile(r"^VIT\.?\s*([A-K]\d{0,2})(\b.*)$")


# -- printed text that is not an ingredient ---------------------------------------------------

# claim words: a token made only of these is a claim, not a substance ("Pure", "FDA Approved",
# "Naturally Derived", "100% Vegan", "Cruelty-Free", "Non-GMO")
_CLAIM_WORDS = frozenset((
    "pure", "natural", "naturally", "derived", "origin", "fda", "approved", "fda-approved",
    "vegan", "cruelty", "cruelty-free", "free", "non-gmo", "gmo", "gluten", "gluten-free",
    "certified", "organic", "hypoallergenic", "dermatologist", "dermatologically", "tested",
    "non-comedogenic", "non-toxic", "clean", "sustainable", "sustainably", "sourced",
    "ethically", "responsibly", "plant-based", "plant-derived", "100", "%", "100%", "and",
    "paraben-free", "sulfate-free", "phthalate-free", "fragrance-free", "alcohol-free",
    "oil-free", "talc-free", "silicone-free", "kosher", "halal", "reef-safe", "reef",
    "safe", "biodegradable", "recyclable", "handmade", "made", "in", "usa", "the", "france",
))
_CLAIM_CORE = frozenset((
    "pure", "natural", "naturally", "approved", "fda-approved", "vegan", "cruelty-free",
    "non-gmo", "gluten-free", "hypoallergenic", "tested", "non-comedogenic", "non-toxic",
    "plant-based", "plant-derived", "derived", "paraben-free", "sulfate-free",
    "phthalate-free", "fragrance-free", "alcohol-free", "oil-free", "talc-free",
    "silicone-free", "reef-safe", "biodegradable", "recyclable", "handmade", "kosher", "halal",
))
_CLAIM_TOKEN = re.compile(r"[a-z0-9%\-]+")
# manufacturer formula and batch codes printed at the end of a list: L'Oreal's F.I.L. codes
# ("F.I.L. C179346/1", "N 04932/N", "IL28-1"), "Formula: 947976 21"
_CODE = re.compile(
    r"^(?:(?:f\.?\s?i\.?\s?l\.?|fil|formula|code|n[o°º]?\.?|#)\s*[:#.]?\s*)*"
    r"(?:[a-z]{1,2}\s?\d{5,}\s*/\s*[a-z0-9]{1,2}|il\d{2}(?:-\d{1,2}|[a-z])?)\.?$"
    r"|^(?:formula|f\.?\s?i\.?\s?l\.?)\b.*\d{4,}",
    re.IGNORECASE,
)


# a note about the list, not an ingredient: origin, "subject to change", "refer to the packaging"
_NOTE_TOKEN = re.compile(
    r"^(?:made|manufactured|produced)\s+in\s+(?:the\s+)?[a-z][a-z .&-]{1,30}$|"
    r"\b(?:subject\s+to\s+change|(?:may|can)\s+(?:change|vary|differ)\b|"
    r"refer\s+to\s+(?:the\s+)?(?:product\s+)?packag|most\s+(?:up[-\s]to[-\s]date|current|recent)\b)")
# parts of an article, not substances: a candle's wick, a brush's bristles
_ARTICLE = re.compile(r"(?:^|\s)(?:wicks?|bristles|ferrules?|applicators?)$")
# nutrition- and supplement-facts rows and dose fragments ("Serving Size - 1 Packet",
# "Total Carbohydrate 1g (<1% DV*)", "800mcg RAE (200% DV*)"), a perfume's alcohol strength
# ("Percent alcohol: 79% vol.", "80% Vol.")
_FACTS = re.compile(
    r"^(?:serving size|servings per|amount per serving|calories\b|total (?:fat|carbohydrates?|"
    r"sugars?)\b|dietary fiber|added sugars|% ?daily value|daily value|\d[\d,.]*\s*(?:mcg|mg|g|iu)\b"
    r".*\bdv\b)")
_STRENGTH = re.compile(
    r"^(?:percent alcohol\b|alcohol (?:content|by volume)\b|vol$|\d+(?:[.,]\d+)?\s*%\s*vol$)")


def not_a_name(printed: str) -> str | None:
    """Why a printed token is not an ingredient (a claim, a formula code, an article part,
    a nutrition-facts row, a perfume's alcohol strength), or None. ("* Essential Oil" stays:
    it says what the product holds.)"""
    low = printed.lower().strip(" .,;:*")
    if not low:
        return None
    if _CODE.match(low):
        return "formula or batch code"
    if len(low) <= 120 and "," not in low and _NOTE_TOKEN.search(low):
        return "note about the list (not an ingredient)"
    if _ARTICLE.search(low):
        return "part of an article (not a substance)"
    if _FACTS.match(low):
        return "nutrition-facts row"
    if _STRENGTH.match(low):
        return "alcohol strength"
    words = _CLAIM_TOKEN.findall(low)
    if words and all(w in _CLAIM_WORDS for w in words) and any(w in _CLAIM_CORE for w in words):
        return "claim"
    return None


# -- CAS index names printed inverted ---------------------------------------------------------

# a substituent prefix printed after the comma of a CAS index name, a note in brackets aside:
# "3,7-Dimethyl (Freesia Note/Safe Synthetic)", "2-Ethyl-3-Hydroxy", ".alpha.-Methyl"
_SUBSTITUENT = re.compile(r"^\.?[0-9a-z(\[.][^\s]*$", re.IGNORECASE)
_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_ESTER_NEXT = re.compile(r"\b(?:esters?|salts?|ethers?)\b", re.IGNORECASE)


def uninverted(head: str, tail: str, following: str | None = None) -> list[str]:
    """Readings of a CAS index name printed inverted and cut at its comma by the splitter:
    ("1,6-Nonadien-3-ol", "3,7-dimethyl (freesia note/safe synthetic)") ->
    ["3,7-dimethyl-1,6-Nonadien-3-ol", ...]. Nothing when the next token names an ester or salt
    of it ("Propanoic acid, 2-methyl-, 1,1-dimethyl-2-phenylethyl ester" is not the acid)."""
    if ester_follows(following):
        return []
    sub = _NOTE.sub("", tail).strip()
    if not sub or not _SUBSTITUENT.match(sub) or not any(c.isalpha() for c in sub):
        return []
    sub = sub.rstrip("-")
    h = head.strip()
    return [f"{sub}-{h}", f"{sub}{h}"]


def ester_follows(following: str | None) -> bool:
    """The token after an inverted CAS name names an ester or salt of it."""
    return following is not None and _ESTER_NEXT.search(following) is not None


def is_blurb(printed: str) -> bool:
    """A key-ingredient blurb: a name, a colon and a sentence ("-Aloe Vera: Calms and
    conditions skin."; on a bulleted line the sentence may be one word: "-Witch Hazel:
    Tones.")."""
    head, sep, tail = printed.partition(":")
    if not sep or not head.strip():
        return False
    words = tail.split()
    return len(words) >= 2 or (
        len(words) == 1 and printed.lstrip()[:1] in "-\u2022" and words[0][:1].isupper()
        and words[0].endswith(".") and words[0][:-1].isalpha()
        and not any(c.isdigit() for c in head))  # never a drug-facts line ("-Octinoxate
    # 3.74%: Sunscreen.": the purpose of an active ingredient)


# -- the pieces of a CAS index name cut at its commas -----------------------------------------

# a fragrance house may print each material by its CAS index name ("Cyclopentaneacetic acid,
# 3-oxo-2-pentyl-, methyl ester (floral note)", "Benzaldehyde, 4-hydroxy-3-methoxy"); the
# splitter cuts it at the commas. What follows the parent's comma is a substituent or the
# ester part, never an ingredient of its own:
_CAS_SUBST = re.compile(
    r"^(?:"
    r"(?=\S*\d)\S+-"                   # ends with a dash and holds a locant: "3-oxo-2-pentyl-"
    r"|(?:\([A-Za-z]{1,2}\)|cis|trans|dl|[a-z])-"  # a stereo descriptor: "(E)-", "cis-"
    r"|\.[a-z]+\."                     # ".alpha.", ".beta." (CAS typography)
    r"|(?:\(?\d+[a-z]?(?:,\d+[a-z]?)*\)?-|[a-z]*hydro-\d)\S*(?:yl|oxy|hydro|oxo)\)?"
    #                                    locants first, a substituent suffix last:
    #                                    "3,7-dimethyl", "dihydro-5-pentyl", "4-hydroxy-3-methoxy"
    r"|\([a-z]+(?:oxy|yl)\)"           # a bracketed substituent: "(ethoxymethoxy)"
    r"|\((?:\d+[a-z]{0,2}|[EZRS])(?:,\s?\d+[a-z]{1,2})*\)-?"  # stereo: "(12E)", "(3aR,5aS,9aS)"
    r"|\((?=[^()]*\d)[^()]*(?:\([^()]*\))?[^()]*\)-"  # "[3aR-(3a.alpha.,5a.beta.)]-"
    r"|(?:oxy|thio)bis-?"              # a multiplier joining two parents: "Propanol, oxybis-"
    r")$",
    re.IGNORECASE,
)
# the ester or salt part after them: "methyl ester", "1-methylethyl ester", "(3Z)-3-hexen-1-yl
# ester", "propanoate", "acetate"
_STEREO = re.compile(
    r"^(?:\((?:\d+[a-z]{0,2}|[EZRS])(?:,\s?\d+[a-z]{1,2})*\)|\((?=[^()]*\d)[^()]*(?:\([^()]*\))?[^()]*\)|cis|trans|dl|[a-z])-?$",
    re.IGNORECASE)
_CAS_ESTER = re.compile(r"^(?:\S+\s+)?esters?$|^[a-z]+oate$|^acetate$", re.IGNORECASE)
_TRAILING_NOTE = re.compile(r"\s+\([^()]*\)\s*$")  # "(freesia note/safe synthetic)"


@lru_cache(maxsize=65536)
def cas_piece(printed: str) -> str | None:
    """What a piece cut from a CAS index name is: "substituent" ("3,7-dimethyl (freesia
    note)", "2-hydroxy-", ".alpha.", "(E)-"), "ester" ("methyl ester (floral note)",
    "propanoate"), or None for anything that can be a name of its own ("1,2-Hexanediol",
    "Ceteareth-20", "Glycerin")."""
    s = _TRAILING_NOTE.sub("", " ".join(printed.replace("[", "(").replace("]", ")").split()))
    s = s.strip(" ,;*")
    if not s or not any(c.isalpha() for c in s):
        return None
    if (" " not in s or s[0] == "(") and _CAS_SUBST.match(s):
        return "substituent"
    if _CAS_ESTER.match(s):
        return "ester"
    return None


def cas_readings(parent: str, pieces: list[str], following: str | None = None) -> list[str]:
    """Uninverted readings of a CAS index name joined back from its pieces (substituents
    only; a stereo descriptor names the isomer, not another substance: "3-Buten-2-one",
    "4-(2,6,6-trimethyl-1-cyclohexen-1-yl)-", "(E) (violet note)" ->
    "4-(2,6,6-trimethyl-1-cyclohexen-1-yl)-3-Buten-2-one" = BETA-IONONE)."""
    subs = []
    for p in pieces:
        s = _TRAILING_NOTE.sub("", " ".join(p.replace("[", "(").replace("]", ")").split()))
        s = s.strip(" ,;*")
        if s and not _STEREO.match(s):
            subs.append(s.rstrip("-"))
    if not subs or ester_follows(following):
        return []
    sub, h = ",".join(subs), parent.strip()
    return [f"{sub}-{h}", f"{sub}{h}"]
