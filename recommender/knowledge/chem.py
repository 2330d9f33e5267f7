"""Molecular descriptors for the defined chemicals among CosIng names.

Which real input or user need each rule answers:

- The absorption estimate and the permeability model (DESIGN.md, "Learned components" 3,
  "Absorption") need MW, logKow, H-bond donors/acceptors and TPSA per ingredient, and must
  say ``unknown`` (never 0) when there is no structure. So only names that denote ONE
  defined substance get a structure.
- CAS -> structure comes from the ``chemicals`` package (PubChem-derived CAS index, MIT);
  experimental logKow from ``chemicals.logP`` (CRC and Syracuse PhysProp measured values);
  the rest from RDKit: Crippen MolLogP as the logKow fallback (``logkow_source='crippen'``),
  Lipinski donors/acceptors, TPSA, MolWt (salts include their counter-ions, as the CAS
  record does; Crippen is computed on the neutralised largest organic fragment). Substances without carbon (oxides, inorganic salts) get no Crippen value:
  its atom contributions are fitted on organic molecules, and a "logKow" of -10 for borax
  would mislead the permeability model; their logkow stays '' unless measured.
- Names that do not denote one molecule are skipped, whatever their CAS number says: the
  CosIng inventory gives a first CAS for botanical extracts, oils, ferments, polymers and
  ethoxylates, and ``chemicals`` resolves some of those to a fragment (sodium hyaluronate's
  CAS gives a tetrasaccharide of ~800 Da, dimethicone's gives octamethyltrisiloxane). The
  skip rules are name patterns (plant parts, extract/oil/ferment/powder, copolymers, PEG-n,
  -eth-n, chain ranges "C12-15", slashes) plus the CAS blocks 8000-8099 (natural mixtures)
  and 9000-9099 (polymers, proteins, enzymes).
- Lookups are cached per process; the large ``chemicals`` index loads once (~2 s) and the
  whole inventory resolves in a few seconds (measured: ~14,000 CAS numbers in ~6 s).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Words that make a name a botanical, animal, biotech or mineral mixture (whole words).
_MIXTURE_WORDS = (
    "EXTRACT", "EXTRACTS", "OIL", "OILS", "FERMENT", "FILTRATE", "LYSATE", "POWDER", "JUICE",
    "BUTTER", "WAX", "CERA", "LEAF", "LEAVES", "SEED", "SEEDS", "ROOT", "FLOWER", "FRUIT",
    "BARK", "PEEL", "HERB", "STEM", "KERNEL", "BUD", "RESIN", "GUM", "SAP", "PULP", "CALLUS",
    "CELL", "CELLS", "MERISTEM", "PROTEIN", "PROTEINS", "HYDROLYZED", "HYDROLYSATE",
    "GLYCERIDES", "ESTERS", "ACIDS", "ALCOHOLS", "TALLOW", "LANOLIN", "MILK", "HONEY",
    "SERUM", "PLACENTA", "PLACENTAL", "COLLAGEN", "ELASTIN", "KERATIN", "MEDIA", "MEDIUM",
    "CULTURE", "ABSOLUTE", "DISTILLATE", "TINCTURE", "INFUSION", "TAR", "BALSAM",
    "CONCRETE", "VINEGAR", "WINE", "YEAST", "ALGAE", "SEAWEED", "CLAY", "MUD", "SILT", "ASH",
    "CHARCOAL", "MINERALS", "SALTS", "HYDROGENATED", "SULFONATED", "ETHOXYLATED",
    "POLYMERIZED", "EPOXIDIZED", "OXIDIZED", "MIXED", "ALKYL", "FATTY", "LECITHIN",
    "LYSOLECITHIN", "STARCH", "CELLULOSE", "DEXTRAN", "DEXTRIN", "GLUCAN", "CHITOSAN",
    "CHITIN", "PECTIN", "CARRAGEENAN", "ALGIN", "AGAR", "XANTHAN", "GELLAN", "PULLULAN",
    "CARBOMER", "ACRYLATES", "NYLON", "SILK", "DNA", "RNA", "PARAFFIN", "PETROLATUM",
    "OZOKERITE", "CERESIN", "ISOPARAFFIN", "TALC", "MICA", "KAOLIN", "BENTONITE", "ZEOLITE",
    "HECTORITE", "MONTMORILLONITE", "SILICATE", "SILICATES", "PEARL", "AMBER", "GLASS",
    "TRIGLYCERIDE", "LIPIDS", "SPHINGOLIPIDS", "PHOSPHOLIPIDS", "CERAMIDES", "PEPTIDES",
    "POLYPEPTIDE", "POLYPEPTIDES", "OLIGOPEPTIDES", "ENZYMES", "EXOSOMES", "VESICLES",
    "PLASMA", "BLOOD", "TISSUE", "TISSUES", "EGG", "YOLK", "SPERMACETI", "BEESWAX",
    "PROPOLIS", "POLLEN", "ROYAL", "SNAIL", "SECRETION", "MUCIN", "LEES", "GRAIN", "BRAN",
    "HUSK", "SHELL", "HULL", "STALK", "TWIG", "WOOD", "NEEDLE", "CONE", "RHIZOME", "TUBER",
    "BULB", "SPROUT", "THALLUS", "MYCELIUM", "MUSHROOM", "SPORE", "SPORES", "BERRY",
    "CALYX", "PETAL", "SKIN", "HAIR", "HORN", "BONE", "MARROW", "CARTILAGE", "HOOF",
)
_MIXTURE_RE = re.compile(r"\b(?:" + "|".join(_MIXTURE_WORDS) + r")\b")
# Polymers, ethoxylates, silicones, chain-length ranges and other non-single substances.
_POLYMER_RE = re.compile(
    r"\bPOLY|POLYMER|\bPEG\b|\bPEG-|\bPPG\b|\bPPG-|[A-Z]{2,}ETH(?:-\d+)?\b|\bNONOXYNOL|"
    r"\bOCTOXYNOL|\bPOLOXAMER|METHICONE\b|SILSESQUIOXANE|SILOXANES\b|\bC\d+-\d+\b|"
    r"\bCOC(?:O|AM|OYL|ETH)|\bSOY|\bPALM(?:ATE|AMIDE)S?\b|HYALURON|\bPVP\b|\bPVM\b|"
    r"\bVP\b|\bLAKE\b|PHYTOSTEROLS|\bSEA\b|\bMARIS\b"
)


def is_defined_name(inci: str) -> bool:
    """Whether a canonical INCI name can denote one defined substance (gets a structure).

    False for botanicals, extracts, oils, ferments, powders, polymers, ethoxylates (PEG-n,
    laureth-n), silicones, chain-length ranges (C12-15), slashed mixtures and the like.
    """
    name = " ".join(str(inci).upper().split())
    if not name or "/" in name:
        return False
    if " WATER" in name or "WATER " in name:   # floral/plant waters; plain WATER is defined
        return False
    return not (_MIXTURE_RE.search(name) or _POLYMER_RE.search(name))


_CAS_SHAPE = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")


def valid_cas(cas: str) -> str | None:
    """The CAS number if well-formed with a correct check digit, else None."""
    cas = str(cas or "").strip()
    m = _CAS_SHAPE.match(cas)
    if not m:
        return None
    digits = (m.group(1) + m.group(2))[::-1]
    if sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 != int(m.group(3)):
        return None
    return cas


def is_mixture_cas(cas: str) -> bool:
    """CAS blocks of natural mixtures (8000-8099) and polymers/proteins (9000-9099)."""
    head = int(cas.split("-")[0])
    return 8000 <= head <= 8099 or 9000 <= head <= 9099


@dataclass(frozen=True)
class Descriptors:
    smiles: str
    mw: float
    logkow: float | None
    logkow_source: str          # "experimental" | "crippen" | "" (inorganic, none measured)
    hbd: int
    hba: int
    tpsa: float
    structure_source: str       # "chemicals" (CAS -> SMILES from the chemicals package)


@functools.lru_cache(maxsize=1)
def _rdkit():
    from rdkit import Chem, RDLogger
    from rdkit.Chem import Crippen, Lipinski, rdMolDescriptors
    from rdkit.Chem import Descriptors as D

    RDLogger.DisableLog("rdApp.*")
    return Chem, Crippen, D, Lipinski, rdMolDescriptors


@functools.lru_cache(maxsize=1)
def _standardizers():
    from rdkit.Chem.MolStandardize import rdMolStandardize

    return rdMolStandardize.LargestFragmentChooser(preferOrganic=True), rdMolStandardize.Uncharger()


def _neutral_parent(mol):
    """Largest organic fragment, charges neutralised: the species whose logKow matters.

    Crippen over a whole salt adds a large negative term per counter-ion (pentasodium
    salts came out near -20); partitioning is a property of the neutral parent.
    """
    chooser, uncharger = _standardizers()
    try:
        return uncharger.uncharge(chooser.choose(mol))
    except Exception:  # standardisation failed: fall back to the molecule as given
        return mol


def descriptors_from_smiles(smiles: str) -> dict | None:
    """RDKit descriptors of one SMILES: mw, crippen logP, hbd, hba, tpsa (None if unparsable)."""
    Chem, Crippen, D, Lipinski, rdMolDescriptors = _rdkit()
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return {
        "organic": any(a.GetAtomicNum() == 6 for a in mol.GetAtoms()),
        "mw": float(D.MolWt(mol)),
        "crippen": float(Crippen.MolLogP(_neutral_parent(mol))),
        "hbd": int(Lipinski.NumHDonors(mol)),
        "hba": int(Lipinski.NumHAcceptors(mol)),
        "tpsa": float(rdMolDescriptors.CalcTPSA(mol)),
    }


@functools.cache
def smiles_for_cas(cas: str) -> str | None:
    """SMILES of a CAS number from the ``chemicals`` CAS index (None when not found)."""
    from chemicals.identifiers import search_chemical

    try:
        meta = search_chemical(cas)
    except Exception:  # chemicals raises ValueError (and others) for unknown CAS
        return None
    if getattr(meta, "CASs", None) != cas:
        return None  # chemicals answered with another substance's record: no structure
    return getattr(meta, "smiles", None) or None


@functools.cache
def experimental_logkow(cas: str) -> float | None:
    """Measured logKow (CRC / Syracuse PhysProp via ``chemicals.logP``), or None."""
    from chemicals import logP

    try:
        value = logP(cas)
    except Exception:  # missing data in chemicals is not an error here
        return None
    return float(value) if value is not None else None


@functools.cache
def describe(cas: str) -> Descriptors | None:
    """Descriptors for one CAS number, or None when there is no usable structure."""
    cas = valid_cas(cas)
    if cas is None or is_mixture_cas(cas):
        return None
    smiles = smiles_for_cas(cas)
    if not smiles:
        return None
    d = descriptors_from_smiles(smiles)
    if d is None:
        return None
    exp = experimental_logkow(cas)
    if exp is not None:
        logkow, source = exp, "experimental"
    elif d["organic"]:
        logkow, source = d["crippen"], "crippen"
    else:  # Crippen's atom contributions mean nothing for salts and oxides without carbon
        logkow, source = None, ""
    return Descriptors(
        smiles=smiles,
        mw=d["mw"],
        logkow=logkow,
        logkow_source=source,
        hbd=d["hbd"],
        hba=d["hba"],
        tpsa=d["tpsa"],
        structure_source="chemicals",
    )


def describe_ingredient(inci: str, cas: str) -> Descriptors | None:
    """Descriptors of a canonical ingredient: only defined chemicals with a resolvable CAS."""
    if not cas or not is_defined_name(inci):
        return None
    return describe(cas)
