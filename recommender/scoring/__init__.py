"""Scoring: the one place where the safety engine and the learned models meet.

    from recommender.scoring import score_frame, make_score_context

    ctx = make_score_context(day=2, depth=1.0, concerns="dark spots,dryness", skin_type="dry")
    scored = score_frame(catalog_df, ctx)          # every input column + OUTPUT_COLUMNS

The formula and its weights: recommender.scoring.formula (``Weights``).
"""

from recommender.scoring.context import (
    ScoreContext,
    make_score_context,
    parse_concerns,
    parse_skin_types,
)
from recommender.scoring.formula import DEFAULT_WEIGHTS, Weights, describe
from recommender.scoring.frame import (
    OUTPUT_COLUMNS,
    ColumnError,
    empty_output,
    resolve_columns,
    score_frame,
)
from recommender.scoring.learned import CONCERNS, SKIN_TYPES, LearnedModels, default_models

__all__ = [
    "CONCERNS", "ColumnError", "DEFAULT_WEIGHTS", "LearnedModels", "OUTPUT_COLUMNS",
    "SKIN_TYPES", "ScoreContext", "Weights", "default_models", "describe", "empty_output",
    "make_score_context", "parse_concerns", "parse_skin_types", "resolve_columns", "score_frame",
]
