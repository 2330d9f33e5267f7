"""Reading ingredient lists as real labels print them (parse, fold, canonicalise).

This package knows nothing of the knowledge base, safety or models: the
canonicaliser is handed its name table and alias table by the caller.
"""

from recommender.inci.model import Mention, ParsedList

__all__ = ["Mention", "ParsedList"]
