"""`radar audit vault` against a Vault that answers in shapes no real Vault sends: odd types, names
that would walk out of their path, policies that are not HCL. The audit names each thing it could
not use, reports what it could, exits 2, and never crashes."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings, strategies as st

from radar.audit.vault import _matches_all, role_issues
from radar.audit.vault_read import _role
from radar_cli import clean_env, radar
from vault_fakes import response

ANSWERS = {
    ("GET", "/v1/sys/auth"): {"data": {"../evil/": {"type": "jwt"}, "jwt/": {"type": "jwt", "config": "x"},
                                       "odd/": 5, "kv/": {"type": "kv"}}},
    ("GET", "/v1/auth/jwt/config"): {"data": {"bound_issuer": ["https://gitlab.example.com"], "jwks_url": 7}},
    ("LIST", "/v1/auth/jwt/role"): {"data": {"keys": ["a/b", "..", "ok", 5]}},
    ("GET", "/v1/auth/jwt/role/ok"): {"data": {"bound_claims": "not-a-dict", "token_ttl": "abc",
                                               "bound_audiences": {"x": 1}, "policies": [{"a": 1}]}},
    ("LIST", "/v1/sys/policies/acl"): {"data": {"keys": ["not-hcl", "not-text", "root"]}},
    ("GET", "/v1/sys/policies/acl/not-hcl"): {"data": {"policy": 'path "a" {{{ capabilities'}},
    ("GET", "/v1/sys/policies/acl/not-text"): {"data": {"policy": 123}},
}


def hostile_vault(server, conn, request) -> bool:
    body = ANSWERS.get((request.method, request.target.split("?")[0]))
    conn.sendall(response(200, json.dumps(body).encode()) if body else response(404, b'{"errors":[]}'))
    return True


def test_odd_answers_are_named_and_the_rest_is_audited(serve):
    server = serve(hostile_vault)
    result = radar("audit", "vault", "--format", "json",
                   env=clean_env(VAULT_ADDR=server.url, VAULT_TOKEN="t", RADAR_FINGERPRINT_KEY="k"))
    assert result.returncode == 2, result.stderr
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr and "internal error" not in stderr
    for named in ("sys/auth/../evil/", "auth/jwt/role/a/b", "auth/jwt/role/..", "sys/policies/acl/not-hcl: "
                  "the policy cannot be read: not valid HCL"):
        assert f"radar: warning: cannot read {named}" in stderr, named
    assert not any(r.target.startswith("/v1/auth/../") or "/evil" in r.target for r in server.requests)
    findings = {(f["rule_id"], f["path"]) for f in json.loads(result.stdout)["findings"]}
    assert findings == {("vault-jwt-role-any-project", "auth/jwt/role/ok"),
                        ("vault-jwt-role-no-audience", "auth/jwt/role/ok"),
                        ("vault-jwt-role-long-ttl", "auth/jwt/role/ok")}


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=20)
role_keys = st.sampled_from(["bound_claims", "bound_claims_type", "bound_audiences", "bound_subject", "policies",
                             "token_policies", "token_ttl", "token_max_ttl", "token_explicit_max_ttl"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(role_keys, json_values, max_size=9), st.integers(min_value=1, max_value=10**6))
def test_any_role_answer_is_audited_without_error(data, max_ttl):
    role = _role("jwt", "r", data)
    issues = list(role_issues(role, None, max_ttl))
    assert all(issue.path == "auth/jwt/role/r" and issue.risk and issue.fix for issue in issues)


# JSON allows what int() refuses: Python's json reads Infinity and NaN, str.isdigit() holds for
# superscripts and other digits int() cannot read, and int() refuses more than 4,300 digits.
@pytest.mark.parametrize("ttl", [float("inf"), float("-inf"), float("nan"), "\u00b2", "\u0661\u0662", "9" * 5000, "1e9"])
def test_a_ttl_no_integer_holds_counts_as_unset(ttl):
    role = _role("jwt", "r", {"token_ttl": ttl, "token_max_ttl": ttl, "token_explicit_max_ttl": ttl})
    assert (role.token_ttl, role.token_max_ttl, role.token_explicit_max_ttl) == (0, 0, 0)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="*/:._-aX", max_size=16))
def test_a_glob_that_binds_nothing_is_told_as_the_expression_told_it(glob):
    # Characters tested instead of [*/:._-]*\*[*/:._-]*, whose backtracking over a long run of `*`
    # (Vault's answer) was quadratic: the same answer on every short glob, and a long one returns.
    assert _matches_all(glob) == bool(re.fullmatch(r"[*/:._-]*\*[*/:._-]*", glob))
    assert _matches_all("*" * 2_000_000 + glob + "X") is False
