"""`radar index vault` against a real OpenBao holding hundreds of secrets and versions (KV v2 with
deleted, destroyed, pruned and soft-deleted-latest versions; KV v1; namespaces; a path a policy
denies), then `radar scan --vault-index` of a real directory, a real git history and a fake
GitLab holding some of those values: which findings are marked `in_vault`, where, and whether
it is the latest version. The index must hold no value in any form.

Values are random per run; assertions compare digests and booleans, and failure messages name
Vault paths, never a value.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from git_repo import Repo
from gitlab_fake import TOKEN as GITLAB_TOKEN, FakeGitLab, Project, gitlab_server, variable  # noqa: F401
from radar.report.json import SCHEMA_PATH
from radar.scan.findings import FingerprintKey
from radar_cli import RADAR, WAIT, assert_absent, assert_one_line_error, clean_env
from report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator
from vault_fixtures import ROOT_TOKEN, BaoServer, mint_id_token, mount, public_pem, start_bao, stop_bao

KEY_TEXT = "vault-index-test-key"
KEY = FingerprintKey(KEY_TEXT.encode())
SERVICES = 120  # secrets under secret/apps/, 1 to 3 versions each
LEGACY = 30  # KV v1 secrets
RESTRICTED_POLICY = "index-restricted"
ROLE = "indexer"


def random_value(prefix: str = "s3cr3t-") -> str:
    """A value radar reports in an assignment: the digit in the prefix makes sure of it (the generic
    token rule wants one, and 24 random URL-safe characters lack any about once in 60)."""
    return prefix + secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Place:
    namespace: str
    mount: str
    path: str
    field: str
    version: int | None


@dataclass
class Vault:
    """The server, and what the test stored there (values by place; versions Vault no longer gives)."""

    server: BaoServer
    values: dict[Place, str] = field(default_factory=dict, repr=False)
    latest: dict[tuple[str, str, str], int] = field(default_factory=dict)  # KV v2 current version
    gone: set[tuple[str, str, str, int, bool]] = field(default_factory=set)  # ns, mount, path, version, destroyed
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __repr__(self) -> str:  # pytest shows fixtures' reprs: never the values
        return f"Vault({self.server.url}, {len(self.values)} values)"

    def api(self, method: str, path: str, body: dict | None = None, namespace: str = "") -> dict:
        headers = {"X-Vault-Token": ROOT_TOKEN}
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        url = f"{self.server.url}/v1/{quote(path, safe='/')}"
        response = self.session.request(method, url, json=body, headers=headers, timeout=WAIT)
        assert response.status_code in (200, 204), f"{method} {path}: HTTP {response.status_code}"
        return response.json() if response.content else {}

    def put(self, mount: str, path: str, data: dict, namespace: str = "") -> int:
        version = self.api("POST", f"{mount}/data/{path}", {"data": data}, namespace)["data"]["version"]
        for name, value in data.items():
            # Vault gives objects back with their keys sorted (Go's encoding/json).
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
            self.values[Place(namespace, mount, path, name, version)] = text
        self.latest[(namespace, mount, path)] = version
        return version

    def put_v1(self, mount: str, path: str, data: dict[str, str], namespace: str = "") -> None:
        self.api("POST", f"{mount}/{path}", data, namespace)
        for name, value in data.items():
            self.values[Place(namespace, mount, path, name, None)] = value

    def forget(self, mount: str, path: str, version: int, *, destroyed: bool, namespace: str = "") -> None:
        for place in [p for p in self.values if (p.namespace, p.mount, p.path, p.version) == (namespace, mount, path, version)]:
            del self.values[place]
        self.gone.add((namespace, mount, path, version, destroyed))

    def delete(self, mount: str, path: str, version: int, namespace: str = "") -> None:
        self.api("POST", f"{mount}/delete/{path}", {"versions": [version]}, namespace)
        self.forget(mount, path, version, destroyed=False, namespace=namespace)

    def destroy(self, mount: str, path: str, version: int, namespace: str = "") -> None:
        self.api("POST", f"{mount}/destroy/{path}", {"versions": [version]}, namespace)
        self.forget(mount, path, version, destroyed=True, namespace=namespace)

    def value(self, namespace: str, mount: str, path: str, name: str, version: int | None) -> str:
        return self.values[Place(namespace, mount, path, name, version)]

    def is_latest(self, place: Place) -> bool:
        return place.version is None or self.latest[(place.namespace, place.mount, place.path)] == place.version


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def service_account_json(pem: str) -> str:
    return json.dumps({
        "type": "service_account", "project_id": "billing-prod-31337", "private_key_id": secrets.token_hex(20),
        "private_key": pem, "client_email": "ci@billing-prod-31337.iam.gserviceaccount.com",
    }, indent=2) + "\n"


@pytest.fixture(scope="module")
def vault(tmp_path_factory) -> Vault:
    server = start_bao(tmp_path_factory.mktemp("bao-index"))
    try:
        v = Vault(server)
        for i in range(SERVICES):
            for _ in range(1 + i % 3):
                data = {"password": random_value()}
                if i % 10 == 0:
                    data["username"] = f"svc-{i}"
                v.put("secret", f"apps/svc{i:03d}", data)
        v.put("secret", "apps/config", {"port": 5432, "enabled": True, "pool": {"min": 1, "max": [4, 8]}})
        # A soft-deleted latest version: the older one is still given out, and is not the latest.
        v.put("secret", "apps/rotated", {"token": random_value()})
        v.put("secret", "apps/rotated", {"token": random_value()})
        v.delete("secret", "apps/rotated", 2)
        # An old destroyed version and an old deleted one below a live latest.
        for _ in range(3):
            v.put("secret", "apps/churn", {"token": random_value()})
        v.destroy("secret", "apps/churn", 1)
        v.delete("secret", "apps/churn", 2)
        # More versions than Vault keeps (10): the first two are gone for good, one kept is destroyed.
        for _ in range(12):
            v.put("secret", "apps/many", {"token": random_value()})
        for version in (1, 2):
            v.forget("secret", "apps/many", version, destroyed=True)
            v.gone.discard(("", "secret", "apps/many", version, True))  # pruned: not even listed
        v.destroy("secret", "apps/many", 5)
        v.put("secret", "certs/tls", {"key": private_key_pem()})
        v.put("secret", "gcp/billing", {"credentials": service_account_json(private_key_pem())})
        v.put("secret", "odd names/a?b#c", {"token": random_value()})
        v.put("secret", "restricted/payroll", {"password": random_value()})
        mount(server, "legacy", 1)
        for i in range(LEGACY):
            v.put_v1("legacy", f"ci/token{i:02d}", {"token": random_value("l3gacy-")})
        v.api("POST", "sys/namespaces/team-a", {})
        v.api("POST", "sys/namespaces/child", {}, "team-a/")
        mount(server, "ops", 2, namespace="team-a/")
        v.put("ops", "db", {"password": random_value()}, "team-a/")
        mount(server, "kv", 2, namespace="team-a/child/")
        v.put("kv", "deep/thing", {"api_key": random_value()}, "team-a/child/")
        # What a token for a team sees: no sys/mounts, no namespaces, and one folder denied.
        v.api("PUT", f"sys/policies/acl/{RESTRICTED_POLICY}", {"policy": """
            path "secret/metadata/*" { capabilities = ["list", "read"] }
            path "secret/data/*" { capabilities = ["read"] }
            path "secret/data/restricted/*" { capabilities = ["deny"] }
            path "legacy/*" { capabilities = ["list", "read"] }
        """})
        yield v
    finally:
        stop_bao(server)


def env(vault: Vault, **extra: str) -> dict[str, str]:
    return clean_env(**{"VAULT_ADDR": vault.server.url, "VAULT_TOKEN": ROOT_TOKEN, "RADAR_FINGERPRINT_KEY": KEY_TEXT,
                        **extra})


class Run(subprocess.CompletedProcess):
    """A finished radar whose repr shows no output (pytest prints reprs when an assertion fails)."""

    def __repr__(self) -> str:
        return f"Run(returncode={self.returncode}, stderr=<{len(self.stderr)} bytes>)"


def radar(*args: str | os.PathLike[str], env: dict[str, str]) -> Run:
    done = subprocess.run([*RADAR, *map(os.fspath, args)], capture_output=True, env=env, timeout=120)
    return Run(done.args, done.returncode, done.stdout, done.stderr)


def explain(vault: Vault, result: Run) -> str:
    """radar's stderr for an assertion message, every stored value and the token blotted out."""
    text = result.stderr.decode(errors="replace").replace(ROOT_TOKEN, "<token>")
    for value in vault.values.values():
        text = text.replace(value, "<value>")
    return text


