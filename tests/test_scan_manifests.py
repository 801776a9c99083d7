"""Kubernetes Secret manifests: the values under `data:` / `stringData:` of a `kind: Secret`
document are secrets whatever their shape; other kinds, templates and empty values are not."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings, strategies as st

from radar.scan import manifests
from radar.scan.engine import Engine
from radar.scan.findings import FingerprintKey
from radar.scan.rules import load_default_rules

ENGINE = Engine(load_default_rules(), FingerprintKey(b"test-key"))
PASSWORD = base64.b64encode(b"Qk9-vT2x!mR4").decode()


def found(text: str, path: str = "k8s/secret.yaml") -> list[tuple[int, str | None]]:
    return [(f.line, f.name) for f in ENGINE.scan(text, path).findings if f.rule_id == "kubernetes-secret-yaml"]


@pytest.mark.parametrize("text, expected", [
    (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: {PASSWORD}\n",
     [(7, "password")]),
    # `data:` before `kind:`, tab indentation (not valid YAML, yet written and committed)
    (f"apiVersion: v1\ndata:\n\t# a comment\n\tpassword: {PASSWORD}\nkind: Secret\n", [(4, "password")]),
    (f"apiVersion: 'v1'\ndata:\n  extra: '{PASSWORD}'\nkind: 'secret'\n", [(3, "extra")]),
    (f'kind: "Secret"\ndata:\n  "api.key": "{PASSWORD}"\n', [(3, "api.key")]),
    ("kind: Secret\nstringData:\n  API_TOKEN: Zx8vR2mQ4tL7nW9k\n", [(3, "API_TOKEN")]),
    (f"kind: Secret\ndata:\n  .dockercfg: |\n    {PASSWORD}\n    {PASSWORD}\n", [(4, ".dockercfg")]),
    (f"kind: Secret\ndata:\n  .dockercfg: >-\n    {PASSWORD}\nmetadata:\n  name: x\n", [(4, ".dockercfg")]),
    (f"kind: ConfigMap\ndata:\n  a: {PASSWORD}\n---\nkind: Secret\ndata:\n  b: {PASSWORD}\n", [(7, "b")]),
])
def test_the_values_of_a_secret_manifest_are_found_named_after_their_key(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "kind: Secret\ndata:\n  htpasswd: ''\n",
    'kind: Secret\ndata:\n  csrf: ""\n',
    "kind: Secret\ndata:\n  password: {{ .Values.password | b64enc }}\n",
    "kind: Secret\ndata:\n  extra: YmFyCg==\n",  # decodes to 4 bytes
    f"kind: Secret\ndata:\n  username: {PASSWORD}\n  host: {PASSWORD}\n",
    "kind: Secret\ndata:\n  password: not base64 at all!\n",
    f"kind: ConfigMap\ndata:\n  password: {PASSWORD}\n",
    f"kind: SopsSecret\nspec:\n  data:\n    a: {PASSWORD}\n",
    f"kind: ExternalSecret\nspec:\n  data:\n    - secretKey: {PASSWORD}\n",
    f"metadata:\n  kind: Secret\ndata:\n  password: {PASSWORD}\n",  # not the document's kind
    f"kind: Secret\nmetadata:\n  name: a\n---\nkind: ConfigMap\ndata:\n  token: {PASSWORD}\n",
    "kind: Secret\nstringData:\n  password: changeme\n",
    "kind: Secret\ndata:\n  password: " + base64.b64encode(b"changeme").decode() + "\n",
])
def test_templates_empty_short_and_other_kinds_are_not_reported(text):
    assert found(text) == []


def test_a_document_with_many_markers_is_read_once_and_each_value_reported_once():
    text = "kind: Secret\n" * 5000 + f"data:\n  password: {PASSWORD}\n"
    assert found(text) == [(5002, "password")]


_yaml_bits = st.sampled_from([
    "kind: Secret", "kind: 'secret'", "data:", "stringData:", "  password: ", "\tx: ", "  .cfg: |", "    ",
    PASSWORD, "---", "# c", "metadata:", "  - a", '"', "'", ":", "{{ x }}", "\r", "\t", " ",
])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_yaml_bits, st.text(max_size=8)), max_size=40).map("".join))
def test_property_any_text_gives_values_that_lie_in_it_and_never_raises(text):
    seen: set[tuple[int, int]] = set()
    for marker in [i for i in range(len(text)) if text.startswith("kind", i)]:
        (start, end), values = manifests.kubernetes_secret_values(text, marker)
        assert 0 <= start <= marker <= end <= len(text)
        for v in values:
            assert start <= v.start <= v.end <= end
            assert v.value and v.key
            seen.add((v.start, v.end))
    ENGINE.scan(text, "any.yaml")


@settings(max_examples=200, deadline=None)
@given(key=st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,20}", fullmatch=True),
       raw=st.binary(min_size=6, max_size=64), indent=st.sampled_from(["  ", "\t", "    "]))
def test_property_a_base64_value_under_a_secrets_data_is_read_whole_and_binary_ones_always_found(key, raw, indent):
    from radar.scan import generic

    value = base64.b64encode(raw).decode()
    text = f"apiVersion: v1\nkind: Secret\ndata:\n{indent}{key}: {value}\n"
    _, values = manifests.kubernetes_secret_values(text, text.index("kind"))
    assert [(v.key, v.value, text[v.start:v.end]) for v in values] in ([], [(key, value, value)])
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert len(values) == int(generic.key_may_hold_credential(key))
