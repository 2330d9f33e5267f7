"""JSON answers encoded with orjson: the API's answers are large (a recommend answer with
its flags is ~60 kB), and the standard library's encoder took ~10 % of a request's CPU.

Same JSON as Flask's default provider (keys sorted, compact, dates and dataclasses through
Flask's ``default``), except that text is UTF-8 rather than \\u-escaped and a non-finite float
is ``null`` (the API sends None for unknown values anyway; ``NaN`` is not JSON). Reading
JSON stays Flask's (``web.api.body`` reports the standard library's messages).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


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
