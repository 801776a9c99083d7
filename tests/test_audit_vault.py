"""`radar audit vault` against a real OpenBao seeded with one good and one bad case per rule.

The server holds JWT mounts (a good one, one without bound_issuer, one fetching keys over http
from a JWKS served here on 127.0.0.1), roles and ACL policies. Each bad case trips exactly one
rule and the good ones trip none, so the report must equal the expected table exactly. The
audit's token is an `auditor` token holding the policy the README documents; it never appears
in any output. A token that may not read one role and one policy gets a warning naming each,
the report of the rest and exit status 2.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from radar.audit import vault as rules
from radar_cli import assert_absent, assert_one_line_error, clean_env, radar
from report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator
from test_report_formats import ACCEPTED_NOTES, sarif_validator_results
from vault_fixtures import ISSUER, ROOT_TOKEN, new_signing_key, public_pem, start_bao, stop_bao

AUDIENCE = "https://vault.example.com"
README = Path(__file__).resolve().parents[1] / "README.md"
# The policy the README's "Audit" section gives the audit's token, as the README spells it.
AUDITOR_POLICY = README.read_text().split("The token's policy", 1)[1].split("```hcl\n", 1)[1].split("```", 1)[0]
GOOD_ROLE = {"role_type": "jwt", "user_claim": "user_email", "bound_audiences": [AUDIENCE],
             "token_explicit_max_ttl": 300}

# (rule, path) of every finding the seeded server must give, and nothing else.
EXPECTED = {
    (rules.NO_ISSUER, "auth/jwt-noissuer/config"),
    (rules.KEYS_OVER_HTTP, "auth/jwt-http/config"),
    (rules.ANY_PROJECT, "auth/jwt/role/any-project"),
    (rules.NO_AUDIENCE, "auth/jwt/role/no-audience"),
    (rules.PRODUCTION_UNPROTECTED, "auth/jwt/role/deploy-prod"),
    (rules.GLOB_EVERYTHING, "auth/jwt/role/glob-all"),
    (rules.LONG_TTL, "auth/jwt/role/long-ttl"),
    (rules.LONG_TTL, "auth/jwt/role/ttl-unset"),
    (rules.POLICY_WILDCARD, "sys/policies/acl/wildcard"),
    (rules.POLICY_WILDCARD, "sys/policies/acl/segment-wildcard"),
    (rules.POLICY_WRITE, "sys/policies/acl/writer"),
    (rules.POLICY_OVERLAP, "sys/policies/acl/team-tools"),
}


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class _Jwks:
    """GitLab's JWKS endpoint, served over plain http on 127.0.0.1 (what the keys-over-http rule is about)."""

    def __init__(self, key) -> None:
        numbers = key.public_key().public_numbers()
        body = json.dumps({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
                                     "n": _b64(numbers.n), "e": _b64(numbers.e)}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/-/jwks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def token_for(server, *policies: str) -> str:
    answer = server.api("POST", "auth/token/create", {"policies": list(policies), "ttl": "1h"})
    return answer["auth"]["client_token"]


def seed(server, key, jwks_url: str) -> None:
    pem = public_pem(key)
    for path in ("jwt", "jwt-noissuer", "jwt-http"):
        server.api("POST", f"sys/auth/{path}", {"type": "jwt"})
    server.api("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [pem], "bound_issuer": ISSUER})
    server.api("POST", "auth/jwt-noissuer/config", {"jwt_validation_pubkeys": [pem]})
    server.api("POST", "auth/jwt-http/config", {"jwks_url": jwks_url, "bound_issuer": ISSUER})
    roles = {
        "good-production": {**GOOD_ROLE, "policies": ["app-production"], "bound_claims": {
            "project_id": "42", "ref_protected": "true", "pipeline_source": ["push"], "environment": "production"}},
        "good-staging": {**GOOD_ROLE, "policies": ["app-staging"], "bound_claims_type": "glob",
                         "bound_claims": {"project_path": "mygroup/*", "ref": "release-*", "environment": "staging"}},
        "any-project": {**GOOD_ROLE, "policies": ["app-staging"], "bound_claims": {"environment": "staging"}},
        "no-audience": {**{k: v for k, v in GOOD_ROLE.items() if k != "bound_audiences"},
                        "policies": ["app-staging"], "bound_claims": {"project_id": "42"}},
        "deploy-prod": {**GOOD_ROLE, "policies": ["app-production"], "bound_claims": {
            "project_id": "42", "ref_protected": "true", "environment": "production"}},
        "glob-all": {**GOOD_ROLE, "policies": ["app-staging"], "bound_claims_type": "glob",
                     "bound_claims": {"project_id": "42", "ref": "*"}},
        "long-ttl": {**GOOD_ROLE, "policies": ["app-staging"], "token_explicit_max_ttl": 7200,
                     "bound_claims": {"project_id": "42"}},
        "ttl-unset": {**{k: v for k, v in GOOD_ROLE.items() if k != "token_explicit_max_ttl"},
                      "policies": ["app-staging"], "bound_claims": {"project_id": "42"}},
    }
    for name, body in roles.items():
        server.api("POST", f"auth/jwt/role/{name}", body)
    policies = {
        "auditor": AUDITOR_POLICY,
        "app-production": 'path "secret/data/app/production/db" { capabilities = ["read"] }',
        "app-staging": '# staging\npath "secret/data/app/staging/db" {\n  capabilities = ["read"]\n}\n',
        "json-form": json.dumps({"path": {"secret/data/app/staging/cfg": {"capabilities": ["read", "list"]}}}),
        "wildcard": 'path "secret/data/app/staging/*" { capabilities = ["read"] }',
        "segment-wildcard": 'path "secret/data/app/+" { capabilities = ["read"] }',
        "writer": 'path "secret/data/app/staging/db" { capabilities = ["read", "update"] }',
        "team-tools": 'path "secret/data/app/+/db" { capabilities = ["read"] }',
        "team-tools-denied": ('path "secret/data/app/+/db" { capabilities = ["read"] }\n'
                              'path "secret/data/app/production/db" { capabilities = ["deny"] }'),
    }
    for name, text in policies.items():
        server.api("POST", f"sys/policies/acl/{name}", {"policy": text})
    server.api("POST", "sys/policies/acl/partial-auditor", {"policy": AUDITOR_POLICY + (
        'path "auth/jwt/role/long-ttl" { capabilities = ["deny"] }\n'
        'path "sys/policies/acl/writer" { capabilities = ["deny"] }\n')})


class Seeded:
    def __init__(self, server, token: str, partial_token: str) -> None:
        self.server, self.token, self.partial_token = server, token, partial_token

    @property
    def secrets(self) -> list[str]:
        return [ROOT_TOKEN, self.token, self.partial_token]

    def env(self, token: str | None = None, **extra: str) -> dict[str, str]:
        return clean_env(VAULT_ADDR=self.server.url, VAULT_TOKEN=token or self.token,
                         RADAR_FINGERPRINT_KEY="audit-tests", **extra)

    def __repr__(self) -> str:
        return f"Seeded({self.server.url})"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    key = new_signing_key()
    jwks = _Jwks(key)
    server = start_bao(tmp_path_factory.mktemp("bao-audit"))
    try:
        seed(server, key, jwks.url)
        yield Seeded(server, token_for(server, "auditor"), token_for(server, "partial-auditor"))
    finally:
        stop_bao(server)
        jwks.close()


def audit(seeded: Seeded, *args: str, token: str | None = None):
    result = radar("audit", "vault", *args, env=seeded.env(token))
    assert_absent(seeded.secrets, result.stdout, result.stderr, message="token #{n} appeared in radar's output")
    return result


def found(result) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["path"]) for f in json.loads(result.stdout)["findings"]}


