"""DRF's JSON parser with the limits a hostile body cannot get round (wired in settings).

DRF's own parser hands the body to ``json.load`` as it is: JSON nested 10,000 deep
made the decoder raise ``RecursionError``, which nothing catches (a 500), and a
string escaping a lone surrogate (``"\\ud800"``) parsed into text PostgreSQL cannot
store (a 500 at the insert). This parser answers 400 with a clear message for both
and for anything nested deeper than any request of the API (:data:`MAX_DEPTH`),
and reads at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413 beyond) whatever the headers
said. Bytes that are not valid in the body's charset are refused by the request
guard before any parser runs (portal/request_guards.py), with the same message as a
surrogate here.
"""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant

from feedback.pipeline import PayloadTooLarge
from portal.request_guards import invalid_utf8_message

# The deepest request of the API is a survey response: {"answers": [{...}]}, depth 3.
MAX_DEPTH = 20


class GuardedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(invalid_utf8_message()) from None
        try:
            data = json.loads(text, parse_constant=strict_constant)
        except RecursionError:
            raise ParseError(_too_deep()) from None
        except ValueError as exc:
            raise ParseError(_("JSON 格式有误：%(error)s") % {"error": exc}) from None
        _structure_check(data)
        return data


def _too_deep() -> str:
    return _("JSON 嵌套过深（最多 %(depth)d 层）。") % {"depth": MAX_DEPTH}


def _structure_check(data: object) -> None:
    """Depth and text of every value, without recursion (the input chooses the depth)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(_too_deep())
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                pending.append((key, depth + 1))
                pending.append((item, depth + 1))
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: no charset can carry it
                raise ParseError(invalid_utf8_message()) from None
