"""Base64 forms found across the line breaks that `base64` (76 columns) and `openssl base64` (64) insert.

A secret inside a longer encoded file (`base64 .env`, `base64 kubeconfig`) sits at an arbitrary
column, so its stable core can be cut by a line break at any of its positions, once per line it
spans. Registering a literal for every cut would cost one literal per character per alignment per
width. Instead each base64 form is found from two short anchors and verified in Python:

- the *head* anchor `text[:a]` and the *second* anchor `text[a:2a]` (a = ANCHOR, or half of a
  short form) are literals in the matcher. Line breaks inside a form are at least WRAP_MIN
  characters apart and 2a <= WRAP_MIN, so at most one break falls inside `text[:2a]` and one of the
  two anchors always appears intact;
- a head hit is verified forwards (`match_head`), a second-anchor hit backwards over the one
  break it can have before it, then forwards (`match_second`). A form without any break is found
  by its head alone (a second-anchor hit with no break before it is left to the head);
- with hundreds of secrets (patterns.BREAKS_ABOVE) the Hyperscan engine has no second
  anchors: an expression finds every line break that wraps (BREAK_NEEDLE), and the anchor
  characters on both sides of it, joined, are scanned for a head anchor the break cuts (the
  stream's first break too when its line began in bytes already written: `first_break_after_run`);
- the match masks the form's characters, never the line breaks, so the log keeps its lines:
  `[MASKED]\\n[MASKED]`.

What counts as a wrap. A line break (LF or CRLF) is crossed only when the line before it ends
with at least WRAP_MIN base64 characters: the lines of wrapped base64 are full lines of 64 or 76
characters, while an ordinary log line ends in a short word. That keeps the hold-back below from
holding the last word of every line: only a block that ends inside wrapped base64 holds anything.
A break's line may have begun in bytes already written, so the stream masker carries how many
base64 characters end the written output (`run_after`, at most WRAP_MIN).

Hold-back. A match that is cut by the end of a block is PARTIAL and held from its start, as a
multi-line chain is. When a block ends after a wrap, after the first characters of a form but
before either anchor is complete, no hit exists yet: `joined_tail` rebuilds the block's end
with its wraps removed, and the stream holds from the earliest position where that is a proper
prefix of some form (the same PrefixIndex question the literals ask).

Cost, measured on the throughput benchmark's 1,000 secrets. A literal for every cut (each
position, LF or CRLF, of each of the ~8 base64 forms of a value, ~40 characters long) would add
about 640 literals per value, 640,000 to the 11,000 there are (Hyperscan compiles ~20 us per
literal). The anchors replace the full base64 literals instead (forms sharing an anchor share
its needle): 11,190 needles against 11,311 before, compiled as fast. Hyperscan's scan does not
notice them; pyahocorasick runs about 10% slower over the second anchors (its automaton leaves
the root more often), which its caseless pass, now limited to the stretches after ? and &, pays
back. Python runs only at anchor hits, that is where a secret's base64 is.

What is masked, precisely: the form itself. For a stable core that is every base64 character
whose 6 bits all come from the secret; the character on each edge that mixes the secret's first
or last bits with its neighbours' (at most one per edge, at most 4 bits of the secret) is left,
as it is for an unwrapped core. A standalone encoding is masked to its last character and padding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radar.mask.forms import PARTIAL

# Base64 characters of both alphabets, and padding.
RUN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_="
# A line break wraps base64 only after a line of at least this many base64 characters.
WRAP_MIN = 64
# Anchor length; forms shorter than 2 * MIN_ANCHOR stay plain literals (only with --min-length
# below 8: every base64 form of an 8-byte value has at least 10 characters).
ANCHOR = 12
MIN_ANCHOR = 5

_CR, _LF = 13, 10
# Where a line break may wrap base64 (a matcher expression; one match per LF, never overlapping:
# each ends at its LF and holds no other). It admits a CRLF after one base64 character too few,
# which `wraps` then turns down: the exact `[...]{64}\r?\n` scans 48 MB of log in 13 ms, this
# in 8 ms.
BREAK_NEEDLE = rb"[A-Za-z0-9+/\-_=]{%d}[A-Za-z0-9+/\-_=\r]\n" % (WRAP_MIN - 1)
_LINE_BREAK = re.compile(rb"[\r\n]")
_TEXT = re.compile(rb"[^\r\n]+")


def wraps(data: bytes, line_break: int, run_before: int) -> bool:
    """Whether the line break starting at `line_break` follows WRAP_MIN base64 characters.

    `run_before` counts the base64 characters that end the stream before `data[0]`.
    """
    run = line_break - _run_start(data, line_break, max(0, line_break - WRAP_MIN))
    return run >= WRAP_MIN or (run == line_break and run + run_before >= WRAP_MIN)


def run_after(data: bytes, end: int, run_before: int) -> int:
    """Base64 characters ending the stream at `data[end]`, at most WRAP_MIN."""
    run = end - _run_start(data, end, max(0, end - WRAP_MIN))
    return min(WRAP_MIN, run + run_before if run == end else run)


def break_start(data: bytes, end: int) -> int:
    """Start of the line break (LF or CRLF) that ends at `end`."""
    return end - 2 if end >= 2 and data[end - 2] == _CR else end - 1


def first_break_after_run(data: bytes, run_before: int) -> tuple[int, int] | None:
    """(start, end) of the block's first line break when it wraps only thanks to the base64
    characters that end the stream before `data[0]` (BREAK_NEEDLE cannot see those)."""
    if not run_before:
        return None
    found = _LINE_BREAK.search(data, 0, WRAP_MIN)
    if found is None:
        return None
    line_break = found.start()
    end = line_break + 2 if data.startswith(b"\r\n", line_break) else line_break + 1
    if data[line_break] == _CR and end == line_break + 1:
        return None  # a lone CR (or the first half of a CRLF not read yet) is no wrap
    if _run_start(data, line_break, 0) != 0 or not wraps(data, line_break, run_before):
        return None
    return line_break, end


def text_spans(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of `data[start:end]` between line breaks: what a wrapped match masks."""
    return [match.span() for match in _TEXT.finditer(data, start, end)]


