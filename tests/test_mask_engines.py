"""The two matchers report the same hits: every occurrence of every needle, overlaps included.

Hyperscan looks for an exact literal by a short window, its head or its tail, and checks it
whole at each hit, or enters it whole when neither window looks like part of a token;
pyahocorasick holds every literal whole. Literals drawn from a four-byte alphabet share windows,
are shorter, as long as, and longer than a window, have token-like heads, tails, both or neither,
and hold NUL bytes (which the Hyperscan binding cannot take in a pure literal), so every path of
the window check meets the reference; with the literals in one database and, as done for
thousands of them, split over several databases (forced here for a few), scanned by one thread
or shared with a helper thread.
"""

from __future__ import annotations

from unittest.mock import patch

import hyperscan
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from radar.mask import engine_hyperscan
from radar.mask.engine import Needle, compile_matcher
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
@given(literals, caseless, text, st.booleans())
@example([b"aBaBaBaB", b"aBaBaBaBa", b"aBaBaBaBBB", b"aBa"], [], b"aBaBaBaBaBBB", False)  # one head, three lengths
@example([b" aBaBaBaB", b"  aBaBaBaB", b"a a a a a"], [], b"a  aBaBaBaB a a a a a", True)  # tails; a whole one
@example([b"aaaaaaaaa\0a", b"a\0a"], [], b"aaaaaaaaa\0a\0a", True)  # whole, with a NUL
@example([b"a a a a a   ", b"aBaBaBaB"], [b"?tok="], b"a a a a a    aBaBaBaB?TOK=", False)  # ends in a run
def test_both_engines_report_every_occurrence_of_every_literal(texts, keys, data, split) -> None:
    needles = [Needle(t) for t in texts] + [Needle(k, caseless=True) for k in keys]
    with patch.object(engine_hyperscan, "SPLIT_ABOVE", 1 if split else engine_hyperscan.SPLIT_ABOVE):
        hyperscan = HyperscanMatcher(needles)
    assert _hits(hyperscan, data) == _hits(AhoCorasickMatcher(needles), data)


@settings(max_examples=200, deadline=None)
@given(literals, st.integers(min_value=0, max_value=2 * WINDOW + 3))
def test_a_literal_cut_by_either_end_of_the_block_is_not_reported(texts, cut) -> None:
    """A tail whose literal began before the block is no hit (it was never whole in it), nor is
    a literal the block ends inside (the stream holds it back and scans it with the next read)."""
    needles = [Needle(t) for t in texts]
    for data in (texts[0][cut:] + b"\n", b"\n" + texts[0][:cut]):
        assert _hits(HyperscanMatcher(needles), data) == _hits(AhoCorasickMatcher(needles), data)


def test_thousands_of_literals_compile_as_two_databases_that_find_them_all() -> None:
    texts = [b"%05d-secret" % i for i in range(engine_hyperscan.SPLIT_ABOVE + 1)]
    with patch.object(engine_hyperscan, "LAUNCH_AT", len(texts) + 1):  # none compiled while they come
        matcher = HyperscanMatcher([Needle(t) for t in texts])
    assert len(matcher._literals) == 2
    data = b" ".join(texts)
    ends = [data.index(t) + len(t) for t in texts]
    assert _hits(matcher, data) == list(enumerate(ends))


def test_windows_launched_while_needles_come_make_at_most_one_database_more_than_launches() -> None:
    texts = [b"%05d-secret" % i for i in range(10 * engine_hyperscan.LAUNCHES)]
    with patch.object(engine_hyperscan, "LAUNCH_AT", 3):
        matcher = HyperscanMatcher(iter([Needle(t) for t in texts]))
    assert len(matcher._literals) == engine_hyperscan.LAUNCHES + 1
    data = b" ".join(texts)
    ends = [data.index(t) + len(t) for t in texts]
    assert _hits(matcher, data) == list(enumerate(ends))


