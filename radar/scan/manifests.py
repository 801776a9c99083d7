"""Values that a document's structure, not their own shape, marks as secrets.

A rule with `structure` in its entry matches a marker (a Kubernetes manifest's `kind: Secret`
line); the function named here then reads the values out of the document around the marker. Such
values have no format of their own (any base64 under a Secret's `data:` is a secret because the
manifest says so), so no expression could find them alone.

The reader is line-based on purpose: manifests in repositories are often not valid YAML (tabs for
indentation, templates such as `{{ .Values.x }}`), and a YAML parser would refuse the whole file
where a person still sees the values; it also costs one pass over the document, with no object
built per node, whatever the input.

`kubernetes_secret_values` reads a YAML document holding a top-level `kind: Secret`: each entry of
its top-level `data:` (base64, decoded to check it holds something) and `stringData:` (plain) maps,
inline or as a `|` / `>` block. Entries named like a user or a host (`username`, `host`) are not
credentials on their own and are left out, as are empty values, templates and placeholders.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Callable

import regex

from radar.scan import compiled, filters, generic


@dataclass(frozen=True)
class Value:
    """A secret's place in the text (`end` exclusive), the value as written (joined across the
    lines of a block) and the key that holds it."""

    start: int
    end: int
    value: str
    key: str


MAX_DOCUMENT = 1 << 20  # characters of one YAML document read around a marker; beyond, it is cut
MAX_VALUE = 1 << 16  # characters of one value (a block scalar's lines joined); longer ones are skipped
MAX_WORD = 256  # a decoded value longer than this, or with blanks or brackets, is a file, not a word
MIN_DECODED = 6  # bytes a `data:` value must decode to: `admin`, `bar\n` are user names and samples

_DOCUMENT_SEPARATOR = compiled.pattern(r"(?m)^---")
_KIND_SECRET = compiled.pattern(r"""(?i)["']?kind["']?[ \t]*:[ \t]*(["']?)secret\1[ \t]*(?:#.*)?""")
_MAP_KEY = compiled.pattern(r"""(["']?)(data|stringData)\1[ \t]*:[ \t]*(?:#.*)?""")
_ENTRY = compiled.pattern(r"""(?P<q>["']?)(?P<key>[^\s:"'#][^:"'#]{0,252}?)(?P=q)[ \t]*:(?:[ \t]+(?P<value>.*?))?[ \t]*""")
_BLOCK = compiled.pattern(r"[|>][+-]?[1-9]?[+-]?(?:[ \t]+#.*)?")
_BASE64 = compiled.pattern(r"[A-Za-z0-9+/]+={0,2}")
_TEMPLATE = compiled.pattern(r"\{\{|\}\}|\$\{|<%")


def _document(text: str, marker: int) -> tuple[int, int]:
    """The bounds of the YAML document holding offset `marker` (between `---` lines)."""
    start = 0
    for m in _DOCUMENT_SEPARATOR.finditer(text, max(0, marker - MAX_DOCUMENT), marker):
        start = m.start()
    found = _DOCUMENT_SEPARATOR.search(text, marker, min(len(text), marker + MAX_DOCUMENT))
    end = found.start() if found else min(len(text), marker + MAX_DOCUMENT)
    return start, end


def _lines(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """(line start, line end, indentation) of the document's lines; blank and comment lines get -1."""
    lines = []
    pos = start
    while pos < end:
        stop = text.find("\n", pos, end)
        stop = end if stop < 0 else stop
        content_end = stop - 1 if stop > pos and text[stop - 1] == "\r" else stop
        indent = pos
        while indent < content_end and text[indent] in " \t":
            indent += 1
        blank = indent == content_end or text[indent] == "#"
        lines.append((pos, content_end, -1 if blank else indent - pos))
        pos = stop + 1
    return lines


def kubernetes_secret_values(text: str, marker: int) -> tuple[tuple[int, int], list[Value]]:
    """The document around the `kind: Secret` at `marker`, and the values of its Secret's maps
    (none if the marker is not at the document's top level)."""
    doc_start, doc_end = _document(text, marker)
    lines = _lines(text, doc_start, doc_end)
    indents = [indent for _, _, indent in lines if indent >= 0]
    if not indents:
        return (doc_start, doc_end), []
    top = min(indents)
    if not any(indent == top and _KIND_SECRET.fullmatch(text, s + indent, e) for s, e, indent in lines):
        return (doc_start, doc_end), []
    values: list[Value] = []
    i = 0
    while i < len(lines):
        s, e, indent = lines[i]
        i += 1
        if indent != top:
            continue
        header = _MAP_KEY.fullmatch(text, s + indent, e)
        if header is None:
            continue
        encoded = header.group(2) == "data"
        # The map's entries: the lines indented more than its key, up to the next top-level key.
        child = -1
        while i < len(lines) and (lines[i][2] < 0 or lines[i][2] > top):
            s, e, indent = lines[i]
            i += 1
            if indent < 0:
                continue
            if child < 0:
                child = indent
            if indent != child:
                continue
            entry = _ENTRY.fullmatch(text, s + indent, e)
            if entry is None:
                continue
            found, i = _entry_value(text, lines, i, entry, child)
            if found is not None and _is_secret(found, encoded):
                values.append(found)
    return (doc_start, doc_end), values


def _entry_value(text: str, lines: list[tuple[int, int, int]], i: int, entry: regex.Match[str],
                 child: int) -> tuple[Value | None, int]:
    """An entry's value (inline or the block after it) and the index of the line after it."""
    key = entry.group("key")
    inline = entry.group("value")
    if inline and not _BLOCK.fullmatch(inline):
        start, end = entry.span("value")
        if inline[0] in "\"'" and len(inline) >= 2 and inline[-1] == inline[0]:
            start, end = start + 1, end - 1
        return Value(start, end, text[start:end], key), i
    if inline is None or not _BLOCK.fullmatch(inline):
        return None, i
    parts: list[str] = []
    first = last = -1
    size = 0
    while i < len(lines) and (lines[i][2] < 0 or lines[i][2] > child):
        s, e, indent = lines[i]
        i += 1
        if indent < 0:
            continue
        size += e - s - indent
        if size <= MAX_VALUE:
            parts.append(text[s + indent:e])
        if first < 0:
            first = s + indent
        last = e
    if first < 0 or size > MAX_VALUE:
        return None, i
    return Value(first, last, "".join(parts), key), i


def _is_secret(found: Value, encoded: bool) -> bool:
    value = found.value
    if not value or _TEMPLATE.search(value) or not generic.key_may_hold_credential(found.key):
        return False
    if encoded:
        if not _BASE64.fullmatch(value) or len(value) % 4:
            return False
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return False
        if len(decoded) < MIN_DECODED:
            return False
        try:
            text = decoded.decode("utf-8").strip()
        except UnicodeDecodeError:
            return True  # binary: a key or a keystore
        # A single word is judged as a value; a file (a `.dockercfg`, a PEM, a properties file) is
        # not: the placeholder words could be anywhere in it (a registry at example.com).
        return not (len(text) <= MAX_WORD and not any(c.isspace() or c in "{}[]" for c in text)
                    and filters.is_placeholder(text))
    return len(value) >= MIN_DECODED and not filters.is_placeholder(value)


# What a rule's `structure` names.
STRUCTURES: dict[str, Callable[[str, int], tuple[tuple[int, int], list[Value]]]] = {
    "kubernetes-secret": kubernetes_secret_values,
}