def test_every_rule_fires_on_its_bad_case_and_nowhere_else(seeded):
    result = audit(seeded, "--format", "json")
    assert result.returncode == 1, result.stderr
    assert result.stderr == b""
    assert found(result) == EXPECTED
    assert {rule for rule, _ in EXPECTED} == set(rules.RULES)  # the seed covers every rule


def test_each_finding_says_the_risk_and_the_fix(seeded):
    findings = json.loads(audit(seeded, "--format", "json").stdout)["findings"]
    by_path = {(f["rule_id"], f["path"]): f for f in findings}
    overlap = by_path[(rules.POLICY_OVERLAP, "sys/policies/acl/team-tools")]
    assert "secret/data/app/production/db" in overlap["description"]
    assert 'capabilities = ["deny"]' in overlap["remediation"]
    prod = by_path[(rules.PRODUCTION_UNPROTECTED, "auth/jwt/role/deploy-prod")]
    assert "pipeline_source" in prod["description"] and "ref_protected" not in prod["description"]
    unset = by_path[(rules.LONG_TTL, "auth/jwt/role/ttl-unset")]
    assert "768 h" in unset["description"]  # no TTL anywhere: the system's maximum
    assert all(f["secret_type"] == "vault-config" and f["description"] and f["remediation"] for f in findings)


