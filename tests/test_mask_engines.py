"""The two matchers report the same hits: every occurrence of every needle, overlaps included.

Hyperscan looks for an exact literal by a short window, its head or its tail, and checks it
whole at each hit, or enters it whole when neither window looks like part of a token;
pyahocorasick holds every literal whole. Literals drawn from a four-byte alphabet share windows,
are shorter, as long as, and longer than a window, have token-like heads, tails, both or neither,
and hold NUL bytes (which the Hyperscan binding cannot take in a pure literal), so every path of
the window check meets the reference.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from radar.mask.engine import Needle
from radar.mask.engine_ahocorasick import AhoCorasickMatcher
from radar.mask.engine_hyperscan import WINDOW, HyperscanMatcher

alphabet = st.sampled_from([b"a", b"B", b" ", b"\0"])
# Runs of token characters, so that windows are token-like often enough.
literal = st.lists(st.one_of(alphabet, st.sampled_from([b"aBaB", b"BaBa"])), min_size=1, max_size=9).map(
    lambda pieces: b"".join(pieces)[: 2 * WINDOW + 3]
)
literals = st.lists(literal, min_size=1, max_size=12, unique=True)
caseless = st.lists(st.sampled_from([b"?tok=", b"&key=", b"?a\0b="]), max_size=3, unique=True)
text = st.lists(st.one_of(alphabet, st.sampled_from([b"?TOK=", b"&Key=", b"?A\0B="])), max_size=200).map(b"".join)


def _hits(matcher, data: bytes) -> list[tuple[int, int]]:
    return sorted(matcher.scanner()(data))


@settings(max_examples=400, deadline=None)
@given(literals, caseless, text)
@example([b"aBaBaBaB", b"aBaBaBaBa", b"aBaBaBaBBB", b"aBa"], [], b"aBaBaBaBaBBB")  # one head, three lengths
@example([b" aBaBaBaB", b"  aBaBaBaB", b"a a a a a"], [], b"a  aBaBaBaB a a a a a")  # tails; a whole one
@example([b"aaaaaaaaa\0a", b"a\0a"], [], b"aaaaaaaaa\0a\0a")  # whole, with a NUL
def test_both_engines_report_every_occurrence_of_every_literal(texts, keys, data) -> None:
    needles = [Needle(t) for t in texts] + [Needle(k, caseless=True) for k in keys]
    assert _hits(HyperscanMatcher(needles), data) == _hits(AhoCorasickMatcher(needles), data)


@settings(max_examples=200, deadline=None)
@given(literals, st.integers(min_value=0, max_value=2 * WINDOW + 3))
def test_a_literal_cut_by_either_end_of_the_block_is_not_reported(texts, cut) -> None:
    """A tail whose literal began before the block is no hit (it was never whole in it), nor is
    a literal the block ends inside (the stream holds it back and scans it with the next read)."""
    needles = [Needle(t) for t in texts]
    for data in (texts[0][cut:] + b"\n", b"\n" + texts[0][:cut]):
        assert _hits(HyperscanMatcher(needles), data) == _hits(AhoCorasickMatcher(needles), data)
