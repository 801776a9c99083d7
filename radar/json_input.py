"""Parsing JSON that radar did not write itself: a findings report given to `radar plan`, a
Vault response, a token's header found in a scanned file, a secret's value, a cache file.

The standard parser recurses once per nested array or object; a document nested 100,000 deep
(`[[[[...`, a few hundred kilobytes) raises RecursionError, which nothing expects and which
stopped whole scans. `loads()` turns it into a ValueError like any other malformed JSON, so the
callers' existing handling of bad JSON applies. The parser's own recursion guard stops it at
Python's recursion limit (about 1,000 levels), long before the C stack is at risk; radar's own
documents nest 5 levels deep.
"""

from __future__ import annotations

import json
from typing import Any


class JSONNestingError(ValueError):
    """The document nests arrays and objects too deeply to be read."""


def loads(text: str | bytes | bytearray) -> Any:
    """`json.loads(text)`, but a document nested too deeply is a JSONNestingError (a ValueError)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise JSONNestingError("arrays and objects nested too deeply (hundreds of levels)") from None