def assert_no_value(vault: Vault, data: bytes, where: str) -> None:
    """No stored value, nor its base64, hex or JSON-escaped form, nor the token, in `data`."""
    for place, value in vault.values.items():
        raw = value.encode()
        forms = {raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw), raw.hex().encode(),
                 json.dumps(value)[1:-1].encode()}
        # A key leaks as soon as one line of its body does.
        forms |= {line.encode() for line in value.splitlines() if len(line) >= 32 and "-----" not in line}
        leaked = any(form in data for form in forms if len(form) >= 8)
        assert not leaked, f"the value of {place.namespace}{place.mount}/{place.path}#{place.field} is in {where}"
    assert_absent([ROOT_TOKEN], data, message=f"the Vault token is in {where}")


def read_index(path: Path) -> tuple[dict, list[dict]]:
    header, *entries = (json.loads(line) for line in path.read_text().splitlines())
    return header, entries


@pytest.fixture(scope="module")
def index(vault, tmp_path_factory) -> tuple[Path, Run]:
    out = tmp_path_factory.mktemp("index") / "vault.index"
    result = radar("index", "vault", "--output", out, "-v", env=env(vault))
    assert result.returncode == 0, explain(vault, result)
    return out, result


# --- the index -----------------------------------------------------------------------------------

