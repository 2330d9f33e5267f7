"""Bounded per-process memos of printed names and tokens.

Answers the retailer's million-row catalog: the parser and the canonicaliser remember what
each printed name read as (the same names recur in every chunk), but a catalog with a long
tail of spellings must not grow those memos without end. A memo is emptied when it reaches
``config.MEMO_ENTRIES``; a catalog's common names are back in it within a chunk.
"""

from __future__ import annotations

from recommender.config import MEMO_ENTRIES


def remember(memo: dict, key, value, limit: int = MEMO_ENTRIES):
    """``memo[key] = value`` (emptying the memo first when it holds ``limit`` entries);
    returns ``value``."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value
