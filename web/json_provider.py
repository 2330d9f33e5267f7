"""JSON answers encoded with orjson: the API's answers are large (a recommend answer with
its flags is ~60 kB), and the standard library's encoder took ~10 % of a request's CPU.
The flags of a recommend answer's items are shared dicts: :func:`shared_dicts` keeps each
one's text, and the answer holds them as orjson fragments.

Same JSON as Flask's default provider (keys sorted, compact, dates and dataclasses through
Flask's ``default``), except that text is UTF-8 rather than \\u-escaped and a non-finite float
is ``null`` (the API sends None for unknown values anyway; ``NaN`` is not JSON). Reading
JSON stays Flask's (``web.api.body`` reports the standard library's messages).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
DICTS_KEPT = 4000           # flag dicts whose text is kept, the last used (each held alive)

_TEXTS: OrderedDict[int, tuple[dict, bytes]] = OrderedDict()    # id -> (the dict, its text)
_LOCK = threading.Lock()


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson's encoder (``app.json``)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default, option=self._options(kwargs)).decode()

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        data = orjson.dumps(obj, default=self.default, option=self._options({}))
        return self._app.response_class(data, mimetype=self.mimetype)

    def _options(self, kwargs: dict) -> int:
        opt = OPTIONS
        if kwargs.get("indent") or (self.compact is False) or (
                self.compact is None and self._app.debug):
            opt |= orjson.OPT_INDENT_2
        return opt


def shared_dicts(items: list) -> orjson.Fragment:
    """A list of shared, read-only dicts (the flags of a recommend answer's items: the
    scorer hands out the same dict for the same flag, recommender.scoring.frame
    ``_flag_dict`` and recommender.scoring.kept) as the JSON text :class:`OrjsonProvider`
    writes for it without indentation, each dict's text made once and kept: a recommend
    answer is ~60 kB, two thirds of it flags, and encoding them was ~2/3 of its encoding.
    The last DICTS_KEPT used are kept: a dict re-worded for a depth asked once is used once
    (and holding many such was ~100 MB per worker at 20,000).

    Only for answers encoded without indentation (see :func:`fragments_ok`); a dict must not
    change once it has been encoded here."""
    parts = []
    with _LOCK:
        for d in items:
            key = id(d)                 # unique while kept: the entry holds the dict
            got = _TEXTS.get(key)
            if got is not None and got[0] is d:
                _TEXTS.move_to_end(key)
            else:
                got = _TEXTS[key] = (d, orjson.dumps(d, option=OPTIONS))
                if len(_TEXTS) > DICTS_KEPT:
                    _TEXTS.popitem(last=False)
            parts.append(got[1])
    return orjson.Fragment(b"[" + b",".join(parts) + b"]")


def fragments_ok(app) -> bool:
    """Whether ``app`` encodes its answers with OrjsonProvider and no indentation (the text
    of :func:`shared_dicts` is then the text the answer would hold)."""
    provider = app.json
    return isinstance(provider, OrjsonProvider) and provider._options({}) == OPTIONS
