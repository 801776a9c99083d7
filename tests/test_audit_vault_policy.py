"""Vault policy text -> path rules (`radar.audit.vault_policy`): HCL and Vault's JSON form, and
hostile text: anything that is not a policy is `PolicyUnreadable`, in bounded time, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from radar.audit.vault import _covers
from radar.audit.vault_policy import MAX_NESTING, MAX_POLICY_BYTES, PathRule, PolicyUnreadable, parse_policy

REASONS = {f"larger than {MAX_POLICY_BYTES // 1024} KiB", f"nested more than {MAX_NESTING} levels deep",
           "not valid JSON", "not valid HCL", "not a policy (no path blocks)", "a path block that is not an object"}
CAPABILITIES = ("create", "read", "update", "patch", "delete", "list", "sudo", "deny")
segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=12)
vault_path = st.builds(lambda parts, end: "/".join(parts) + end,
                       st.lists(segment, min_size=1, max_size=5), st.sampled_from(["", "/*", "*", "/+"]))
policy_rules = st.lists(st.tuples(vault_path, st.sets(st.sampled_from(CAPABILITIES), min_size=1)),
                        max_size=6, unique_by=lambda rule: rule[0])


def hcl(rules: list[tuple[str, set[str]]]) -> str:
    return "\n".join(f'# rule {n}\npath "{path}" {{\n  capabilities = [{", ".join(json.dumps(c) for c in sorted(caps))}]\n}}'
                     for n, (path, caps) in enumerate(rules))


@settings(max_examples=60, deadline=None)
@given(policy_rules)
def test_hcl_and_json_forms_give_the_same_rules(rules):
    expected = tuple(PathRule(path, tuple(sorted(caps))) for path, caps in rules)
    assert parse_policy(hcl(rules)) == expected
    as_json = {"path": {path: {"capabilities": sorted(caps)} for path, caps in rules}}
    assert parse_policy(json.dumps(as_json)) == expected


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_rules_or_policy_unreadable(text):
    try:
        rules = parse_policy(text)
    except PolicyUnreadable as e:
        assert str(e) in REASONS  # the message names why, never quotes the policy
        return
    assert all(isinstance(r, PathRule) and isinstance(r.path, str) for r in rules)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(['path', '"a/*"', "{", "}", "[", "]", "=", "capabilities", '"read"', ",", "\n",
                                 "<<EOF\n", "EOF\n", "#", "policy", '"write"', "${", "1", ":", "{\"path\":"]),
                max_size=40))
def test_policy_shaped_garbage_is_rules_or_policy_unreadable(tokens):
    try:
        rules = parse_policy(" ".join(tokens))
    except PolicyUnreadable as e:
        assert str(e) in REASONS
        return
    assert all(isinstance(r, PathRule) for r in rules)


def test_the_old_policy_shorthand_stands_for_its_capabilities():
    assert parse_policy('path "secret/*" { policy = "write" }') == (
        PathRule("secret/*", ("create", "read", "update", "delete", "list")),)


@pytest.mark.parametrize("text, why", [
    ("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1), "nested"),
    ('path "a" { capabilities = ["read"] }\n' * (MAX_POLICY_BYTES // 30), "larger"),
    ('{"path": [1, 2]}', "not an object"),
    ("path {", "not valid HCL"),
    ('{"path": ', "not valid JSON"),
])
def test_hostile_policies_are_refused_with_a_reason(text, why):
    with pytest.raises(PolicyUnreadable, match=why):
        parse_policy(text)


@pytest.mark.parametrize("glob, path, covered", [
    ("secret/data/*", "secret/data/production/db", True),
    ("secret/data/app/+/db", "secret/data/app/production/db", True),
    ("secret/data/app/+", "secret/data/app/production/db", False),
    ("secret/data/staging/*", "secret/data/production/db", False),
    ("secret/data/*", "secret/data/production/*", True),
    ("secret/data/production/db", "secret/data/production/db", True),
    ("secret/data/production/db", "secret/data/production/*", False),  # an exact path covers one secret, not all
])
def test_a_glob_covers_a_path_as_vault_matches_it(glob, path, covered):
    assert _covers(glob, path) is covered