def test_every_readable_version_of_every_field_is_indexed_with_its_place(vault, index):
    _, entries = read_index(index[0])
    got = {(e["digest"], e["namespace"], e["mount"], e["path"], e["field"], e["version"], e["latest"])
           for e in entries if e["form"] == "value"}
    expected = {(KEY.fingerprint(value), p.namespace, p.mount, p.path, p.field, p.version, vault.is_latest(p))
                for p, value in vault.values.items()}
    assert len(expected) > 300  # hundreds of secrets and versions
    missing = sorted(f"{e[1]}{e[2]}/{e[3]}#{e[4]} v{e[5]}" for e in expected - got)
    extra = sorted(f"{e[1]}{e[2]}/{e[3]}#{e[4]} v{e[5]}" for e in got - expected)
    assert not missing and not extra, f"missing {missing[:5]}, unexpected {extra[:5]}"


def test_deleted_and_destroyed_versions_are_listed_without_a_digest(vault, index):
    _, entries = read_index(index[0])
    gone = {(e["namespace"], e["mount"], e["path"], e["version"], e["destroyed"])
            for e in entries if e["digest"] is None}
    assert gone == vault.gone
    for e in entries:
        if e["digest"] is None:
            assert e["field"] is None and e["form"] is None and e["deleted"] != e["destroyed"]
        else:
            assert not e["deleted"] and not e["destroyed"]


def test_a_soft_deleted_latest_leaves_no_readable_version_latest(vault, index):
    _, entries = read_index(index[0])
    rotated = [e for e in entries if e["path"] == "apps/rotated"]
    assert {(e["version"], e["latest"], e["digest"] is None) for e in rotated} == {(1, False, False), (2, True, True)}


def test_kv_v1_values_have_no_version_and_are_latest(vault, index):
    _, entries = read_index(index[0])
    legacy = [e for e in entries if e["mount"] == "legacy"]
    assert len({e["path"] for e in legacy}) == LEGACY
    assert all(e["version"] is None and e["latest"] for e in legacy)


