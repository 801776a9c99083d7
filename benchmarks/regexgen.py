"""Strings that a regex matches, drawn with a caller's seeded random generator.

The rule samples make their secrets from the rule's own regex (RE2 syntax); Python's parser reads
that syntax once the few RE2-only spellings are rewritten. Open repeats (`+`, `*`, `{n,}`) add at
most `OPEN_EXTRA` more, characters come from printable ASCII, case-insensitive flags generate the
text as written (which the regex still matches).
"""

from __future__ import annotations

import random
import re
import string

try:  # Python 3.11 moved the parser
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

OPEN_EXTRA = 10
PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: string.digits,
    sre_constants.CATEGORY_NOT_DIGIT: "".join(c for c in PRINTABLE if not c.isdigit()),
    sre_constants.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_constants.CATEGORY_NOT_WORD: "".join(c for c in PRINTABLE if not (c.isalnum() or c == "_")),
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: "".join(c for c in PRINTABLE if c != " "),
}
_POSIX = {"alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "digit": "0-9", "lower": "a-z", "upper": "A-Z",
          "xdigit": "0-9A-Fa-f", "word": "\\w", "space": "\\s", "punct": "!-/:-@\\[-`{-~"}


def to_python(regex: str) -> str:
    """RE2 spellings Python's parser does not read: \\z, [[:class:]], (?P<name>) is shared."""
    regex = regex.replace("\\z", "\\Z")
    return re.sub(r"\[:(\^?)(\w+):\]", lambda m: _POSIX.get(m.group(2), m.group(0)), regex)


def generate(regex: str, rng: random.Random) -> str:
    """One string `regex` fully matches (ValueError when the regex cannot be read)."""
    try:
        parsed = sre_parse.parse(to_python(regex))
    except re.error as e:
        raise ValueError(f"unreadable regex: {e}") from None
    groups: dict[int, str] = {}
    return _emit(parsed, rng, groups)


def _emit(items, rng: random.Random, groups: dict[int, str]) -> str:  # type: ignore[no-untyped-def]
    out: list[str] = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.NOT_LITERAL:
            out.append(rng.choice([c for c in PRINTABLE if ord(c) != arg]))
        elif op is sre_constants.ANY:
            out.append(rng.choice(string.ascii_letters + string.digits))
        elif op is sre_constants.IN:
            out.append(rng.choice(_class(arg)))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            if high is sre_constants.MAXREPEAT:
                high = low + OPEN_EXTRA
            out.extend(_emit(sub, rng, groups) for _ in range(rng.randint(low, high)))
        elif op is sre_constants.SUBPATTERN:
            group, _, _, sub = arg
            text = _emit(sub, rng, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op is sre_constants.BRANCH:
            out.append(_emit(rng.choice(arg[1]), rng, groups))
        elif op is sre_constants.GROUPREF:
            out.append(groups.get(arg, ""))
        elif op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            continue  # anchors and lookarounds (RE2 has none of the latter) take no text
        elif op is sre_constants.CATEGORY:
            out.append(rng.choice(_CATEGORIES[arg]))
        else:
            raise ValueError(f"cannot generate {op}")
    return "".join(out)


def _class(items) -> list[str]:  # type: ignore[no-untyped-def]
    allowed: set[str] = set()
    negate = False
    for op, arg in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            allowed.add(chr(arg))
        elif op is sre_constants.RANGE:
            ascii_part = {chr(c) for c in range(arg[0], min(arg[1], 0x7E) + 1)}
            allowed.update(ascii_part or {chr(arg[0])})  # a range beyond ASCII: its first letter
        elif op is sre_constants.CATEGORY:
            allowed.update(_CATEGORIES[arg])
    # A class such as [^\s] leaves printable ASCII; upper-case letters first only by sort order.
    chars = sorted(c for c in PRINTABLE if c not in allowed) if negate else sorted(allowed)
    if not chars:
        raise ValueError("an empty character class")
    return chars
