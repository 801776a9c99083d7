"""Registering values while streams run (`--allow-add-mask`): amortised, with the same masking.

The oracle is the registration radar had before it was amortised: one table over every value,
compiled again at each registration. The amortised SecretSet must give the same bytes for any
interleaving of registrations, data, reads and the two streams of a command.
"""

from __future__ import annotations

import base64
import math
import os
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import radar.mask.patterns as patterns
from mask_helpers import split_at
from radar.mask.engine import ENGINES
from radar.mask.model import MaskOptions, Secret
from radar.mask.patterns import SecretSet
from radar.mask.stream import StreamMasker


class OneTableRebuiltAtEachRegistration(SecretSet):
    """Every value compiled again into one table whenever a value was registered."""

    def _settle(self) -> None:
        self._pending = []
        self._segments = [self._segment(tuple(self._values), with_detectors=True)]
        self._tables = (self._segments[0].table,)


def run_streams(secret_set: SecretSet, reads: list[tuple[int, bytes]]) -> tuple[bytes, bytes]:
    """Two streams of one command (stdout, stderr) over one set, fed reads in the given order."""
    maskers = [StreamMasker(secret_set, allow_add_mask=True) for _ in range(2)]
    out = [b"", b""]
    for stream, read in reads:
        out[stream] += maskers[stream].feed(read)
    for stream in (0, 1):
        out[stream] += maskers[stream].finish()
    return out[0], out[1]


class CompileCounter:
    """Counts the needles handed to the real matcher compiler."""

    def __init__(self) -> None:
        self.needles = 0
        self.compiles = 0
        self._real = patterns.compile_matcher

    def __call__(self, needles, engine=None, meanwhile=lambda: None):
        needles = list(needles)
        self.needles += len(needles)
        self.compiles += 1
        return self._real(needles, engine, meanwhile)


def register_one_line_at_a_time(values: list[bytes], engine: str, after_each=lambda secret_set: None) -> bytes:
    """Every registration followed by output that must see it: the worst case for batching."""
    secret_set = SecretSet([], MaskOptions(engine=engine))
    masker = StreamMasker(secret_set, allow_add_mask=True)
    out = b""
    for value in values:
        out += masker.feed(b"::add-mask::" + value + b"\n") + masker.feed(b"using " + value + b"\n")
        after_each(secret_set)
    return out + masker.finish()


@pytest.mark.parametrize("engine", ENGINES)
def test_registering_values_one_line_at_a_time_costs_n_log_n_compiled_needles(engine) -> None:
    count = 600
    values = [os.urandom(9).hex().encode() for _ in range(count)]
    counter, once = CompileCounter(), CompileCounter()
    with mock.patch.object(patterns, "compile_matcher", counter):
        out = register_one_line_at_a_time(values, engine)
    with mock.patch.object(patterns, "compile_matcher", once):
        SecretSet([Secret(v, "test") for v in values], MaskOptions(engine=engine))
    assert out == b"using [MASKED]\n" * count
    # Compiling every value again at each line compiles about once.needles * count / 2 needles.
    assert counter.needles <= once.needles * (math.log2(count) + 1), (counter.needles, once.needles)


def test_registered_values_are_scanned_through_few_tables() -> None:
    count = 600
    tables: list[int] = []
    register_one_line_at_a_time(
        [os.urandom(9).hex().encode() for _ in range(count)], "ahocorasick",
        lambda secret_set: tables.append(len(secret_set.tables)),
    )
    assert max(tables) <= math.log2(count) + 2


def test_a_burst_of_registrations_in_one_read_is_compiled_once() -> None:
    values = [os.urandom(9).hex().encode() for _ in range(200)]
    counter = CompileCounter()
    with mock.patch.object(patterns, "compile_matcher", counter):
        secret_set = SecretSet([], MaskOptions())
        masker = StreamMasker(secret_set, allow_add_mask=True)
        out = masker.feed(b"".join(b"::add-mask::" + v + b"\n" for v in values) + b"then " + values[-1] + b"\n")
        out += masker.finish()
    assert out == b"then [MASKED]\n"
    assert counter.compiles == 2  # the set's first table, then the burst


def test_after_enough_output_the_tables_are_merged_into_one() -> None:
    values = [os.urandom(9).hex().encode() for _ in range(5)]
    secret_set = SecretSet([Secret(b"initial-secret-1", "test")], MaskOptions(engine="hyperscan"))
    masker = StreamMasker(secret_set, allow_add_mask=True)
    out = masker.feed(b"".join(b"::add-mask::" + v + b"\nx\n" for v in values))
    assert len(secret_set.tables) > 1
    block = (b"a log line with " + values[0] + b" and initial-secret-1 in it\n") * 1000
    blocks = 0
    while len(secret_set.tables) > 1:
        out += masker.feed(block)
        blocks += 1
        assert blocks < 1000, "the tables were never merged"
    out += masker.feed(block) + masker.finish()
    assert out == b"x\n" * 5 + b"a log line with [MASKED] and [MASKED] in it\n" * 1000 * (blocks + 1)


# --- the same bytes as one table rebuilt at each registration ------------------------------------

value_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_+/=", min_size=8, max_size=20)
FORMS = [lambda v: v, base64.b64encode, lambda v: v.hex().encode(), lambda v: b"x:" + v + b"\n"]


@st.composite
def registration_script(draw):
    """Reads of two streams: registration lines, data showing registered (and later) values."""
    values = draw(st.lists(value_text.map(str.encode), min_size=1, max_size=8, unique=True))
    reads: list[tuple[int, bytes]] = []
    for _ in range(draw(st.integers(1, 14))):
        stream = draw(st.integers(0, 1))
        value = draw(st.sampled_from(values))
        kind = draw(st.sampled_from(["register", "show", "noise"]))
        if kind == "register":
            piece = b"::add-mask::" + value + draw(st.sampled_from([b"\n", b"\r\n", b" \n"]))
        elif kind == "show":
            piece = draw(st.sampled_from(FORMS))(value) + draw(st.sampled_from([b"", b"\n", b" "]))
        else:
            piece = draw(st.binary(max_size=20))
        cuts = draw(st.lists(st.integers(1, len(piece) + 1), max_size=3))
        reads += [(stream, part) for part in split_at(piece, cuts)]
    initial = draw(st.lists(st.sampled_from(values), max_size=2))
    return initial, reads


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    script=registration_script(),
    engine=st.sampled_from(ENGINES),
    merge_after=st.sampled_from([None, 0, 64]),
)
def test_amortised_registration_masks_exactly_like_one_table_rebuilt_each_time(script, engine, merge_after) -> None:
    initial, reads = script
    secrets = [Secret(v, "test") for v in initial]
    options = MaskOptions(engine=engine)
    expected = run_streams(OneTableRebuiltAtEachRegistration(secrets, options), reads)
    # merge_after: how soon the tables are merged into one (None: as in use; 0: at every read).
    thresholds = patterns._CONSOLIDATE_AFTER if merge_after is None else dict.fromkeys(ENGINES, merge_after)
    with mock.patch.dict(patterns._CONSOLIDATE_AFTER, thresholds):
        assert run_streams(SecretSet(secrets, options), reads) == expected