def test_the_header_names_the_key_the_server_and_the_namespaces_walked(vault, index):
    header, entries = read_index(index[0])
    assert header["radar_vault_index"] == 1
    assert header["key_id"] == KEY.key_id
    assert header["vault"] == vault.server.url
    assert header["namespaces"] == ["", "team-a/", "team-a/child/"]
    assert {(m["namespace"], m["mount"], m["kv_version"]) for m in header["mounts"]} == {
        ("", "secret", 2), ("", "legacy", 1), ("team-a/", "ops", 2), ("team-a/child/", "kv", 2)}
    assert header["complete"] is True and header["unreadable"] == 0
    assert header["entries"] == len(entries)
    assert header["values"] == len(vault.values)


def test_the_index_is_private_and_holds_no_value_nor_the_token(vault, index):
    path, result = index
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert_no_value(vault, path.read_bytes(), "the index")
    # -v logs every request: paths and statuses only.
    assert b"list secret/metadata/apps/" in result.stderr
    assert_no_value(vault, result.stdout + result.stderr, "radar's output")


def test_a_multi_line_value_is_hashed_as_files_hold_it(vault, index):
    _, entries = read_index(index[0])
    forms = {e["form"] for e in entries if e["path"] == "certs/tls"}
    assert {"value", "trimmed", "crlf", "json-escaped", "indented-2", "indented-4"} <= forms


# --- what the token may not do -------------------------------------------------------------------

def restricted_token(vault: Vault) -> str:
    return vault.api("POST", "auth/token/create", {"policies": [RESTRICTED_POLICY], "ttl": "10m"})["auth"]["client_token"]


def test_what_the_token_may_not_read_is_named_and_the_rest_is_indexed(vault, tmp_path):
    token = restricted_token(vault)
    out = tmp_path / "partial.index"
    result = radar("index", "vault", "--output", out, env=env(vault, VAULT_TOKEN=token))
    assert result.returncode == 2, explain(vault, result)
    lines = result.stderr.decode().splitlines()
    assert "radar: warning: cannot read sys/namespaces (child namespaces): permission denied" in lines
    assert "radar: warning: cannot read secret/data/restricted/payroll: permission denied" in lines
    assert lines[-1].startswith("radar: error: index incomplete: 2 thing(s) could not be read")
    assert_absent([token], result.stdout + result.stderr, message="the Vault token is in radar's output")
    # Written all the same, saying so; sys/internal/ui/mounts showed the mounts sys/mounts would not.
    header, entries = read_index(out)
    assert header["complete"] is False and header["unreadable"] == 2
    assert header["namespaces"] == [""]
    assert {m["mount"] for m in header["mounts"]} == {"secret", "legacy"}
    assert not [e for e in entries if e["path"].startswith("restricted/")]
    assert {e["path"] for e in entries if e["mount"] == "secret"} == {
        p.path for p in vault.values if p.mount == "secret" and p.namespace == "" and not p.path.startswith("restricted/")}


def test_allow_partial_exits_0_but_still_warns(vault, tmp_path):
    result = radar("index", "vault", "--output", tmp_path / "partial.index", "--allow-partial",
                   env=env(vault, VAULT_TOKEN=restricted_token(vault)))
    assert result.returncode == 0, explain(vault, result)
    assert result.stderr.decode().count("radar: warning: cannot read") == 2


def test_mount_and_path_limit_the_walk(vault, tmp_path):
    out = tmp_path / "some.index"
    result = radar("index", "vault", "--output", out, "--mount", "legacy", "--path", "secret/apps/svc007",
                   "--path", "ops/", env=env(vault))
    assert result.returncode == 0, explain(vault, result)
    _, entries = read_index(out)
    assert {(e["namespace"], e["mount"]) for e in entries} == {("", "legacy"), ("", "secret"), ("team-a/", "ops")}
    assert {e["path"] for e in entries if e["mount"] == "secret"} == {"apps/svc007"}


def test_a_mount_that_is_nowhere_is_named(vault, tmp_path):
    result = radar("index", "vault", "--output", tmp_path / "none.index", "--mount", "nosuch", env=env(vault))
    assert result.returncode == 2
    assert "radar: warning: cannot read --mount nosuch: no key/value mount of that name in any namespace walked" \
        in result.stderr.decode().splitlines()


