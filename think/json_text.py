"""JSON as think writes it: one line, readable UTF-8, and always encodable."""

from __future__ import annotations

import json


def json_line(data: object) -> str:
    """One line of JSON, readable UTF-8 where it can be: text with lone surrogates (which JSON
    input may carry) stays escaped, since no UTF-8 file or terminal takes them raw."""
    line = json.dumps(data, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(data)
    return line
