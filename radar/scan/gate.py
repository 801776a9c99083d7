"""Gates: a Hyperscan expression that the start of every match of a rule's expression matches.

A provider rule's keyword is often a common word (`pat` for Airtable tokens, `re_` for Resend
keys) while its expression asks for much more (`pat`, 14 letters or digits, a dot, 64 hex
digits). `gate(expression)` reads the expression (with Python's own regular-expression parser)
and writes its leading literals and ASCII character classes as a Hyperscan expression; the engine
then searches a rule's lines only where the gate matched, and no line at all where it did not.

Only what reads the same in both engines is taken: case-sensitive ASCII literals, character
classes of ASCII literals and ranges (not `\\d`, `\\w` or `\\s`, which are Unicode in the `regex`
module, and not negated classes, which match non-ASCII characters, several bytes in Hyperscan),
and repeats of one of those. Look-arounds and anchors are skipped (they consume nothing, so a
gate without them matches more, never less); a repeat of varying length ends the gate at its
least count (and one of over MAX_COUNT at that many). Anything else ends the gate where it is. A gate shorter than MIN_GATE characters is
not worth the reports it costs, and none is given.

`required_literals(expression)` reads the expression the same way for the case-sensitive literals
that every match contains (`://`, `:` and `@` in a credential URL): a line without one of them
cannot hold a match, and the engine does not search it (a `str.find` costs a tenth of a search
with a timeout).

`leading_literals(expression)` gives, for each of its alternatives, the text (lower-case) that
every match begins with (`tgp_v1_` and `together` for Together AI keys): where each begins with
one of the rule's keywords, a match can begin only where a keyword does.

Where the `regex` module reads an expression otherwise than Python's parser (a POSIX class such
as `[[:alpha:]]`, set operations, fuzzy constraints), neither is given: Python warns of nested
sets and set operations, and a brace with a letter after it is not read at all.
"""

from __future__ import annotations

import re
import warnings

from radar.scan.prefilter import literal

try:  # Python's own parser (3.11 on): private, so a Python without it just has no gates
    from re import _constants as C, _parser  # type: ignore[attr-defined]
except ImportError:
    _parser = None

MIN_GATE = 16
MAX_COUNT = 255  # a longer repeat is written this long: Hyperscan refuses very large counts


# `{e<=1}` and the like: a fuzzy constraint to the `regex` module, literal text to Python's parser.
_LETTER_BRACE = re.compile(r"\{[ \t]*[A-Za-z]")


# A group's name (`(?P<secret>`, `(?<secret>`), and what refers to a group (by name or number).
_GROUP_NAME = re.compile(r"\(\?P?<(?![=!])\w+>")
_GROUP_REFERENCE = re.compile(r"\\(?:[1-9]|g<)|\(\?(?:P=|\(|&|R\)|[0-9+-])")


def refers_to_groups(expression: str) -> bool:
    """Whether `expression` may refer to a group (`\\1`, `(?P=q)`, a conditional, a call): cut
    out of its expression, or with its names dropped, such a part means something else."""
    return _GROUP_REFERENCE.search(expression) is not None


def _parse(expression: str, any_case: bool = False, unnamed: bool = False):  # type: ignore[no-untyped-def]
    """Python's parse tree of `expression`, or None where it may not read as the `regex` module
    reads it (or not at all), or (unless `any_case`) matches regardless of case. With `unnamed`,
    its groups are read without their names, which the `regex` module lets alternatives share
    (`(?P<secret>...)|...(?P<secret>...)`) and Python's parser does not; an expression that refers
    to its groups is then not read at all (the numbers would change)."""
    if _parser is None or _LETTER_BRACE.search(expression):
        return None
    if unnamed:
        if refers_to_groups(expression):
            return None
        expression = _GROUP_NAME.sub("(", expression)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Possible nested set": `[[:alpha:]]` is a class to `regex`
            parsed = _parser.parse(expression)
    except (re.error, RecursionError, OverflowError, Warning):
        return None  # `regex`-only syntax
    return None if parsed.state.flags & C.SRE_FLAG_IGNORECASE and not any_case else parsed


def gate(expression: str) -> str | None:
    """The gate of `expression`, or None when it has none worth having."""
    parsed = _parse(expression)
    if parsed is None:
        return None
    parts: list[str] = []
    try:
        length = _prefix(list(parsed), parts)
    except (TypeError, ValueError):  # a parse tree shaped otherwise than this code knows
        return None
    if length < 0:
        length = -length - 1
    return "".join(parts) if length >= MIN_GATE else None