@settings(max_examples=300, deadline=None)
@given(literals, caseless, text, st.integers(min_value=1, max_value=4), st.booleans())
@example([b"aBaBaBaB", b"BaBaBaBa", b"a a a a a"], [b"?tok="], b"aBaBaBaBaBaBaB?TOK=a a a a a", 1, True)
def test_passes_shared_with_the_helper_thread_report_what_one_thread_reports(texts, keys, data, launch_at,
                                                                             url) -> None:
    """A large block's passes are split between the caller and a helper thread: the same hits,
    in the same order, as one thread scanning them all; with gated expressions too."""
    needles = [Needle(t) for t in texts] + [Needle(k, caseless=True) for k in keys]
    if url:
        needles.append(Needle(rb"://[^@/\s]*@", regex=True, gate=b"@"))
        data += b" https://user:pw@host"
    with patch.object(engine_hyperscan, "LAUNCH_AT", launch_at), patch.object(engine_hyperscan, "SPLIT_ABOVE", 1):
        matcher = HyperscanMatcher(iter(needles))
    with patch.object(engine_hyperscan, "PARALLEL_FROM", 1 << 60):
        alone = matcher.scanner()(data)
    with patch.object(engine_hyperscan, "PARALLEL_FROM", 0), patch.object(engine_hyperscan, "HELPED_FROM_PASSES", 2), \
            patch.object(engine_hyperscan, "_helpers", []):
        shared = matcher.scanner()(data)
        if data and len(matcher._literals) > 1:  # the helper took a share (this machine has two CPUs)
            assert engine_hyperscan._helpers[0] is not None
    assert shared == alone
    assert sorted(shared) == _hits(AhoCorasickMatcher(needles), data)


def _three_databases() -> tuple[list[bytes], HyperscanMatcher]:
    """Six literals, two to a database: the caller's thread scans the first, the helper the others."""
    texts = [b"%05d-secret" % i for i in range(6)]
    with patch.object(engine_hyperscan, "LAUNCH_AT", 2):
        matcher = HyperscanMatcher(iter([Needle(t) for t in texts]))
    assert len(matcher._literals) == 3
    return texts, matcher


def _lost_window_table(*_args: object) -> None:
    raise RuntimeError("lost the window table")


def test_an_error_while_the_helper_thread_scans_reaches_the_caller() -> None:
    texts, matcher = _three_databases()
    scan = matcher.scanner()
    with patch.object(engine_hyperscan, "PARALLEL_FROM", 0), patch.object(engine_hyperscan, "HELPED_FROM_PASSES", 2), \
            patch.object(engine_hyperscan, "_candidates", _lost_window_table):
        with pytest.raises(hyperscan.ScanTerminated):  # what the binding makes of a failing callback
            scan(b" ".join(texts[2:]))  # only the helper's passes (the 2nd and 3rd databases) have hits


def test_on_one_cpu_every_pass_stays_on_the_caller_s_thread() -> None:
    with patch.object(engine_hyperscan, "_helpers", []), patch("os.sched_getaffinity", return_value={0}):
        assert engine_hyperscan._helper() is None


def test_a_whole_literal_ending_in_a_run_of_one_byte_gets_a_database_of_its_own() -> None:
    """Such a literal (a PEM armour line) among windows made Hyperscan compile four times slower."""
    armour, token = b"-----BEGIN PRIVATE KEY-----", b"k3Y-body-0123"
    matcher = HyperscanMatcher([Needle(armour), Needle(token)])
    assert len(matcher._literals) == 2
    data = armour + b"\n" + token
    assert _hits(matcher, data) == [(0, len(armour)), (1, len(data))]


@settings(max_examples=300, deadline=None)
@given(literals, caseless, text, st.integers(min_value=1, max_value=6))
@example([b"aBaBaBaB", b"a\0aBaBaB", b"BaBaBaBa"], [b"?tok="], b"a\0aBaBaBaBaBaBaB?TOK=", 1)  # a NUL window on a thread
def test_windows_compiling_on_threads_while_needles_still_come_find_the_same(texts, keys, data, launch_at) -> None:
    """Thousands of windows (forced here for a few) compile on threads, the first ones before the
    needles end: the same hits, and what the caller does meanwhile runs once."""
    needles = [Needle(t) for t in texts] + [Needle(k, caseless=True) for k in keys]
    meanwhile: list[int] = []
    with patch.object(engine_hyperscan, "LAUNCH_AT", launch_at):
        hyperscan = HyperscanMatcher(iter(needles), lambda: meanwhile.append(len(meanwhile)))
    assert meanwhile == [0]
    assert _hits(hyperscan, data) == _hits(AhoCorasickMatcher(needles), data)


