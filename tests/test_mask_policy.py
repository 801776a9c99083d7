"""What gets registered: trimming, empty and duplicate values, the minimum length, forms."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mask_helpers import mask_reads, secret_set
from radar.mask.forms import MAX_JSON_DEPTH, base64_forms, forms_of


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


# --- JSON secrets: the values of their secret-named keys are parts ---------------------------

def test_deeply_nested_json_is_masked_whole_without_recursion_error() -> None:
    nested = b"[" * 100_000 + b'"deep-secret-1"' + b"]" * 100_000
    secrets = secret_set([nested])
    assert mask_reads(secrets, [b"<" + nested + b">"]) == b"<[MASKED]>"


def test_json_deeper_than_the_limit_gives_no_parts() -> None:
    def nested(depth: int) -> bytes:
        return b'{"token": ' * depth + b'"part-secret-1"' + b"}" * depth

    assert forms_of(nested(MAX_JSON_DEPTH), 8).parts == (b"part-secret-1",)
    assert forms_of(nested(MAX_JSON_DEPTH + 1), 8).parts == ()
    # Brackets inside strings are no nesting.
    assert forms_of(b'{"token": "[[[[' + b"[" * 100 + b'"}', 8).parts == (b"[[[[" + b"[" * 100,)


json_documents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["token", "name", "private_key", "x", "Auth", "list"]), children, max_size=4),
    ),
    max_leaves=30,
)


def reference_parts(document: object, min_length: int = 8) -> list[bytes]:
    found: list[bytes] = []

    def walk(node: object, secret_named: bool) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, secret_named or key.lower() in ("token", "private_key", "auth"))
        elif isinstance(node, list):
            for child in node:
                walk(child, secret_named)
        elif isinstance(node, str) and secret_named and len(node.strip()) >= min_length:
            found.append(node.strip().encode())

    walk(document, False)
    return found


@settings(max_examples=300, deadline=None)
@given(json_documents)
def test_json_parts_are_the_secret_named_string_values_in_document_order(document) -> None:
    text = json.dumps(document).encode()  # one line: a multi-line value's lines are parts too
    assert list(forms_of(text, 8).parts) == (reference_parts(document) if text.startswith((b"{", b"[")) else [])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"{", b"["]), st.binary(max_size=200))
def test_any_text_that_looks_like_json_is_handled(start, rest) -> None:
    forms = forms_of(start + rest + b"x" * 8, 8)
    assert forms.literals