def _prefix(items: list, parts: list[str]) -> int:
    """Appends to `parts` the gate of the sequence `items`; the gate's length, or -(length + 1)
    when the gate stopped inside `items` (so enclosing sequences stop too)."""
    length = 0
    for op, arg in items:
        if op in (C.ASSERT, C.ASSERT_NOT, C.AT):
            continue
        if op is C.LITERAL and arg < 128:
            parts.append(literal(chr(arg)))
            length += 1
        elif op is C.IN and _ascii_class(arg) is not None:
            parts.append(_ascii_class(arg))  # type: ignore[arg-type]
            length += 1
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)):
            low, high, body = arg
            single = _single(list(body))
            if single is None:
                return -(length + 1)
            count = min(low, MAX_COUNT)
            if count:
                parts.append(f"{single}{{{count}}}")
                length += count
            if high != low or count < low:
                return -(length + 1)  # what follows starts at a varying (or unwritten) offset
        elif op is C.SUBPATTERN:
            group, add_flags, del_flags, body = arg
            if add_flags & C.SRE_FLAG_IGNORECASE:
                return -(length + 1)
            inner = _prefix(list(body), parts)
            if inner < 0:
                return -(length - inner)
            length += inner
        else:
            return -(length + 1)
    return length


def _single(items: list) -> str | None:
    """A repeat's body as one Hyperscan character (class), if it is one."""
    if len(items) != 1:
        return None
    op, arg = items[0]
    if op is C.LITERAL and arg < 128:
        return literal(chr(arg))
    if op is C.IN:
        return _ascii_class(arg)
    return None


def _ascii_class(items: list) -> str | None:
    members = []
    for op, arg in items:
        if op is C.LITERAL and arg < 128:
            members.append(literal(chr(arg)))
        elif op is C.RANGE and arg[1] < 128:
            members.append(f"{literal(chr(arg[0]))}-{literal(chr(arg[1]))}")
        else:
            return None  # a negation, a category or a non-ASCII member
    return f"[{''.join(members)}]"


def required_literals(expression: str) -> tuple[str, ...]:
    """Case-sensitive literals that every match of `expression` contains, in no particular order
    (none where it cannot tell)."""
    parsed = _parse(expression, unnamed=True)
    if parsed is None:
        return ()
    found: list[str] = []
    try:
        _required(list(parsed), False, found)
    except (TypeError, ValueError):  # a parse tree shaped otherwise than this code knows
        return ()
    return tuple(dict.fromkeys(found))


def _required(items: list, ignore_case: bool, found: list[str]) -> None:
    """Appends to `found` the literals that every match of the sequence `items` contains: its runs
    of literal characters, and those of its groups and of its repeats of at least once.
    Alternatives, optional parts and look-arounds (which need not lie inside the match) add none."""
    run: list[str] = []
    for op, arg in items:
        if op is C.LITERAL and not ignore_case:
            run.append(chr(arg))
            continue
        if run:
            found.append("".join(run))
            run = []
        if op is C.SUBPATTERN:
            _group, add_flags, del_flags, body = arg
            inner = (ignore_case or bool(add_flags & C.SRE_FLAG_IGNORECASE)) and not del_flags & C.SRE_FLAG_IGNORECASE
            _required(list(body), inner, found)
        elif op in _REPEATS and arg[0] >= 1:
            _required(list(arg[2]), ignore_case, found)
        elif op is getattr(C, "ATOMIC_GROUP", None):
            _required(list(arg), ignore_case, found)
    if run:
        found.append("".join(run))


_REPEATS = tuple(op for op in (getattr(C, name, None) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"))
                 if op is not None) if _parser is not None else ()


def leading_literals(expression: str) -> tuple[str, ...] | None:
    """The text, lower-case, that every match of each alternative of `expression` begins with
    (after look-arounds), or None where one alternative begins with no literal text."""
    parsed = _parse(expression, any_case=True, unnamed=True)
    if parsed is None:
        return None
    try:
        texts, _complete = _leading(list(parsed))
    except (TypeError, ValueError):  # a parse tree shaped otherwise than this code knows
        return None
    return None if "" in texts else tuple(dict.fromkeys(texts))


def _leading(items: list) -> tuple[list[str], bool]:
    """The literal text each alternative of the sequence `items` begins with, and whether the
    sequence is that text and nothing more (then one alternative, and what follows it adds on)."""
    text = ""
    for op, arg in items:
        if op in (C.ASSERT, C.ASSERT_NOT, C.AT):
            continue  # consumes nothing
        if op is C.LITERAL:
            text += chr(arg).lower()
            continue
        if op is C.SUBPATTERN:
            inner = _leading(list(arg[3]))
        elif op is C.BRANCH:
            alternatives = [_leading(list(branch)) for branch in arg[1]]
            inner = ([t for texts, _ in alternatives for t in texts], False)
        else:
            return [text], False
        texts, complete = inner
        if not complete:
            return [text + t for t in texts], False
        text += texts[0]
    return [text], True