def test_a_higher_ttl_limit_drops_the_long_ttl_finding_but_not_the_unbounded_one(seeded):
    result = audit(seeded, "--format", "json", "--max-ttl", "7200")
    assert found(result) == EXPECTED - {(rules.LONG_TTL, "auth/jwt/role/long-ttl")}


@pytest.mark.parametrize("fmt", ["text", "csv", "markdown", "html"])
def test_the_reports_for_people_name_every_finding(seeded, fmt):
    result = audit(seeded, "--format", fmt)
    assert result.returncode == 1
    text = result.stdout.decode()
    for rule, path in EXPECTED:
        assert rule in text and path in text, (rule, path)


def test_the_json_report_follows_its_schema(seeded):
    import jsonschema

    from radar.report.json import SCHEMA_PATH

    document = json.loads(audit(seeded, "--format", "json").stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).validate(document)
    assert document["scan"]["kind"] == "vault" and document["scan"]["target"] == seeded.server.url
    assert document["summary"]["roles"] == 8 and document["summary"]["mounts"] == 3


def test_the_gitlab_report_is_valid_against_gitlabs_schema(seeded):
    document = json.loads(audit(seeded, "--format", "gitlab").stdout)
    assert [e.message for e in validator(GITLAB_SCHEMA).iter_errors(document)] == []
    assert {v["identifiers"][0]["value"] for v in document["vulnerabilities"]} == set(rules.RULES)


def test_the_sarif_report_is_valid_and_describes_each_rule(seeded, tmp_path):
    output = tmp_path / "audit.sarif"
    result = audit(seeded, "--format", "sarif", "--output", str(output))
    assert result.returncode == 1 and result.stdout == b""
    document = json.loads(output.read_text())
    assert [e.message for e in validator(SARIF_SCHEMA).iter_errors(document)] == []
    descriptors = {r["id"]: r for r in document["runs"][0]["tool"]["driver"]["rules"]}
    assert set(descriptors) == set(rules.RULES)
    for rule_id, rule in rules.RULES.items():
        assert descriptors[rule_id]["shortDescription"]["text"].rstrip(".") == rule.description
    # Microsoft's validator, with the notes the scan's SARIF accepts for the same reasons
    problems = [(r["ruleId"], r.get("level", "warning")) for r in sarif_validator_results(output, tmp_path / "v.sarif")
                if r.get("level", "warning") != "note" or r["ruleId"] not in ACCEPTED_NOTES]
    assert problems == []


def test_a_baseline_hides_known_findings_and_reports_new_ones(seeded, tmp_path):
    baseline = tmp_path / "audit-baseline.toml"
    created = radar("baseline", "create", str(baseline), "audit", "vault", env=seeded.env())
    assert created.returncode == 0, created.stderr
    assert_absent(seeded.secrets, created.stdout, created.stderr, baseline.read_bytes())
    known = audit(seeded, "--format", "json", "--baseline", str(baseline))
    assert known.returncode == 0 and found(known) == set()
    seeded.server.api("POST", "sys/policies/acl/late-writer",
                      {"policy": 'path "secret/data/app/staging/new" { capabilities = ["create"] }'})
    try:
        new = audit(seeded, "--format", "json", "--baseline", str(baseline))
        assert new.returncode == 1 and found(new) == {(rules.POLICY_WRITE, "sys/policies/acl/late-writer")}
    finally:
        seeded.server.api("DELETE", "sys/policies/acl/late-writer")


