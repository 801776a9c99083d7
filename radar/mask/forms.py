r"""Every form in which a secret value can show up in a job log.

A value is masked raw and in the encodings that tools apply on the way to a log: base64
(standard and URL-safe, at each of the three byte alignments it can have inside a longer
encoded string), percent-encoding (both the "escape every reserved character" style and the
`encodeURIComponent` style, upper- and lower-case hex, `%20` or `+` for a space), JSON string
escaping, and hex. A one-line value is also masked the way shells and markup quote it: bash
`set -x` and `${v@Q}` (a `'` written `'\''`), backslashes for a double-quoted shell string
(`\\ \" \$ \``) and for `printf %q`, and HTML/XML entities (`&amp; &lt; &gt;`, quotes as
`&quot; &#34; &#x22;` and `&#39; &#x27; &#039; &apos;`, or left as they are). These forms exist
only for values with such characters, so most secrets cost nothing more.

Base64 inside a longer string: when the value sits at byte offset k (mod 3) of the encoded
data, the first characters of its encoding also carry bits of the bytes before it, and the last
character bits of the bytes after it. Only the "stable core" (the characters that depend on the
value alone) is the same wherever the value sits, so that is what is registered, once for each
alignment. `user:` before a password in a Basic auth header, or the newline that
`echo $S | base64` appends, then cannot break the match. The complete standalone encodings are
registered as well, so a value encoded on its own is masked to its last character, and so are the
lines of that encoding wrapped the way `base64` (76 columns) and `openssl base64` (64) wrap it, so
`base64 key.pem` is masked line by line. Cores and standalone encodings are also found where the
line breaks of wrapped base64 cut them at any column (`base64 .env`): see radar.mask.wrapped.

Multi-line values (PEM keys, JSON files) are not literals: a newline in the value matches any
run of whitespace in the log, so they become a `Chain` of segments, and every line long enough
to be a secret by itself is returned as a part to mask on its own. A JSON document (a cloud
service-account file) also gives the string values of its secret-named keys as parts, so
`jq -r .private_key` prints a key that is masked too.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

# json.dumps's own string escapers, without the json package, which `radar mask` would import for
# nothing else (~1 ms of its start); json_input is imported for a value that may be a document.
try:
    from _json import encode_basestring, encode_basestring_ascii
except ImportError:  # an interpreter without json's C accelerator
    from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[assignment]

# A whitespace run in a multi-line value that contains a line break; it matches any run of
# whitespace in the log (CRLF logs, a key printed on one line with spaces, re-indented JSON).
# Split at the break and what follows it, then the blanks before it are stripped: an expression
# that also began with those blanks (`[ \t\v\f]*[\r\n]...`) tried each blank of a long run that
# no break ends, quadratic in a value an `::add-mask::` line chooses (64 KiB: 16 s).
_BREAK_AND_AFTER = re.compile(rb"[\r\n][ \t\r\n\x0b\x0c]*")
_BLANKS = b" \t\x0b\x0c"
_PEM_ARMOUR = re.compile(rb"-----(BEGIN|END)[ A-Z0-9]*-----")
# JSON keys whose string values are secrets by name.
_SECRET_KEY = re.compile(r"private|secret|token|passw|pwd|credential|api_?key|access_?key|auth", re.IGNORECASE)
# A JSON value nested deeper than this is not searched for its parts (a service-account file is
# 2 deep); the value itself is still masked whole.
MAX_JSON_DEPTH = 64
# Line widths of wrapped base64: coreutils `base64` and `openssl base64`.
_WRAP_WIDTHS = (76, 64)
_URL_SAFE = bytes.maketrans(b"+/", b"-_")
# Characters `encodeURIComponent` leaves alone on top of Python's always-safe `_.-~`.
_URI_COMPONENT_SAFE = b"!*'()"
# What a shell or markup would escape; a value without any of these has no quoted forms.
_QUOTED = re.compile(rb"""[ !"#$&'()*,;<>?\[\\\]^`{|}~]""")
# Inside "...": backslash, double quote, dollar and backquote are backslashed.
_SHELL_DOUBLE_QUOTED = re.compile(rb'([\\"$`])')
# bash's printf %q (checked against bash 5.2) backslashes these anywhere, a # that starts the
# value, and a ~ that starts it or follows : or = (where tilde expansion would happen); a value
# with control characters it prints as $'...' instead (not covered).
_PRINTF_Q = re.compile(rb"""([ !"$&'()*,;<>?\[\\\]^`{|}])""")
_PRINTF_Q_WORD_START = re.compile(rb"^#|(?:^|(?<=[:=]))~")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
# Entities for quotes used by common escapers (Python's html, Go, Jinja, PHP, XML attributes);
# each variant also leaves them as they are (XML text).
_HTML_DOUBLE = (b'"', b"&quot;", b"&#34;", b"&#x22;")
_HTML_SINGLE = (b"'", b"&#39;", b"&#x27;", b"&#039;", b"&apos;")
# Values that every percent-encoding, or every JSON escaping, leaves as they are (most tokens):
# their forms are the value itself, found without calling the encoders (a third of the time
# building the forms of 1,000 secrets went there).
_URL_PLAIN = re.compile(rb"[A-Za-z0-9_.~-]*")
_NOT_URL_SAFE = re.compile(rb"[^A-Za-z0-9_.~-]")
_ESCAPES = (tuple(b"%%%02X" % byte for byte in range(256)), tuple(b"%%%02x" % byte for byte in range(256)))
_JSON_PLAIN = re.compile(rb'[^"\\/\x00-\x1f\x7f-\xff]*')