@dataclass(frozen=True)
class WrappedForm:
    """One base64 form of a secret, matched with or without wraps inside it."""

    text: bytes
    # Anchor length: the head anchor is text[:half], the second text[half:2 * half].
    half: int

    @property
    def anchors(self) -> tuple[bytes, bytes]:
        return self.text[: self.half], self.text[self.half : 2 * self.half]

    def match_head(self, data: bytes, start: int, final: bool, run_before: int) -> tuple[int, int] | None:
        """(start, end) of the form matched from its head anchor at `start`; end is PARTIAL when
        `data` ends while it could still match (never when `final`); None when it does not match."""
        end = self._forward(data, start, 0, final, run_before)
        return None if end is None else (start, end)

    def match_second(self, data: bytes, anchor: int, final: bool, run_before: int) -> tuple[int, int] | None:
        """The form matched from its second anchor at `anchor`, when a wrap cuts its head anchor."""
        half, text = self.half, self.text
        line_feed = data.rfind(b"\n", max(0, anchor - half), anchor)
        if line_feed < 0:
            return None  # no wrap before the anchor: the head anchor finds this one
        cut = half - (anchor - line_feed - 1)  # characters of the form before the wrap: 1..half
        if data[line_feed + 1 : anchor] != text[cut:half]:
            return None
        line_break = line_feed - 1 if line_feed and data[line_feed - 1] == _CR else line_feed
        start = line_break - cut
        if start < 0 or data[start:line_break] != text[:cut] or not wraps(data, line_break, run_before):
            return None
        end = self._forward(data, anchor + half, 2 * half, final, run_before)
        return None if end is None else (start, end)

    def _forward(self, data: bytes, i: int, j: int, final: bool, run_before: int) -> int | None:
        """Match text[j:] at data[i:], crossing wraps; the end, PARTIAL or None."""
        text, n, size = self.text, len(self.text), len(data)
        while True:
            stop = min(size, i + n - j)
            found = _LINE_BREAK.search(data, i, stop)
            piece_end = found.start() if found else stop
            if not _agrees(text, j, data, i, piece_end):
                return None
            j += piece_end - i
            i = piece_end
            if j == n:
                return i
            if i == size:
                return None if final else PARTIAL
            if data.startswith(b"\r\n", i):
                width = 2
            elif data[i] == _LF:
                width = 1
            elif i + 1 == size and not final:
                return PARTIAL  # a CR that may be the first half of a CRLF
            else:
                return None
            if not wraps(data, i, run_before):
                return None
            i += width
            if i == size:
                return None if final else PARTIAL


def anchor_length(forms: list[bytes]) -> int:
    """One anchor length for all base64 forms of a value, so that forms sharing their first
    characters (a core and the standalone encodings that start with it) share anchors."""
    return min(ANCHOR, min(map(len, forms)) // 2)


def joined_tail(data: bytes, run_before: int, reach: int) -> tuple[bytes, list[tuple[int, int]]] | None:
    """The end of `data` with its wraps removed, when it ends inside wrapped base64.

    Returns the joined text (at most about `reach` characters: the longest form) and the
    (start, end) of each of its pieces in `data`, or None when the block does not end after a
    wrap (the literals' own hold-back covers a form that is not cut).
    """
    n = len(data)
    pieces: list[tuple[int, int]] = []
    size = 0
    if data.endswith(b"\r"):
        pieces.append((n, n))  # nothing yet after what may become a CRLF
        line_break = n - 1
    else:
        start = _run_start(data, n, max(0, n - reach))
        pieces.append((start, n))
        size = n - start
        line_break = _break_before(data, start)
        if line_break is None or size >= reach:
            return None
    wrapped = False
    while wraps(data, line_break, run_before):
        wrapped = True
        start = _run_start(data, line_break, max(0, line_break - (reach - size)))
        pieces.append((start, line_break))
        size += line_break - start
        found = _break_before(data, start)
        if found is None or size >= reach:
            break
        line_break = found
    if not wrapped:
        return None
    pieces.reverse()
    return b"".join(data[a:b] for a, b in pieces), pieces


def offset_in(pieces: list[tuple[int, int]], index: int) -> int:
    """The offset in the block of character `index` of the joined text built from `pieces`."""
    for start, end in pieces:
        if index < end - start:
            return start + index
        index -= end - start
    return pieces[-1][1]


def _agrees(text: bytes, j: int, data: bytes, start: int, end: int) -> bool:
    """text[j:] starts with data[start:end], compared in doubling steps: a hit that fails early
    (a stream repeating one anchor) costs a few bytes of copying, not the length of the form."""
    step = 32
    while start < end:
        stop = min(end, start + step)
        if not text.startswith(data[start:stop], j):
            return False
        j, start, step = j + stop - start, stop, step * 2
    return True


def _run_start(data: bytes, end: int, low: int) -> int:
    """Where the base64 characters that end `data[low:end]` start (`end` if there are none)."""
    line = data[low:end]
    return end - (len(line) - len(line.rstrip(RUN_CHARS)))


def _break_before(data: bytes, start: int) -> int | None:
    """Start of the line break that ends right before `start`, if there is one."""
    if start == 0 or data[start - 1] != _LF:
        return None
    return start - 2 if start >= 2 and data[start - 2] == _CR else start - 1
