"""The two matchers report the same hits: every occurrence of every needle, overlaps included.

Hyperscan looks for an exact literal by its first HEAD bytes and checks it whole at each hit;
pyahocorasick holds every literal whole. Literals drawn from a three-byte alphabet share heads,
are shorter, as long as, and longer than a head, and hold NUL bytes (which the Hyperscan binding
cannot take in a pure literal), so every path of the head check meets the reference.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from radar.mask.engine import Needle
from radar.mask.engine_ahocorasick import AhoCorasickMatcher
from radar.mask.engine_hyperscan import HEAD, HyperscanMatcher

alphabet = st.sampled_from([b"a", b"b", b"\0"])
literal = st.lists(alphabet, min_size=1, max_size=2 * HEAD + 3).map(b"".join)
literals = st.lists(literal, min_size=1, max_size=12, unique=True)
caseless = st.lists(st.sampled_from([b"?tok=", b"&key=", b"?a\0b="]), max_size=3, unique=True)
text = st.lists(st.one_of(alphabet, st.sampled_from([b"?TOK=", b"&Key=", b"?A\0B="])), max_size=200).map(b"".join)


def _hits(matcher, data: bytes) -> list[tuple[int, int]]:
    return sorted(matcher.scanner()(data))


@settings(max_examples=400, deadline=None)
@given(literals, caseless, text)
@example([b"aaaaaaaa", b"aaaaaaaab", b"aaaaaaaaa", b"aaa"], [], b"aaaaaaaaab")  # one head, three lengths
@example([b"a\0aaaaaaaaa", b"a\0aaaaaaaab"], [], b"a\0aaaaaaaab")  # a head with a NUL
def test_both_engines_report_every_occurrence_of_every_literal(texts, keys, data) -> None:
    needles = [Needle(t) for t in texts] + [Needle(k, caseless=True) for k in keys]
    assert _hits(HyperscanMatcher(needles), data) == _hits(AhoCorasickMatcher(needles), data)


@settings(max_examples=200, deadline=None)
@given(literals, st.integers(min_value=0, max_value=2 * HEAD + 3))
def test_a_literal_cut_by_the_end_of_the_block_is_not_reported(texts, cut) -> None:
    """A head whose literal runs past the block's end is no hit: the stream holds it back and
    scans it again with the next read, as it would a whole-literal entry."""
    needles = [Needle(t) for t in texts]
    data = b"\n" + texts[0][:cut]
    assert _hits(HyperscanMatcher(needles), data) == _hits(AhoCorasickMatcher(needles), data)