def test_a_ci_job_can_index_with_its_id_token(vault, tmp_path, id_token_key):
    vault.api("POST", "sys/auth/jwt", {"type": "jwt"})
    vault.api("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [public_pem(id_token_key)],
                                          "bound_issuer": "https://gitlab.example.com"})
    # A reader of everything (in child namespaces too: "*" matches their paths from the root).
    vault.api("PUT", "sys/policies/acl/index-all", {"policy": 'path "*" { capabilities = ["list", "read"] }'})
    vault.api("POST", f"auth/jwt/role/{ROLE}", {
        "role_type": "jwt", "policies": ["index-all"], "token_explicit_max_ttl": 60, "user_claim": "user_email",
        "bound_audiences": "https://vault.example.com", "bound_claims": {"project_id": "42"},
    })
    jwt = mint_id_token(id_token_key)
    out = tmp_path / "ci.index"
    result = radar("index", "vault", "--output", out, "--id-token", "VAULT_ID_TOKEN", "--mount", "legacy",
                   env=env(vault, VAULT_TOKEN="", VAULT_ID_TOKEN=jwt, VAULT_AUTH_ROLE=ROLE))
    assert result.returncode == 0, explain(vault, result)
    assert jwt.encode() not in result.stdout + result.stderr
    _, entries = read_index(out)
    assert len({e["path"] for e in entries}) == LEGACY


@pytest.mark.parametrize("variables, message", [
    ({"VAULT_TOKEN": ""}, "radar: error: no Vault token: set VAULT_TOKEN"),
    ({"VAULT_TOKEN": "s.not-a-token-vault-knows"}, "radar: error: Vault refused the token: even sys/internal/ui/mounts"),
    ({"VAULT_ADDR": ""}, "radar: error: no Vault address: set VAULT_ADDR (or VAULT_SERVER_URL)"),
    ({"VAULT_NAMESPACE": "nope"}, "radar: error: Vault namespace not found: VAULT_NAMESPACE=nope"),
])
def test_what_is_missing_is_one_line_and_status_2(vault, tmp_path, variables, message):
    out = tmp_path / "x.index"
    result = radar("index", "vault", "--output", out, env=env(vault, **variables))
    assert result.returncode == 2
    assert assert_one_line_error(result, ROOT_TOKEN.encode(), b"not-a-token").startswith(message)
    assert not out.exists()


def test_an_unreachable_vault_is_an_error_with_status_2_not_1(vault, tmp_path):
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    result = radar("index", "vault", "--output", tmp_path / "x.index", "--vault-timeout", "1",
                   env=env(vault, VAULT_ADDR=f"http://127.0.0.1:{closed}"))
    assert result.returncode == 2
    stderr = result.stderr.decode()
    # Each retry is a warning, as for radar exec; the error is the last line, and no traceback.
    assert stderr.splitlines()[-1].startswith(f"radar: error: Vault at http://127.0.0.1:{closed} is unavailable: "
                                              f"unreachable (connection refused); gave up after")
    assert "Traceback" not in stderr


# --- scans ---------------------------------------------------------------------------------------

def yaml_block(pem: str) -> str:
    return "tls:\n  key: |\n" + "".join(f"    {line}\n" for line in pem.strip().splitlines())


