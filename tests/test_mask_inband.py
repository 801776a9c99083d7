"""The in-band parser (`::add-mask::` lines) and its bounds against hostile output."""

from __future__ import annotations

import re
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

import radar.mask.inband as inband
import radar.mask.patterns as patterns
from mask_helpers import mask_reads, secret_set, split_at
from radar.mask.inband import COMMAND, AddMaskFilter
from radar.mask.model import MaskOptions, Refusal, Secret
from radar.mask.stream import SecretSet, StreamMasker

SMALL_LINE = 24  # MAX_LINE for the property, so that long lines are drawn often


def reference_parse(stream: bytes, max_line: int) -> list[object]:
    """What the filter must produce, line by line: data, ("secret", value) or ("refused",)."""
    out: list[object] = []
    for line in re.findall(rb"[^\n]*\n|[^\n]+$", stream):  # lines end at LF only
        if line.startswith(COMMAND):
            body = line[len(COMMAND) :].removesuffix(b"\n")
            out.append(("refused",) if len(body) > max_line else ("secret", body.strip()))
        else:
            out.append(line)
    return coalesce(out)


def coalesce(pieces: list[object]) -> list[object]:
    """Adjacent data pieces joined; secrets and refusals as plain tuples."""
    out: list[object] = []
    for piece in pieces:
        if isinstance(piece, Secret):
            piece = ("secret", piece.value)
        elif isinstance(piece, Refusal):
            piece = ("refused",)
        if isinstance(piece, bytes):
            if not piece:
                continue
            if out and isinstance(out[-1], bytes):
                out[-1] += piece
                continue
        out.append(piece)
    return out


lines = st.lists(
    st.one_of(
        st.builds(lambda body, end: COMMAND + body + end, st.binary(max_size=40),
                  st.sampled_from([b"\n", b"\r\n", b""])),
        st.sampled_from([b":", b"::add", b"::add-mask:", COMMAND, b"x::add-mask::v\n", b"\n", b" ::add-mask::v\n"]),
        st.binary(max_size=30),
    ),
    max_size=10,
)


@settings(max_examples=500, deadline=None)
@given(lines, st.lists(st.integers(1, 400), max_size=20))
def test_the_filter_parses_like_a_line_by_line_reference_for_any_reads(pieces, cuts) -> None:
    stream = b"".join(pieces)
    with mock.patch.object(inband, "MAX_LINE", SMALL_LINE):
        parser = AddMaskFilter()
        out: list[object] = []
        for read in split_at(stream, cuts):
            out += parser.feed(read)
            assert parser.held <= len(COMMAND) + SMALL_LINE
        out += parser.finish()
    assert coalesce(out) == reference_parse(stream, SMALL_LINE)


def test_a_huge_registration_line_is_dropped_refused_and_never_held_whole() -> None:
    parser = AddMaskFilter()
    out = parser.feed(b"before\n" + COMMAND)
    most = 0
    for _ in range(200):  # 12.5 MiB in one line
        out += parser.feed(b"v" * 65536)
        most = max(most, parser.held)
    out += parser.feed(b"\nafter\n") + parser.finish()
    assert most <= inband.MAX_LINE
    assert coalesce(out) == [b"before\n", ("refused",), b"after\n"]


def test_a_refused_line_is_reported_by_source_never_by_value() -> None:
    refused: list[Refusal] = []
    secrets = SecretSet([], MaskOptions(), on_refusal=refused.append)
    value = b"long-secret-" * 6000
    out = mask_reads(secrets, [b"::add-mask::" + value + b"\nx " + value[:20] + b"\n"], allow_add_mask=True)
    assert out == b"x " + value[:20] + b"\n"
    assert [r.source for r in refused] == ["::add-mask:: line 1 of the stream"]
    assert "64 KiB" in refused[0].reason and b"long-secret" not in refused[0].reason.encode()


def test_empty_whitespace_and_binary_registrations() -> None:
    secrets = secret_set([])
    stream = b"::add-mask::\n::add-mask::  \t \r\n::add-mask::\xff\x00\xfe-binary-1\nsee \xff\x00\xfe-binary-1!\n"
    assert mask_reads(secrets, [stream], allow_add_mask=True) == b"see [MASKED]!\n"
    assert [r.reason for r in secrets.refused] == ["is empty, nothing to mask"] * 2


def test_values_registered_while_masking_are_bounded_in_number() -> None:
    values = [b"added-value-%02d" % i for i in range(8)]
    stream = b"".join(b"::add-mask::" + v + b"\n" for v in values) + b" ".join(values) + b"\n"
    with mock.patch.object(patterns, "MAX_ADDED_VALUES", 5):
        secrets = secret_set([b"given-before-1"])
        out = mask_reads(secrets, [stream, b"given-before-1\n"], allow_add_mask=True)
    assert out == b" ".join([b"[MASKED]"] * 5 + values[5:]) + b"\n[MASKED]\n"
    assert [r.source for r in secrets.refused] == [f"::add-mask:: line {i} of the stream" for i in (6, 7, 8)]
    assert all("at most 5 values" in r.reason and b"added-value" not in r.reason.encode() for r in secrets.refused)


def test_values_registered_while_masking_are_bounded_in_bytes() -> None:
    values = [bytes([65 + i]) * 1000 for i in range(4)]
    stream = b"".join(b"::add-mask::" + v + b"\n" for v in values)
    with mock.patch.object(patterns, "MAX_ADDED_BYTES", 2000):
        secrets = secret_set([])
        masker = StreamMasker(secrets, allow_add_mask=True)
        masker.feed(stream)
    assert len(secrets.sources) == 2 and len(secrets.refused) == 2
    # A value registered again, or a refused one, does not count twice.
    with mock.patch.object(patterns, "MAX_ADDED_BYTES", 2000):
        masker.feed(b"::add-mask::" + values[0] + b"\n")
    assert len(secrets.refused) == 2