def test_what_the_token_may_not_read_is_named_and_the_audit_exits_2_after_its_report(seeded, tmp_path):
    output = tmp_path / "partial.json"
    result = audit(seeded, "--format", "json", "--output", str(output), token=seeded.partial_token)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert any("auth/jwt/role/long-ttl" in line and "permission denied" in line for line in lines), lines
    assert any("sys/policies/acl/writer" in line and "permission denied" in line for line in lines), lines
    assert lines[-1].startswith("radar: error: audit incomplete: 2 Vault paths could not be read")
    document = json.loads(output.read_text())
    assert document["scan"]["complete"] is False
    assert found_in(document) == EXPECTED - {(rules.LONG_TTL, "auth/jwt/role/long-ttl"),
                                             (rules.POLICY_WRITE, "sys/policies/acl/writer")}


def found_in(document: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["path"]) for f in document["findings"]}


def test_a_token_that_may_read_nothing_is_an_incomplete_audit(seeded):
    nothing = token_for(seeded.server, "default")
    result = audit(seeded, "--format", "json", token=nothing)
    assert_absent([nothing], result.stdout, result.stderr)
    assert result.returncode == 2
    assert b"cannot read sys/auth: permission denied" in result.stderr
    assert found(result) == set()


def test_no_token_is_one_error_line(seeded):
    result = radar("audit", "vault", env=clean_env(VAULT_ADDR=seeded.server.url))
    assert result.returncode == 2
    assert assert_one_line_error(result).startswith("radar: error: no Vault token: set VAULT_TOKEN to a token that "
                                                    "may read sys/auth")


def test_an_unknown_token_is_one_error_line_without_the_token(seeded):
    result = audit(seeded, token="s.not-a-real-token-1234567890")
    assert result.returncode == 2
    assert "refused VAULT_TOKEN" in assert_one_line_error(result, b"s.not-a-real-token-1234567890")


def test_an_unreachable_vault_is_one_error_line_within_the_timeout(tmp_path):
    from vault_fixtures import free_port

    env = clean_env(VAULT_ADDR=f"http://127.0.0.1:{free_port()}", VAULT_TOKEN="t0ken-never-shown")
    result = radar("audit", "vault", "--vault-timeout", "1", env=env)
    assert result.returncode == 2
    assert_absent([b"t0ken-never-shown"], result.stdout, result.stderr)
    *retries, error = result.stderr.decode().splitlines()
    assert error.startswith("radar: error: Vault at http://127.0.0.1:") and "unavailable" in error
    assert retries and all(line.startswith("radar: warning: GET sys/auth: unreachable") for line in retries)


def test_vault_namespace_is_the_one_audited(seeded):
    server = seeded.server
    server.api("POST", "sys/namespaces/team-audit", {})
    server.api("POST", "sys/auth/jwt", {"type": "jwt"}, namespace="team-audit")
    server.api("POST", "auth/jwt/role/team-role", {**GOOD_ROLE, "bound_claims": {"environment": "staging"}},
               namespace="team-audit")
    result = radar("audit", "vault", "--format", "json",
                   env=seeded.env(ROOT_TOKEN, VAULT_NAMESPACE="team-audit"))
    assert_absent(seeded.secrets, result.stdout, result.stderr)
    # the namespace's mount has no config yet (Vault answers 404): it logs nobody in, nothing to check there
    assert result.returncode == 1 and result.stderr == b""
    assert found(result) == {(rules.ANY_PROJECT, "auth/jwt/role/team-role")}


def test_the_readme_rule_table_lists_every_rule_with_its_severity():
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[2].strip()
            for line in README.read_text().splitlines() if line.startswith("| `vault-")}
    severities = {i.rule_id: i.severity for i in rules.audit(_one_of_each(), max_ttl=60)}
    assert rows == severities


def _one_of_each():
    """A configuration in which every rule fires once (the pure rules, without Vault)."""
    from radar.audit.vault_policy import PathRule
    from radar.audit.vault_read import JwtMount, JwtRole, Policy, VaultConfig

    mount = JwtMount("jwt", "jwt", 0, True, "", "http://gitlab.example.com/-/jwks")
    role = JwtRole("jwt", "deploy-prod", (), (("ref", ("*",)),), "glob", "", ("p",), 0, 0, 0)
    policies = (Policy("prod", (PathRule("secret/data/production/db", ("read",)),)),
                Policy("staging", (PathRule("secret/data/*", ("read", "update")),)))
    return VaultConfig((mount,), (role,), policies, ())