@pytest.fixture(scope="module")
def tree(vault, tmp_path_factory) -> Path:
    """A directory holding some of Vault's values (latest, old, KV v1, namespaced, a PEM key in
    three shapes, a service-account file) and one value Vault never had."""
    root = tmp_path_factory.mktemp("tree")
    pem = vault.value("", "secret", "certs/tls", "key", 1)
    files = {
        "latest.env": f'DB_PASSWORD="{vault.value("", "secret", "apps/svc002", "password", 3)}"\n',
        "old.env": f'DB_PASSWORD="{vault.value("", "secret", "apps/svc005", "password", 1)}"\n',
        "rotated.env": f'API_TOKEN="{vault.value("", "secret", "apps/rotated", "token", 1)}"\n',
        "legacy.env": f'CI_TOKEN="{vault.value("", "legacy", "ci/token03", "token", None)}"\n',
        "team.env": f'OPS_DB_PASSWORD="{vault.value("team-a/", "ops", "db", "password", 1)}"\n',
        "elsewhere.env": f'SMTP_PASSWORD="{random_value()}"\n',
        "keys/tls.pem": pem,
        "keys/tls.json": json.dumps({"key": pem}) + "\n",
        "chart/values.yaml": yaml_block(pem),
        "gcp/billing.json": vault.value("", "secret", "gcp/billing", "credentials", 1),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root  # not the files' texts: pytest shows a failing test's arguments


def scan(target: Path, index: Path, vault: Vault, *args: str, env_extra: dict[str, str] | None = None) -> Run:
    result = radar("scan", target, "--vault-index", index, "--jobs", "1", *args, env=env(vault, **(env_extra or {})))
    assert result.returncode in (0, 1), explain(vault, result)
    assert_no_value(vault, result.stdout + result.stderr, "the scan's output")
    return result


def by_path(report: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for f in report["findings"]:
        found.setdefault(f["path"], []).append(f)
    return found


@pytest.fixture(scope="module")
def directory_report(vault, index, tree) -> dict:
    report = json.loads(scan(tree, index[0], vault, "--format", "json").stdout)
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))
    return report


def place(namespace: str, mount: str, path: str, field_name: str, version: int | None, latest: bool) -> dict:
    return {"namespace": namespace, "mount": mount, "path": path, "field": field_name, "version": version,
            "latest": latest}


@pytest.mark.parametrize("name, places", [
    ("latest.env", [place("", "secret", "apps/svc002", "password", 3, True)]),
    ("old.env", [place("", "secret", "apps/svc005", "password", 1, False)]),
    ("rotated.env", [place("", "secret", "apps/rotated", "token", 1, False)]),
    ("legacy.env", [place("", "legacy", "ci/token03", "token", None, True)]),
    ("team.env", [place("team-a/", "ops", "db", "password", 1, True)]),
    ("keys/tls.pem", [place("", "secret", "certs/tls", "key", 1, True)]),
    ("keys/tls.json", [place("", "secret", "certs/tls", "key", 1, True)]),
    ("chart/values.yaml", [place("", "secret", "certs/tls", "key", 1, True)]),
    ("gcp/billing.json", [place("", "secret", "gcp/billing", "credentials", 1, True)]),
])
def test_a_finding_whose_value_vault_holds_is_marked_with_its_place(directory_report, name, places):
    [finding] = by_path(directory_report)[name]
    assert finding.get("in_vault") == places, finding["rule_id"]


def test_a_value_vault_never_had_is_not_marked(directory_report):
    [finding] = by_path(directory_report)["elsewhere.env"]
    assert "in_vault" not in finding


def test_every_format_says_where_vault_holds_it(vault, index, tree):
    root = tree
    text = scan(root, index[0], vault, "--format", "text").stdout.decode()
    lines = {line.split(":", 1)[0]: line for line in text.splitlines()}
    assert lines["latest.env"].endswith("in Vault (latest)")
    assert lines["old.env"].endswith("in Vault (old version)")
    assert "in Vault" not in lines["elsewhere.env"]

    rows = {row["path"]: row for row in __import__("csv").DictReader(
        scan(root, index[0], vault, "--format", "csv").stdout.decode().splitlines())}
    assert rows["old.env"]["in_vault"] == "secret/apps/svc005#password v1"
    assert rows["team.env"]["in_vault"] == "team-a/ops/db#password v1 (latest)"
    assert rows["elsewhere.env"]["in_vault"] == ""

    sarif = json.loads(scan(root, index[0], vault, "--format", "sarif").stdout)
    validator(SARIF_SCHEMA).validate(sarif)
    results = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in sarif["runs"][0]["results"]}
    assert results["legacy.env"]["properties"]["inVault"] == [place("", "legacy", "ci/token03", "token", None, True)]
    assert "inVault" not in results["elsewhere.env"]["properties"]

    gitlab = json.loads(scan(root, index[0], vault, "--format", "gitlab").stdout)
    validator(GITLAB_SCHEMA).validate(gitlab)
    vulnerabilities = {v["location"]["file"]: v for v in gitlab["vulnerabilities"]}
    latest = vulnerabilities["latest.env"]
    assert latest["details"]["in_vault"]["items"] == [{"type": "text", "value": "secret/apps/svc002#password v3 (latest)"}]
    assert "In Vault: `secret/apps/svc002#password v3 (latest)`." in latest["description"]
    assert "in_vault" not in vulnerabilities["elsewhere.env"]["details"]

    markdown = scan(root, index[0], vault, "--format", "markdown").stdout.decode()
    assert "in Vault (latest)" in markdown and "in Vault (old version)" in markdown


