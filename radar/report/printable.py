"""Scanned text made safe to show: the one escaped form of every report, plan and message.

Paths, variable keys, GitLab project paths, names, commit authors and the like come from what
radar scans, so whoever wrote the scanned tree, history or GitLab settings chooses them. Before
a report format, a plan or a `radar:` message shows such a string, `printable()` rewrites what
could change the output's shape or the reader's screen, and only that:

- a byte that is not UTF-8 (a file named `b'\\xff\\xfe.env'`, which Python holds as the lone
  surrogates U+DCFF U+DCFE, PEP 383) becomes `\\xff`, as Python's `backslashreplace` shows it;
- control characters become visible: `\\t`, `\\n`, `\\r`, any other C0 character, DEL and the
  C1 characters as `\\x1b`, `\\x85`; so do the line and paragraph separators and the
  bidirectional controls that reorder text on screen (U+2028, U+2029, U+061C, U+200E, U+200F,
  U+202A-U+202E, U+2066-U+2069, as `\\u202e`) and any other lone surrogate (JSON can carry one);
- everything else stays as it is, a backslash too.

So no shown string holds a line break, a tab, a terminal escape sequence or a character a UTF-8
encoder refuses: a text line is one finding, a CSV cell one value, a Markdown row one row. The
form is for reading, not for reversing: a name that holds the four characters `\\xff` reads like
one that holds the byte. In return every ordinary path (backslashes included) is unchanged in
every format, so SARIF and GitLab links still find the file, and escaping is idempotent, so the
JSON report that `radar plan` reads back, already escaped, is never escaped twice.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from typing import Any, TypeVar

T = TypeVar("T")

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNDECODABLE = range(0xDC80, 0xDD00)  # surrogateescape's stand-ins for the bytes 0x80-0xff


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code in _UNDECODABLE:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` in radar's escaped form (see the module's docstring); the same object when nothing changes."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def printable_fields(value: T) -> T:
    """`value` with every string in it made printable: a frozen dataclass (a finding, its origin and
    history, a report context), a tuple, or a string; the same object when nothing changes."""
    return _clean(value)


def _clean(value: Any) -> Any:
    # Called for every field of every finding (25,000 in a large SARIF report): exact type checks
    # and skipping numbers and None keep it at ~8 us a finding (0.2 s for 25,000).
    kind = type(value)
    if kind is str:
        return printable(value)
    if kind is tuple:
        cleaned = tuple(map(_clean, value))
        return value if all(map(operator.is_, cleaned, value)) else cleaned
    if value is None or kind is int or kind is bool or not dataclasses.is_dataclass(kind):
        return value
    changes = {}
    for name in _field_names(kind):
        old = getattr(value, name)
        new = _clean(old)
        if new is not old:
            changes[name] = new
    return dataclasses.replace(value, **changes) if changes else value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:  # dataclasses.fields() is too slow to call for every finding
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return names
