"""A secret inside wrapped base64 (`base64 .env`, `openssl base64 < kubeconfig`): masked across line breaks.

What must be masked, for a secret planted in the encoded data: every base64 character whose 6
bits all come from the secret. The character on each edge that mixes the secret's bits with its
neighbours' may stay (as for unwrapped base64). Nothing is masked outside an occurrence of one of
the secret's registered forms (line breaks ignored): the standalone encodings reach the padding
when the secret was encoded alone or with `echo`'s newline. Line breaks are never masked: each
line keeps its own marker.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mask_helpers import byte_by_byte, mask_reads, secret_set, split_at
from radar.mask.engine import ENGINES
from radar.mask.forms import forms_of
from radar.mask import patterns
from radar.mask.stream import SecretSet, StreamMasker

MARKER = b"[MASKED]"
# (width, line end): coreutils `base64` (76), `openssl base64` (64), and both as a CRLF log shows them.
STYLES = [(76, b"\n"), (64, b"\n"), (76, b"\r\n"), (64, b"\r\n")]
STYLE_IDS = ["base64", "openssl-base64", "base64-crlf", "openssl-base64-crlf"]


def wrap(data: bytes, width: int, line_end: bytes = b"\n") -> bytes:
    """What `base64` (width 76) and `openssl base64` (width 64) print for `data`."""
    encoded = base64.b64encode(data)
    return b"".join(encoded[i : i + width] + line_end for i in range(0, len(encoded), width))


@dataclass(frozen=True)
class Planted:
    data: bytes  # what was encoded
    offset: int  # where the secret was planted in it
    length: int

    def must_mask(self, index: int) -> bool:
        """Character `index` of the encoding carries 6 bits of the planted secret."""
        return 8 * self.offset <= 6 * index and 6 * index + 6 <= 8 * (self.offset + self.length)

    def may_mask(self) -> set[int]:
        """Characters of the encoding inside an occurrence of a registered form of the secret,
        line breaks ignored: the planted secret's, and any the rest of the data happens to form
        (a core of a secret of zero bytes is a run of `A`s)."""
        secret = self.data[self.offset : self.offset + self.length]
        encoded = base64.b64encode(self.data)
        forms: set[bytes] = set()
        values = [secret]
        for _ in range(3):  # the value, its parts (lines, JSON values), and theirs
            found = [forms_of(value, 8) for value in values]
            forms.update(form for value_forms in found for form in value_forms.literals)
            values = [part for value_forms in found for part in value_forms.parts]
        covered: set[int] = set()
        for form in forms:
            start = encoded.find(form)
            while start >= 0:
                covered.update(range(start, start + len(form)))
                start = encoded.find(form, start + 1)
        return covered


def check_wrapped(planted: Planted, wrapped: bytes, out: bytes, line_end: bytes) -> str | None:
    """A problem with `out` (the masked `wrapped`), described by line and column only."""
    lines_in, lines_out = wrapped.split(line_end), out.split(line_end)
    if len(lines_in) != len(lines_out):
        return f"{len(lines_in)} lines in, {len(lines_out)} out"
    may_mask = planted.may_mask()
    index = 0  # position in the encoding of the line's first character
    for number, (line, masked) in enumerate(zip(lines_in, lines_out)):
        kept = masked.split(MARKER)
        if len(kept) > 2:
            return f"line {number}: {len(kept) - 1} markers"
        if len(kept) == 1:
            if masked != line:
                return f"line {number}: changed without a marker"
            columns: range = range(0)
        else:
            before, after = kept
            if not (line.startswith(before) and line.endswith(after)) or len(before) + len(after) >= len(line):
                return f"line {number}: is not the line with one stretch masked"
            columns = range(len(before), len(line) - len(after))
        for column in range(len(line)):
            masked_here = column in columns
            if planted.must_mask(index + column) and not masked_here:
                return f"line {number}: column {column} carries secret bits and was not masked"
            if masked_here and index + column not in may_mask:
                return f"line {number}: column {column} was masked but is not the secret's"
        index += len(line)
    return None


def plant(prefix: bytes, secret: bytes, suffix: bytes) -> Planted:
    return Planted(prefix + secret + suffix, len(prefix), len(secret))


# --- the red team's case: `printf 'AAAA...\nDB_PASSWORD=<secret>\nDB_USER=app\n' | base64` --------

DOTENV_SECRETS = [b"hunter22", b"s3cr3t-P4ssw0rd-xyz", b"Zq8!vR2@pL5#xW9$kT3%mN6^bH1&cJ4*", bytes(range(1, 101))]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("width", "line_end"), STYLES, ids=STYLE_IDS)
@pytest.mark.parametrize("secret", DOTENV_SECRETS, ids=lambda s: f"{len(s)}-bytes")
def test_a_secret_in_a_wrapped_dotenv_file_is_masked_at_every_prefix_length(secret, width, line_end, engine) -> None:
    secrets = secret_set([secret], engine)
    problems = []
    for count in range(81):
        planted = plant(b"A" * count + b"\nDB_PASSWORD=", secret, b"\nDB_USER=app\n")
        wrapped = wrap(planted.data, width, line_end)
        # Whole, and in reads of 7 bytes, so that reads end inside the wraps too.
        for reads in ([wrapped], split_at(wrapped, range(7, len(wrapped), 7))):
            problem = check_wrapped(planted, wrapped, mask_reads(secrets, reads), line_end)
            if problem:
                problems.append(f"prefix of {count} A: {problem}")
    assert not problems, problems[:5]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("width", "line_end"), STYLES, ids=STYLE_IDS)
@pytest.mark.parametrize("ending", [b"", b"\n"], ids=["alone", "echo"])
def test_a_wrapped_standalone_secret_is_masked_to_its_last_line(width, line_end, ending, engine) -> None:
    # Lengths whose encoding, alone or with a newline, ends in a last line of 4 or 8 characters.
    for length in {76: (172, 175), 64: (145, 148)}[width]:
        secret = bytes(range(33, 33 + length))
        wrapped = wrap(secret + ending, width, line_end)
        assert len(wrapped.split(line_end)[-2]) in (4, 8)
        out = mask_reads(secret_set([secret], engine), byte_by_byte(wrapped))
        lines = out.split(line_end)[:-1]
        assert lines and all(line == MARKER for line in lines), [len(line) for line in lines]


def test_the_short_last_line_of_a_wrapped_key_is_no_longer_left_in_clear() -> None:
    secret = bytes(range(48, 48 + 58))  # 58 bytes: 80 characters, the last line has 4 at width 76
    wrapped = wrap(secret, 76)
    assert len(wrapped.split(b"\n")[1]) == 4
    assert mask_reads(secret_set([secret]), [wrapped]) == MARKER + b"\n" + MARKER + b"\n"


def test_line_breaks_stay_and_each_line_gets_its_marker() -> None:
    secret = b"correct-horse-battery-staple-42"
    data = b"A" * 50 + secret + b"B" * 10  # the secret's characters 67..108 span the wrap at 76
    wrapped = wrap(data, 76)
    out = mask_reads(secret_set([secret]), [wrapped])
    first, second, _ = out.split(b"\n")
    assert first.endswith(MARKER) and second.startswith(MARKER)


# --- hold-back: only what can still be a cut form is held ----------------------------------------


def test_an_ordinary_line_ending_is_released_at_once() -> None:
    masker = StreamMasker(secret_set([b"correct-horse-battery-staple-42"]))
    line = b"Deploying version 1.2.3 from QUFBQUFB\n"
    assert masker.feed(line) == line


def test_a_block_ending_inside_a_cut_form_holds_it() -> None:
    secret = b"correct-horse-battery-staple-42"
    secrets = secret_set([secret])
    for count in range(40, 80):
        wrapped = wrap(b"A" * count + secret + b"B" * 40, 76)
        whole = mask_reads(secrets, [wrapped])
        assert MARKER in whole
        for cut in range(1, len(wrapped)):
            assert mask_reads(secrets, [wrapped[:cut], wrapped[cut:]]) == whole, (count, cut)


def test_a_line_of_base64_at_the_end_of_a_block_holds_at_most_the_longest_form() -> None:
    secret = b"correct-horse-battery-staple-42"
    secrets = secret_set([secret])
    masker = StreamMasker(secrets)
    encoded = base64.b64encode(b"x" * 50 + secret)
    longest = max(map(len, forms_of(secret, 8).wrappable))
    # End the block just after the wrap that cuts the secret's core.
    block = encoded[:76] + b"\n" + encoded[76:80]
    released = masker.feed(block)
    assert block.startswith(released)
    assert len(block) - len(released) <= longest + 1


# --- properties ----------------------------------------------------------------------------------

secret_bytes = st.one_of(
    st.binary(min_size=8, max_size=120),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=8, max_size=60)
    .map(str.encode),
).filter(lambda s: s.strip(b" \t\r\n\x0b\x0c") == s and len(s.decode("utf-8", "replace")) >= 8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=secret_bytes,
    prefix=st.binary(max_size=80),
    suffix=st.binary(max_size=40),
    style=st.sampled_from(STYLES),
    engine=st.sampled_from(ENGINES),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12),
)
def test_no_character_carrying_secret_bits_survives_wrapping(secret, prefix, suffix, style, engine, cuts) -> None:
    assert_nothing_survives_wrapping(secret_set([secret], engine), secret, prefix, suffix, style, cuts)


def assert_nothing_survives_wrapping(made: SecretSet, secret: bytes, prefix: bytes, suffix: bytes,
                                style: tuple[int, bytes], cuts: list[int]) -> None:
    """`made` (masking `secret`) leaves no character carrying its bits once it is wrapped."""
    width, line_end = style
    planted = plant(prefix, secret, suffix)
    covered = planted.may_mask()
    # One masked stretch per line, so that the output tells which columns were masked (the forms
    # of a secret of mostly zero bytes also occur elsewhere in zero-heavy data).
    assume(max(covered) - min(covered) + 1 == len(covered))
    wrapped = wrap(planted.data, width, line_end)
    out = mask_reads(made, split_at(wrapped, cuts))
    problem = check_wrapped(planted, wrapped, out, line_end)
    assert problem is None, problem


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=secret_bytes,
    pieces=st.lists(st.sampled_from([b"A" * 64, b"QUFB" * 19, b"\n", b"\r\n", b"\r", b"x", b"==", b" "]), max_size=12),
    style=st.sampled_from(STYLES),
    cuts=st.lists(st.integers(min_value=1, max_value=600), max_size=16),
)
def test_wrapped_matching_does_not_depend_on_reads_or_engine(secret, pieces, style, cuts) -> None:
    """Wraps, near-wraps (short lines, lone CRs) and the secret's encoding cut anywhere."""
    width, line_end = style
    encoded = wrap(b"y" * (len(pieces) % 3) + secret, width, line_end)
    data = b"".join(pieces[: len(pieces) // 2]) + encoded + b"".join(pieces[len(pieces) // 2 :])
    whole = mask_reads(secret_set([secret], "ahocorasick"), [data])
    assert mask_reads(secret_set([secret], "hyperscan"), split_at(data, cuts)) == whole
    assert mask_reads(secret_set([secret], "ahocorasick"), split_at(data, cuts)) == whole


# --- many secrets: head anchors cut by a wrap are looked for at the wrapping line breaks --------

def breaks_set(values: list[bytes]) -> SecretSet:
    """A Hyperscan set that looks for cut head anchors at wrapping line breaks, as it does with
    more than patterns.BREAKS_ABOVE values, for a few."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(patterns, "BREAKS_ABOVE", 0)
        made = secret_set(values, "hyperscan")
    assert made.tables[0].breaks
    return made


def test_many_secrets_look_for_cut_anchors_at_line_breaks() -> None:
    values = [b"Tok3n-%04d-" % i + bytes(range(65, 65 + i % 26)) for i in range(400)]
    many = secret_set(values, "hyperscan")
    assert many.tables[0].breaks and not secret_set(values[:10], "hyperscan").tables[0].breaks
    reference = secret_set(values, "ahocorasick")
    assert not reference.tables[0].breaks
    encoded = base64.b64encode(values[123])
    for cut in range(1, 30):  # the wrap falls inside the head anchor, then after it
        data = b"y" * 11 + b"A" * (64 - cut) + encoded[:cut] + b"\n" + encoded[cut:] + b" done\n"
        out = mask_reads(many, [data])
        assert out.count(MARKER) == 2 and out == mask_reads(reference, [data]), cut


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=secret_bytes,
    prefix=st.binary(max_size=80),
    suffix=st.binary(max_size=40),
    style=st.sampled_from(STYLES),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12),
)
def test_at_line_breaks_no_character_carrying_secret_bits_survives_wrapping(secret, prefix, suffix, style, cuts):
    assert_nothing_survives_wrapping(breaks_set([secret]), secret, prefix, suffix, style, cuts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=secret_bytes,
    pieces=st.lists(st.sampled_from([b"A" * 64, b"QUFB" * 19, b"\n", b"\r\n", b"\r", b"x", b"==", b" "]), max_size=12),
    style=st.sampled_from(STYLES),
    lead=st.integers(min_value=0, max_value=60),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=16),
)
def test_looking_at_line_breaks_masks_what_second_anchors_mask(secret, pieces, style, lead, cuts) -> None:
    """The same bytes as the second anchors give, the secret's encoding at any column (so that
    a wrap cuts its head anchor) and the input cut anywhere (a wrapping line that began in an
    earlier read included)."""
    width, line_end = style
    encoded = wrap(b"y" * lead + secret, width, line_end)
    data = b"".join(pieces[: len(pieces) // 2]) + encoded + b"".join(pieces[len(pieces) // 2 :])
    expected = mask_reads(secret_set([secret], "ahocorasick"), [data])
    assert mask_reads(breaks_set([secret]), split_at(data, cuts)) == expected


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("run", [63, 64])
def test_at_line_breaks_a_line_one_character_short_of_a_wrap_is_no_wrap(run, line_end) -> None:
    """The break expression lets a CRLF after 63 base64 characters through; `wraps` turns it down."""
    secret = b"s3cr3t-P4ssw0rd-xyz"
    encoded = base64.b64encode(secret)
    for cut in range(1, 12):
        data = b"x " + b"A" * (run - cut) + encoded[:cut] + line_end + encoded[cut:] + b" done" + line_end
        expected = mask_reads(secret_set([secret], "ahocorasick"), [data])
        assert mask_reads(breaks_set([secret]), [data]) == expected
        assert (MARKER in expected) == (run == 64), cut