def test_a_history_scan_marks_old_and_latest_values(vault, index, tmp_path):
    repo = Repo(tmp_path / "repo")
    old = vault.value("", "secret", "apps/svc008", "password", 1)
    new = vault.value("", "secret", "apps/svc008", "password", 3)
    repo.write("app.env", f'DB_PASSWORD="{old}"\n')
    repo.commit("first")
    repo.write("app.env", f'DB_PASSWORD="{new}"\n')
    repo.commit("rotate")
    report = json.loads(scan(repo.path, index[0], vault, "--history", "--format", "json").stdout)
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))
    marks = {(f["in_head"], tuple((p["version"], p["latest"]) for p in f["in_vault"])) for f in report["findings"]}
    assert marks == {(False, ((1, False),)), (True, ((3, True),))}


def test_a_gitlab_scan_marks_a_variable_that_vault_holds(vault, index, gitlab_server):
    value = vault.value("", "secret", "apps/svc011", "password", 3)
    gitlab_server.projects = [Project(10, "acme/api", variables=[variable("DB_PASSWORD", value),
                                                                variable("OTHER_PASSWORD", random_value())])]
    result = radar("scan", "gitlab", "--url", gitlab_server.url, "--project", "acme/api", "--vault-index", index[0],
                   "--format", "json", "--jobs", "1", env=env(vault, GITLAB_TOKEN=GITLAB_TOKEN))
    assert result.returncode == 1, explain(vault, result)
    assert_no_value(vault, result.stdout + result.stderr, "the GitLab scan's output")
    marked = {(f["key"], f["rule_id"], bool(f.get("in_vault"))) for f in json.loads(result.stdout)["findings"]}
    assert {key for key, _, in_vault in marked if in_vault} == {"DB_PASSWORD"}
    for f in json.loads(result.stdout)["findings"]:
        if f["key"] == "DB_PASSWORD":
            assert f["in_vault"] == [place("", "secret", "apps/svc011", "password", 3, True)]


def test_an_index_made_with_another_key_is_refused_before_the_scan(vault, index, tree):
    result = radar("scan", tree, "--vault-index", index[0], "--format", "json",
                   env=env(vault, RADAR_FINGERPRINT_KEY="another key"))
    assert result.returncode == 2 and result.stdout == b""
    other = FingerprintKey(b"another key").key_id
    message = assert_one_line_error(result)
    assert f"made with the fingerprint key {KEY.key_id}, but this scan's key is {other}" in message


def test_a_scan_with_an_incomplete_index_says_so(vault, tree, tmp_path):
    out = tmp_path / "partial.index"
    radar("index", "vault", "--output", out, "--allow-partial", env=env(vault, VAULT_TOKEN=restricted_token(vault)))
    result = scan(tree, out, vault, "--format", "json")
    warning = (f"radar: warning: Vault index {out} is incomplete: 2 thing(s) could not be read when it was made; "
               f"a value stored there is not marked in_vault")
    assert warning in result.stderr.decode().splitlines()
    assert any("is incomplete" in w for w in [m["value"] for m in json.loads(
        scan(tree, out, vault, "--format", "gitlab").stdout)["scan"].get("messages", [])])


def test_radar_plan_reads_a_report_with_in_vault_back(vault, index, tree, tmp_path):
    report = tmp_path / "report.json"
    report.write_bytes(scan(tree, index[0], vault, "--format", "json").stdout)
    result = radar("plan", report, "--project", "g/app", "--project-id", "42", "--format", "json", env=env(vault))
    assert result.returncode == 0, explain(vault, result)
    assert_no_value(vault, result.stdout + result.stderr, "the plan")


