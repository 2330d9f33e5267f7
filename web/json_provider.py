"""JSON answers encoded with orjson: the API's answers are large (a recommend answer with
its flags is ~60 kB), and the standard library's encoder took ~10 % of a request's CPU.
The flags of a recommend answer's items are shared dicts: :func:`shared_lists` keeps each
list's text, and the answer holds them as orjson fragments. A list not kept is written from
each dict's kept text; a flag re-worded for another depth (a new dict for every depth typed
once) from its base's text with its own reason put in.

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

from recommender.scoring.kept import RewordedFlag

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
LISTS_KEPT = 4000           # flag lists whose text is kept, the last used (each held alive)
DICTS_KEPT = 10_000         # flag dicts, and re-worded flags' bases, whose text is kept (held alive)

# (id of each dict, in order) -> (the dicts, the list's text). An entry holds its dicts alive,
# so no other object can take their ids while it is kept: equal keys mean the same dicts.
_TEXTS: OrderedDict[tuple[int, ...], tuple[tuple, orjson.Fragment]] = OrderedDict()
# id of a dict -> (the dict, its text); id of a re-worded flag's base -> (the base, its text
# before and after the reason's value)
_DICT_TEXTS: OrderedDict[int, tuple[dict, bytes]] = OrderedDict()
_SPLITS: OrderedDict[int, tuple[dict, bytes, bytes]] = OrderedDict()
_LOCK = threading.Lock()
_EMPTY = orjson.Fragment(b"[]")
_MARK = "\x00skinrec: the reason goes here\x00"


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


def shared_lists(lists: list[list]) -> list[orjson.Fragment]:
    """Lists of shared, read-only dicts (the flags of a recommend answer's items: the scorer
    hands out the same dicts for the same flags, recommender.scoring.frame ``_flag_dict`` and
    recommender.scoring.kept) as the JSON text :class:`OrjsonProvider` writes for each list
    without indentation, each list's text made once and kept: a recommend answer is ~60 kB,
    two thirds of it flags, and encoding them was ~2/3 of its encoding. A product shown
    again in the same context holds the same flag dicts, so its list is one look-up (a
    look-up per dict was ~5 % of a worker's time under load). The last LISTS_KEPT used are
    kept: a list re-worded for a depth asked once is used once (and holding many such was
    ~100 MB per worker at 20,000 dicts). A list holding a flag re-worded for an answer the
    scorer does not keep (``RewordedFlag.once``: its dicts are made anew when that depth is
    asked again) is written but not kept, so it does not push out a list asked again: under
    web_load's mix, lists not found 12.1 -> 11.0 a request, shared_lists 0.33 -> 0.26 ms.

    Only for answers encoded without indentation (see :func:`fragments_ok`); a dict must not
    change once it has been encoded here."""
    out = []
    with _LOCK:
        for items in lists:
            if not items:
                out.append(_EMPTY)
                continue
            key = tuple(map(id, items))
            got = _TEXTS.get(key)
            if got is not None:
                _TEXTS.move_to_end(key)
                out.append(got[1])
                continue
            text = orjson.Fragment(b"[" + b",".join([_dict_text(d) for d in items]) + b"]")
            out.append(text)
            if not any(type(d) is RewordedFlag and getattr(d, "once", False) for d in items):
                _TEXTS[key] = (tuple(items), text)
                if len(_TEXTS) > LISTS_KEPT:
                    _TEXTS.popitem(last=False)
    return out


def _keep(kept: OrderedDict, key: int, value: tuple) -> None:
    kept[key] = value
    if len(kept) > DICTS_KEPT:
        kept.popitem(last=False)


def _dict_text(d: dict) -> bytes:
    """One flag dict's text (under _LOCK): kept per dict; a re-worded flag
    (recommender.scoring.kept ``RewordedFlag``, new for every depth typed once) is its base's
    text with its own reason put in place of the base's."""
    if type(d) is RewordedFlag:
        base = d.base
        got = _SPLITS.get(id(base))
        if got is None:
            pre, mark, post = orjson.dumps({**base, "reason": _MARK}, option=OPTIONS).partition(
                orjson.dumps(_MARK))
            if not mark or "reason" not in base or d.keys() != base.keys():
                return orjson.dumps(d, option=OPTIONS)
            got = (base, pre, post)
            _keep(_SPLITS, id(base), got)
        else:
            _SPLITS.move_to_end(id(base))
        return got[1] + orjson.dumps(d["reason"]) + got[2]
    got = _DICT_TEXTS.get(id(d))
    if got is None:
        got = (d, orjson.dumps(d, option=OPTIONS))
        _keep(_DICT_TEXTS, id(d), got)
    else:
        _DICT_TEXTS.move_to_end(id(d))
    return got[1]


def fragments_ok(app) -> bool:
    """Whether ``app`` encodes its answers with OrjsonProvider and no indentation (the text
    of :func:`shared_lists` is then the text the answer would hold)."""
    provider = app.json
    return isinstance(provider, OrjsonProvider) and provider._options({}) == OPTIONS
