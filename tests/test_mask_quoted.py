"""Values the way real shells and markup escapers print them: bash `set -x`, `printf %q`, `${v@Q}`,
Python's html and xml escapers. The tools themselves produce the input."""

from __future__ import annotations

import html
import subprocess
from xml.sax.saxutils import escape, quoteattr

from hypothesis import given, settings
from hypothesis import strategies as st

from mask_helpers import mask_reads, secret_set
from radar.mask.forms import quoted_forms

MARKER = b"[MASKED]"
SPECIAL = " !\"#$%&'()*,;<>?[\\]^`{|}~"

values = (
    st.text(alphabet=st.sampled_from("abcXYZ0189-_.+=@/:" + SPECIAL), min_size=8, max_size=24)
    .filter(lambda v: v == v.strip() and any(c in SPECIAL for c in v))
    .map(str.encode)
)


def bash(script: str, value: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["bash", "-c", script, "bash", value], capture_output=True, check=True, timeout=30)


@settings(max_examples=60, deadline=None)
@given(values)
def test_bash_set_x_prints_the_value_masked(value) -> None:
    trace = bash("set -x; : \"$1\"", value).stderr
    out = mask_reads(secret_set([value]), [trace])
    assert out in (b"+ : " + MARKER + b"\n", b"+ : '" + MARKER + b"'\n"), "set -x left part of the value"


@settings(max_examples=60, deadline=None)
@given(values)
def test_bash_printf_q_and_at_q_print_the_value_masked(value) -> None:
    printed = bash("printf '%q\\n' \"$1\"; printf '%s\\n' \"${1@Q}\"", value).stdout
    out = mask_reads(secret_set([value]), [printed])
    assert out == MARKER + b"\n'" + MARKER + b"'\n", "printf %q or ${v@Q} left part of the value"


@settings(max_examples=100, deadline=None)
@given(values)
def test_html_and_xml_escapers_print_the_value_masked(value) -> None:
    text = value.decode()
    escaped = [html.escape(text), html.escape(text, quote=False), escape(text), escape(text, {"'": "&apos;"})]
    for rendered in escaped:
        assert mask_reads(secret_set([value]), [rendered.encode()]) == MARKER, "an escaper left part of the value"
    attribute = quoteattr(text).encode()
    assert mask_reads(secret_set([value]), [attribute])[1:-1] == MARKER, "quoteattr left part of the value"


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.+=@/:", min_size=8, max_size=24).map(str.encode))
def test_values_without_characters_to_escape_get_no_quoted_forms(value) -> None:
    assert quoted_forms(value) == set()