# A line break in a multi-line secret matches a whitespace run of at most this many bytes, so a
# partial match can never hold back an unbounded amount of output.
MAX_GAP = 1024
_GAP = re.compile(rb"[ \t\r\n]{0,%d}" % (MAX_GAP + 1))
PARTIAL = -1


@dataclass(frozen=True)
class Chain:
    """A multi-line value: its segments, each separated in the log by one whitespace run."""

    segments: tuple[bytes, ...]

    def match(self, data: bytes, start: int, final: bool) -> int | None:
        """End of the chain matched at `start`; PARTIAL when `data` ends while it still could
        match (never when `final`); None when it does not match."""
        position, n = start, len(data)
        for index, segment in enumerate(self.segments):
            if index:
                gap = _GAP.match(data, position).end() - position
                if position + gap == n:
                    return None if final or gap > MAX_GAP else PARTIAL
                if not 0 < gap <= MAX_GAP:
                    return None
                position += gap
            if not data.startswith(segment, position):
                rest = data[position:]
                return PARTIAL if not final and len(rest) < len(segment) and segment.startswith(rest) else None
            position += len(segment)
        return position


@dataclass(frozen=True)
class ValueForms:
    """What must be registered to mask one value."""

    literals: frozenset[bytes]
    chain: Chain | None
    # Pieces that are secrets on their own (masked in every form too): long-enough lines of a
    # multi-line value, and the values of secret-named keys of a JSON document.
    parts: tuple[bytes, ...]
    # The literals that are base64 stable cores or standalone encodings: these are also found
    # when line breaks of wrapped base64 cut them (radar.mask.wrapped).
    wrappable: frozenset[bytes] = frozenset()


def char_length(value: bytes) -> int:
    """Length in characters (UTF-8), or in bytes when the value is not UTF-8."""
    try:
        return len(value.decode("utf-8"))
    except UnicodeDecodeError:
        return len(value)


def line_segments(value: bytes) -> tuple[bytes, ...]:
    """`value` cut at each whitespace run that holds a line break (the run left out)."""
    parts = _BREAK_AND_AFTER.split(value)
    return (*(part.rstrip(_BLANKS) for part in parts[:-1]), parts[-1])


def is_multiline(value: bytes) -> bool:
    return b"\n" in value or b"\r" in value


def forms_of(value: bytes, min_length: int) -> ValueForms:
    """All forms of one (already trimmed, non-empty) value, none shorter than `min_length`."""
    json_parts = tuple(_json_secret_values(value, min_length))
    if not is_multiline(value):
        wrappable, lines = _base64(value)
        literals = _keep_long(_encodings(value) | wrappable | lines | quoted_forms(value) | {value}, min_length)
        return ValueForms(literals, None, json_parts, literals.intersection(wrappable))
    literals: set[bytes] = set()
    wrappable = set()
    normalised = value.replace(b"\r\n", b"\n")
    for variant in {value, normalised}:
        variant_wrappable, lines = _base64(variant)
        literals |= _encodings(variant) | variant_wrappable | lines
        wrappable |= variant_wrappable
    segments = line_segments(value)
    lines = tuple(line for line in segments if _is_secret_line(line, min_length))
    kept = _keep_long(literals, min_length)
    return ValueForms(kept, Chain(segments), lines + json_parts, kept.intersection(wrappable))


def _encodings(value: bytes) -> set[bytes]:
    """JSON, percent and hex forms."""
    forms = _json_forms(value)
    forms |= _percent_forms(value)
    forms |= {value.hex().encode(), value.hex().upper().encode()}
    return forms


def base64_forms(value: bytes) -> set[bytes]:
    """Stable cores at the three alignments, standalone encodings and the lines of their wrapped
    output, standard and URL-safe."""
    wrappable, lines = _base64(value)
    return wrappable | lines


