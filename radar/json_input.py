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
    """`json.loads(text)`, but a document nested too deeply is a JSONNestingError, and a number
    too long for Python a JSONDecodeError, like any other malformed document (both ValueErrors)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise JSONNestingError("arrays and objects nested too deeply (hundreds of levels)") from None
    except json.JSONDecodeError:
        raise
    except ValueError:
        # Python's int() refuses numbers of more than 4,300 digits (its guard against quadratic
        # conversion); json.loads lets that ValueError through, which callers expecting a
        # JSONDecodeError did not handle.
        doc = text if isinstance(text, str) else ""
        raise json.JSONDecodeError("a number of more than 4300 digits", doc, 0) from None


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects in parsed `value` nest more than `limit` deep (without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False
