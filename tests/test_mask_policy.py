"""What gets registered: trimming, empty and duplicate values, the minimum length, forms."""

from __future__ import annotations

import base64

from mask_helpers import mask_reads, secret_set
from radar.mask.forms import base64_forms, forms_of


def test_surrounding_whitespace_is_trimmed() -> None:
    assert mask_reads(secret_set([b"  \n hunter-two-2\r\n"]), [b"[hunter-two-2]"]) == b"[[MASKED]]"


def test_short_values_are_refused_by_source() -> None:
    secrets = secret_set([b"abc", b"long-enough-1"])
    assert [r.source for r in secrets.refused] == ["test secret 0"]
    assert "8 characters" in secrets.refused[0].reason
    assert mask_reads(secrets, [b"abc long-enough-1"]) == b"abc [MASKED]"


def test_minimum_length_counts_characters_not_bytes() -> None:
    secrets = secret_set(["ключ-123".encode()])  # 8 characters, 12 bytes
    assert secrets.refused == []
    secrets = secret_set(["ключ-12".encode()])
    assert len(secrets.refused) == 1


def test_empty_values_are_refused_and_duplicates_ignored() -> None:
    secrets = secret_set([b"   ", b"dup-secret-1", b"dup-secret-1\n"])
    assert [r.reason for r in secrets.refused] == ["is empty, nothing to mask"]
    assert secrets.sources == ["test secret 1"]


def test_no_form_shorter_than_the_minimum_is_registered() -> None:
    forms = forms_of(b"abcdefgh", 12)
    assert forms.literals and all(len(f) >= 12 for f in forms.literals)
    assert b"abcdefgh" not in forms.literals


def test_base64_cores_are_found_in_every_alignment() -> None:
    value = b"correct-horse-battery"
    cores = base64_forms(value)
    for prefix in (b"", b"a", b"ab", b"abc:"):
        for suffix in (b"", b"\n", b"xy"):
            encoded = base64.b64encode(prefix + value + suffix)
            assert any(core in encoded for core in cores), (len(prefix), len(suffix))


def test_multiline_value_keeps_its_lines_and_chain() -> None:
    forms = forms_of(b"{\n  \"key\": \"0123456789abcdef\",\n}", 8)
    assert forms.chain is not None and forms.chain.segments[0] == b"{"
    assert forms.parts == (b'"key": "0123456789abcdef",',)