# --- a hostile server ----------------------------------------------------------------------------

def test_a_hostile_server_cannot_make_the_walk_endless_or_leave_the_mount(tmp_path):
    """Every folder holds a folder (forever), `..`, a name with a slash and one secret: the walk
    stops at the depth bound with a warning, refuses the odd names, and asks for no other path."""
    from vault_fakes import ScriptedServer, response

    def behave(server, conn, request) -> bool:
        path = request.target.split("?", 1)[0]
        if request.method == "GET" and path == "/v1/sys/mounts":
            body = {"data": {"secret/": {"type": "kv", "options": {"version": "2"}}, "sys/": {"type": "system"}}}
        elif request.method == "LIST" and path.startswith("/v1/secret/metadata/"):
            body = {"data": {"keys": ["a/", "../", "x/y", "good"]}}
        elif request.method == "GET" and path.startswith("/v1/secret/data/") and path.endswith("/good"):
            body = {"data": {"data": {"k": "a value"}, "metadata": {"version": 1}}}
        else:
            conn.sendall(response(404, b'{"errors": []}'))
            return True
        conn.sendall(response(200, json.dumps(body).encode()))
        return True

    server = ScriptedServer(behave)
    try:
        out = tmp_path / "hostile.index"
        result = radar("index", "vault", "--output", out, "--vault-timeout", "60",
                       env=clean_env(VAULT_ADDR=server.url, VAULT_TOKEN="t0k3n", RADAR_FINGERPRINT_KEY=KEY_TEXT))
        targets = [r.target for r in server.requests]
    finally:
        server.close()
    assert result.returncode == 2, result.stderr[-300:]
    warnings = result.stderr.decode().splitlines()
    assert sum("folders nested over 64 deep" in w for w in warnings) == 1
    assert sum(w.endswith("../: not a key name radar reads") for w in warnings) == 64
    assert sum(w.endswith("x/y: not a key name radar reads") for w in warnings) == 64
    assert not [t for t in targets if "/../" in t or "%2E" in t.upper() or "x/y" in t], "a path outside the folders"
    assert len(targets) <= 2 + 2 * 64 + 1  # mounts, namespaces, then a list and a read per level
    header, entries = read_index(out)
    assert header["complete"] is False and len({e["path"] for e in entries}) == 64


def test_the_monitor_ladder_ranks_history_by_what_vault_still_holds(vault, index, tmp_path):
    """radar monitor --vault-index: none of these values is in HEAD; the one Vault serves as its
    latest version is critical, the one only an older version holds is high, the one Vault never
    had is medium; --fail-severity high fails for the first two only."""
    repo = Repo(tmp_path / "repo")
    old = vault.value("", "secret", "apps/svc008", "password", 1)
    latest = vault.value("", "secret", "apps/svc008", "password", 3)
    repo.write("app.env", f'DB_PASSWORD="{old}"\n')
    repo.write("other.env", f'DB_PASSWORD="{random_value()}"\n')
    repo.commit("first")
    repo.write("app.env", f'DB_PASSWORD="{latest}"\n')
    repo.commit("rotate")
    repo.git("rm", "-q", "app.env", "other.env")
    repo.commit("to Vault")
    state = tmp_path / "state.toml"
    result = radar("monitor", "--state", state, "--fail-severity", "high", repo.path, "--history", "--vault-index",
                   index[0], "--format", "json", "--jobs", "1", env=env(vault))
    assert result.returncode == 1, explain(vault, result)
    assert_no_value(vault, result.stdout + result.stderr + state.read_bytes(), "the monitor's output and state")
    report = json.loads(result.stdout)
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))
    levels = sorted((f["severity"], tuple((p["version"], p["latest"]) for p in f.get("in_vault", [])))
                    for f in report["findings"])
    assert levels == [("critical", ((3, True),)), ("high", ((1, False),)), ("medium", ())]
    assert "2 new finding(s) at severity high or above" in result.stderr.decode()
