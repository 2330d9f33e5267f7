"""Post-needling safety: protocols as data, time windows, verdicts that explain themselves.

Public API::

    from recommender.safety import Context, assess, load_protocol, default_protocol

    ctx = Context.make(hours=36, depth=1.0, modality="mn", avoid=["vitamin b3"],
                       pregnant=False, canonicalise=..., class_for_query=...)
    result = assess(parsed_list, ctx, load_protocol("clinic.yaml"), name=..., category=...)
    result.verdict, result.safe_from_day, result.verdict_at(7.0), result.to_dict()

This package never imports the learned models (DESIGN.md: safety is rules only).
"""

from recommender.safety.context import (
    AvoidList,
    Context,
    default_resolvers,
    fold_name,
    resolve_avoid_list,
    split_avoid_items,
)
from recommender.safety.engine import (
    Assessment,
    Flag,
    Note,
    assess,
    post_procedure_friendly,
    rescale,
    retime,
    strictest,
)
from recommender.safety.protocol import (
    DEFAULT_PROTOCOL_FILE,
    KNOWN_CLASSES,
    Protocol,
    ProtocolError,
    Rule,
    default_protocol,
    load_protocol,
    parse_protocol,
)
from recommender.safety.table import protocol_table

__all__ = [
    "Assessment", "AvoidList", "Context", "DEFAULT_PROTOCOL_FILE", "Flag", "KNOWN_CLASSES",
    "Note", "Protocol", "ProtocolError", "Rule", "assess", "default_protocol",
    "default_resolvers", "fold_name", "load_protocol", "parse_protocol", "post_procedure_friendly", "rescale", "retime",
    "protocol_table",
    "resolve_avoid_list", "split_avoid_items", "strictest",
]