def test_when_hyperscan_fails_midway_the_fallback_gets_every_needle_and_meanwhile_runs_once() -> None:
    needles = [Needle(b"aBaBaBaB%d" % i) for i in range(5)]
    meanwhile: list[int] = []

    def failing(source, then):
        next(source), next(source)  # it had read some needles
        raise RuntimeError("no SSSE3")

    with patch.object(engine_hyperscan, "HyperscanMatcher", failing):
        matcher = compile_matcher(iter(needles), None, lambda: meanwhile.append(1))
    assert (matcher.name, meanwhile) == ("ahocorasick", [1])
    data = b" ".join(n.text for n in needles)
    assert _hits(matcher, data) == _hits(AhoCorasickMatcher(needles), data)


def test_an_error_in_meanwhile_is_its_own_not_a_reason_to_fall_back() -> None:
    def meanwhile() -> None:
        raise ValueError("the caller's bug")

    with pytest.raises(ValueError, match="the caller's bug"):
        compile_matcher([Needle(b"aBaBaBaB")], None, meanwhile)


def test_a_thousand_secrets_in_three_databases_and_two_threads_mask_as_the_reference_does() -> None:
    """The whole path at the size it is built for: 1,000 secrets (windows compiled in three parts
    while the forms come, wrapping line breaks looked for) and a block large enough for the
    helper thread; the output equals pyahocorasick's, and no planted value survives."""
    import base64
    import random

    from mask_helpers import mask_reads, secret_set

    rng = random.Random(7)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/!@#-_"
    values = [bytes(rng.choice(alphabet) for _ in range(rng.randint(16, 48))) for _ in range(1000)]
    planted = values[::97]
    forms = [lambda v: v, base64.b64encode, lambda v: v.hex().encode(), lambda v: v.hex().upper().encode(),
             lambda v: base64.encodebytes(v * 3).replace(b"\n", b"\r\n")]  # wrapped over lines
    lines, leaked = [], []
    for i in range(6000):
        lines.append(b"step %d: compiled module_%d.o in %d ms, see https://ci.example/jobs/%d@main" % (i, i, i % 97, i))
        if i % 500 == 0:
            leaked.append(forms[(i // 500) % len(forms)](planted[(i // 500) % len(planted)]))
            lines.append(b"leak: " + leaked[-1] + b" end")
    data = b"\n".join(lines) + b"\n"
    assert len(data) > engine_hyperscan.PARALLEL_FROM
    with patch.object(engine_hyperscan, "_helpers", []):
        fast = secret_set(values, "hyperscan")
        assert len(fast.tables[0].matcher._literals) == engine_hyperscan.LAUNCHES + 1
        out = mask_reads(fast, [data])
        assert engine_hyperscan._helpers and engine_hyperscan._helpers[0] is not None
    assert out == mask_reads(secret_set(values, "ahocorasick"), [data])
    assert out.count(b"[MASKED]") >= len(leaked)
    assert not any(form in out for form in leaked)


def test_an_error_in_the_caller_s_share_is_raised_only_once_the_helper_is_done() -> None:
    """Scratch space serves one scan at a time: a caller that catches the error and scans again
    must not meet the helper still scanning the block before."""
    import threading
    import time

    texts, matcher = _three_databases()
    scan = matcher.scanner()
    helper_done = threading.Event()
    start = engine_hyperscan.DaemonThreads.start

    def slow_start(self, call):
        def slowly():
            time.sleep(0.2)  # the caller's share fails long before this share ends
            try:
                return call()
            finally:
                helper_done.set()
        return start(self, slowly)

    with patch.object(engine_hyperscan, "PARALLEL_FROM", 0), patch.object(engine_hyperscan, "HELPED_FROM_PASSES", 2), \
            patch.object(engine_hyperscan.DaemonThreads, "start", slow_start), \
            patch.object(engine_hyperscan, "_candidates", _lost_window_table):
        with pytest.raises(hyperscan.ScanTerminated):
            scan(b" ".join(texts[:2]))  # hits only in the caller's share, the first database
        assert helper_done.is_set()
    assert sorted(scan(b" ".join(texts))) == _hits(AhoCorasickMatcher([Needle(t) for t in texts]), b" ".join(texts))