def _base64(value: bytes) -> tuple[set[bytes], set[bytes]]:
    """(stable cores and standalone encodings, lines of the standalone encodings wrapped the way
    `base64` and `openssl base64` wrap them), standard and URL-safe. The URL-safe alphabet only
    swaps + and / for - and _, so it is the standard encoding translated."""
    encoded, with_newline = _b64(value), _b64(value + b"\n")
    # The core at offset 0 is the head of the value's own encoding.
    standard = [encoded[: len(value) * 8 // 6], _stable_core(value, 1), _stable_core(value, 2),
                encoded, encoded.rstrip(b"="), with_newline, with_newline.rstrip(b"=")]
    lines: set[bytes] = set()
    for encoded in standard[3::2]:
        for width in _WRAP_WIDTHS:
            if len(encoded) > width:
                lines.update(encoded[i : i + width] for i in range(0, len(encoded), width))
    wrappable = set(standard)
    wrappable.update(form.translate(_URL_SAFE) for form in standard)
    lines.update([line.translate(_URL_SAFE) for line in lines])
    wrappable.discard(b"")
    return wrappable, lines


def _b64(data: bytes) -> bytes:
    """base64.b64encode without its wrapper (four calls a secret)."""
    return binascii.b2a_base64(data, newline=False)


def _stable_core(value: bytes, offset: int) -> bytes:
    """The base64 characters that depend only on `value` when it starts `offset` bytes into a block."""
    encoded = _b64(b"\0" * offset + value)
    # Characters 0..(4*offset/3) mix in the preceding bytes: skip 0, 2 or 3 of them.
    skip = (0, 2, 3)[offset]
    # Each character holds 6 bits; those past the value's last full 6-bit group mix in what follows.
    full = (len(value) + offset) * 8 // 6
    return encoded[skip:full]


def quoted_forms(value: bytes) -> set[bytes]:
    """How shells (`set -x`, a double-quoted string, `printf %q`) and HTML/XML write a one-line
    value; empty for a value with none of the characters they escape."""
    if _QUOTED.search(value) is None:
        return set()
    forms = {
        value.replace(b"'", b"'\\''"),
        _SHELL_DOUBLE_QUOTED.sub(rb"\\\1", value),
    }
    if _CONTROL.search(value) is None:
        forms.add(_PRINTF_Q_WORD_START.sub(rb"\\\g<0>", _PRINTF_Q.sub(rb"\\\1", value)))
    markup = value.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
    doubles = _HTML_DOUBLE if b'"' in value else _HTML_DOUBLE[:1]
    singles = _HTML_SINGLE if b"'" in value else _HTML_SINGLE[:1]
    forms.update(markup.replace(b'"', double).replace(b"'", single) for double in doubles for single in singles)
    forms.discard(value)
    return forms


def _json_forms(value: bytes) -> set[bytes]:
    if _JSON_PLAIN.fullmatch(value):
        return {value}
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return set()
    forms = set()
    for encode in (encode_basestring_ascii, encode_basestring):  # json.dumps with and without ensure_ascii
        escaped = encode(text)[1:-1].encode("utf-8")
        forms.add(escaped)
        # PHP and some Java encoders also escape the solidus.
        forms.add(escaped.replace(b"/", b"\\/"))
    return forms


def _percent_forms(value: bytes) -> set[bytes]:
    """What `quote` and `quote_plus` give, with safe="" and with encodeURIComponent's `!*'()`, in
    upper- and lower-case hex: one substitution per case, the rest by replacing whole escapes
    (`quote` calls Python once per byte: 220 of the 1,000 benchmark secrets took 2.9 ms)."""
    if _URL_PLAIN.fullmatch(value):
        return {value}
    forms = set()
    for escapes in _ESCAPES:
        full = _NOT_URL_SAFE.sub(lambda m: escapes[m.group()[0]], value)  # quote(value, safe="")
        component = full
        for character in _URI_COMPONENT_SAFE:
            if character in value:
                component = component.replace(escapes[character], bytes((character,)))
        # An escape always has two hex digits after its `%` (a `%` itself is `%25`), so `%20` is a space.
        forms.update((full, component, full.replace(b"%20", b"+"), component.replace(b"%20", b"+")))
    return forms


def _json_secret_values(value: bytes, min_length: int) -> list[bytes]:
    """String values under secret-named keys of a JSON object (not every string: `"type":
    "service_account"` must not mask the words `service_account` all over the log)."""
    if not value.startswith((b"{", b"[")):
        return []
    from radar import json_input

    try:
        document = json_input.loads(value)  # nested too deeply to parse: a ValueError too
    except ValueError:
        return []
    if json_input.nested_deeper_than(document, MAX_JSON_DEPTH):
        return []
    found: list[bytes] = []
    pending: list[tuple[object, bool]] = [(document, False)]  # a stack: document order, no recursion
    while pending:
        node, secret_named = pending.pop()
        if isinstance(node, dict):
            named = [(child, secret_named or bool(_SECRET_KEY.search(str(key)))) for key, child in node.items()]
            pending.extend(reversed(named))
        elif isinstance(node, list):
            pending.extend((child, secret_named) for child in reversed(node))
        elif isinstance(node, str) and secret_named and len(node.strip()) >= min_length:
            found.append(node.strip().encode("utf-8"))
    return found


def _is_secret_line(line: bytes, min_length: int) -> bool:
    """A line of a multi-line value that is worth masking where it appears alone."""
    if char_length(line) < min_length:
        return False
    if not any(chr(c).isalnum() for c in line if c < 128) and line.isascii():
        return False  # brackets and punctuation: `{`, `},`, `]`
    return _PEM_ARMOUR.fullmatch(line) is None


def _keep_long(forms: set[bytes], min_length: int) -> frozenset[bytes]:
    # An ASCII form has as many characters as bytes: most forms are, and skip decoding.
    return frozenset(f for f in forms if len(f) >= min_length and (f.isascii() or char_length(f) >= min_length))
