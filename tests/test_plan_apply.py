"""`radar plan --output-dir DIR`, then `bash DIR/apply.sh` against a real OpenBao.

A repository with a production password and a staging token is scanned; `radar plan` writes its
files for a GitLab at a local address whose only page is the JWKS (`/oauth/discovery/keys`, as
GitLab serves it: a small fake, the one part that is not real). OpenBao starts with a file audit
device in its configuration (it refuses to enable one by API). apply.sh, run with `bao` as its
CLI, must refuse while a value file is missing (changing nothing), then set everything up as the
plan says, change nothing on a second run, and let a job's ID token log in and read the value
written from its file. The Markdown plan without `--output-dir`, its commands pasted as they are,
must do the same. Values are compared by SHA-256; none is ever printed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from radar_cli import RADAR, WAIT, assert_absent, clean_env
from vault_fixtures import ROOT_TOKEN, bao_binary, mint_id_token, random_value, sha256, start_bao, stop_bao

PROJECT, PROJECT_ID, MOUNT = "mygroup/myproject", "42", "plan-files"
AUDIENCE = "https://vault.example.com"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class GitLabKeys:
    """GitLab's JWKS endpoint, `GET /oauth/discovery/keys`, for one signing key (kid radar-test)."""

    def __init__(self, key) -> None:
        numbers = key.public_key().public_numbers()
        body = json.dumps({"keys": [{"kty": "RSA", "kid": "radar-test", "use": "sig", "alg": "RS256",
                                     "n": _b64(numbers.n), "e": _b64(numbers.e)}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                found = self.path == "/oauth/discovery/keys"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if found else 2))
                self.end_headers()
                self.wfile.write(body if found else b"{}")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Planned:
    """The scanned repository's plan, its directory, and the planted values (kept out of reprs)."""

    def __init__(self, directory: Path, plan: dict, values: dict[str, str], gitlab: str, markdown: str) -> None:
        self.directory, self.plan, self._values, self.gitlab = directory, plan, values, gitlab
        self.markdown = markdown  # the same plan without --output-dir

    def value(self, planted: str) -> str:
        return self._values[planted]

    def all_values(self) -> list[str]:
        return list(self._values.values())

    def value_files(self) -> dict[str, str]:
        """value file name -> the planted value that belongs in it."""
        by_path = {"config/production.yml": "password", ".env.staging": "staging"}
        out = {}
        for write in self.plan["writes"]:
            for field, name in write["files"].items():
                entry = next(e for e in self.plan["entries"] if e["path"] == write["path"] and e["field"] == field)
                out[name] = self.value(by_path[entry["places"][0]["path"]])
        return out

    def __repr__(self) -> str:
        return f"Planned({self.directory})"


@pytest.fixture(scope="module")
def gitlab(id_token_key):
    keys = GitLabKeys(id_token_key)
    yield keys
    keys.close()


@pytest.fixture(scope="module")
def planned(tmp_path_factory, gitlab) -> Planned:
    root = tmp_path_factory.mktemp("apply-repo")
    values = {"password": random_value() + "Zq9", "staging": random_value() + "Kx7"}
    (root / "config").mkdir()
    (root / "config" / "production.yml").write_text(f"database:\n  password: \"{values['password']}\"\n")
    (root / ".env.staging").write_text(f"API_TOKEN={values['staging']}\n")
    findings, plan_json = root.parent / "apply-findings.json", root.parent / "apply-plan.json"
    directory = root.parent / "apply-out"
    env = clean_env(RADAR_FINGERPRINT_KEY="plan-apply")
    scan = subprocess.run([*RADAR, "scan", str(root), "--format", "json", "--output", str(findings)],
                          capture_output=True, timeout=WAIT, env=env)
    assert scan.returncode == 1, scan.stderr.decode()
    result = subprocess.run(
        [*RADAR, "plan", str(findings), "--format", "json", "--output", str(plan_json), "--output-dir", str(directory),
         "--project", PROJECT, "--project-id", PROJECT_ID, "--mount", MOUNT, "--gitlab-url", gitlab.url],
        capture_output=True, timeout=WAIT, env=env)
    assert result.returncode == 0, result.stderr.decode()
    written = b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())
    assert_absent([v.encode() for v in values.values()], written, result.stdout, result.stderr)
    plan = json.loads(plan_json.read_text())
    assert {t["environment"] for t in plan["targets"]} == {"production", "staging"}
    markdown = subprocess.run(
        [*RADAR, "plan", str(findings), "--project", PROJECT, "--project-id", PROJECT_ID, "--mount", MOUNT,
         "--gitlab-url", gitlab.url], capture_output=True, timeout=WAIT, env=env)
    assert markdown.returncode == 0, markdown.stderr.decode()
    return Planned(directory, plan, values, gitlab.url, markdown.stdout.decode())


@pytest.fixture
def bao(tmp_path):
    audit = tmp_path / "audit.log"
    server = start_bao(tmp_path / "bao", config=f'audit "file" "ops-audit" {{\n  options {{\n'
                                                  f'    file_path = "{audit}"\n  }}\n}}\n')
    yield server
    stop_bao(server)


def apply(planned: Planned, server, values: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": os.environ["PATH"], "HOME": str(planned.directory), "VAULT_CLI": bao_binary(),
           "BAO_ADDR": server.url, "BAO_TOKEN": ROOT_TOKEN}
    if values is not None:
        env["RADAR_VALUES_DIR"] = str(values)
    return subprocess.run(["bash", str(planned.directory / "apply.sh")], capture_output=True, timeout=WAIT,
                          env=env, cwd="/")


def write_values(planned: Planned, directory: Path) -> None:
    directory.mkdir(exist_ok=True)
    for name, value in planned.value_files().items():
        fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)


def state(planned: Planned, server) -> dict:
    """What the plan sets up, as OpenBao reports it."""
    auth = planned.plan["plan"]["auth_path"]
    snapshot = {
        "auth": {k: v["type"] for k, v in server.api("GET", "sys/auth")["data"].items()},
        "config": {k: server.api("GET", f"auth/{auth}/config")["data"][k] for k in ("jwks_url", "bound_issuer")},
        "mount": server.api("GET", f"sys/mounts/{MOUNT}")["data"]["options"],
        "mount_type": server.api("GET", f"sys/mounts/{MOUNT}")["data"]["type"],
        "audit": {k: v["type"] for k, v in server.api("GET", "sys/audit")["data"].items()},
    }
    for t in planned.plan["targets"]:
        snapshot[f"policy {t['policy_name']}"] = server.api("GET", f"sys/policies/acl/{t['policy_name']}")["data"]["policy"]
        role = server.api("GET", f"auth/{auth}/role/{t['role_name']}")["data"]
        snapshot[f"role {t['role_name']}"] = {k: role[k] for k in t["role"]}
    for w in planned.plan["writes"]:
        metadata = server.api("GET", f"{w['mount']}/metadata/{w['path']}")["data"]
        snapshot[f"versions {w['path']}"] = (metadata["current_version"], sorted(metadata["versions"]))
    return snapshot


def test_apply_refuses_while_a_value_file_is_missing_and_changes_nothing(planned, bao, tmp_path):
    values = tmp_path / "values"
    write_values(planned, values)
    missing = sorted(planned.value_files())[0]
    (values / missing).unlink()
    result = apply(planned, bao, values)
    assert result.returncode == 1
    assert f"missing or empty value file {values}/{missing}".encode() in result.stderr, result.stderr[-600:]
    assert result.stderr.rstrip().endswith(b"no change made: write the value files above, then run again")
    assert "jwt/" not in bao.api("GET", "sys/auth")["data"]
    assert_absent(planned.all_values(), result.stdout + result.stderr)


def test_apply_sets_up_vault_as_planned_and_a_second_run_changes_nothing(planned, bao, id_token_key, tmp_path):
    values = tmp_path / "values"
    write_values(planned, values)
    first = apply(planned, bao, values)
    assert first.returncode == 0, first.stderr[-800:]
    after = state(planned, bao)
    assert_as_planned(planned, after)

    second = apply(planned, bao, values)
    assert second.returncode == 0, second.stderr[-800:]
    assert state(planned, bao) == after
    # Once the value files are deleted, as the plan says, a run keeps what Vault holds.
    for name in planned.value_files():
        (values / name).unlink()
    third = apply(planned, bao, values)
    assert third.returncode == 0, third.stderr[-800:]
    assert state(planned, bao) == after
    assert_absent(planned.all_values(), *(r.stdout + r.stderr for r in (first, second, third)))
    assert_a_job_reads_its_value(planned, bao, id_token_key)


def assert_as_planned(planned: Planned, after: dict) -> None:
    assert after["auth"]["jwt/"] == "jwt"
    assert after["config"] == {"jwks_url": f"{planned.gitlab}/oauth/discovery/keys", "bound_issuer": planned.gitlab}
    assert after["mount"] == {"version": "2"} and after["mount_type"] == "kv"
    assert list(after["audit"].values()) == ["file"]
    for t in planned.plan["targets"]:
        assert after[f"policy {t['policy_name']}"] == (planned.directory / f"policies/{t['policy_name']}.hcl").read_text()
        on_disk = json.loads((planned.directory / f"roles/{t['role_name']}.json").read_text())
        assert on_disk == t["role"]
        role = after[f"role {t['role_name']}"]
        assert role["bound_claims"] == t["role"]["bound_claims"] and role["policies"] == t["role"]["policies"]
        assert role["bound_audiences"] == t["role"]["bound_audiences"]
        assert role["token_explicit_max_ttl"] == t["role"]["token_explicit_max_ttl"]
    assert all(v == (1, ["1"]) for k, v in after.items() if k.startswith("versions "))


def assert_a_job_reads_its_value(planned: Planned, bao, id_token_key) -> None:
    # A production job's ID token, from the planned GitLab, logs in with the role and reads the value.
    production = next(t for t in planned.plan["targets"] if t["environment"] == "production")
    token = mint_id_token(id_token_key, iss=planned.gitlab, aud=AUDIENCE, project_id=PROJECT_ID,
                          project_path=PROJECT, ref="main", ref_type="branch", ref_protected="true",
                          environment="production")
    login = requests.post(f"{bao.url}/v1/auth/jwt/login", json={"role": production["role_name"], "jwt": token},
                          timeout=10)
    assert login.status_code == 200, login.text[:300]
    entry = next(e for e in planned.plan["entries"] if e["environment"] == "production")
    read = requests.get(f"{bao.url}/v1/{entry['api_path']}", headers={"X-Vault-Token": login.json()["auth"]["client_token"]},
                        timeout=10)
    assert read.status_code == 200
    assert sha256(read.json()["data"]["data"][entry["field"]].encode()) == sha256(planned.value("password").encode())

    # Another issuer's token is refused: the config binds GitLab's iss.
    foreign = mint_id_token(id_token_key, iss="https://gitlab.other.example", aud=AUDIENCE, project_id=PROJECT_ID,
                            ref_protected="true", environment="production")
    refused = requests.post(f"{bao.url}/v1/auth/jwt/login", json={"role": production["role_name"], "jwt": foreign},
                            timeout=10)
    assert refused.status_code == 400 and "invalid issuer (iss) claim" in refused.text


def test_the_markdown_plans_commands_pasted_as_they_are_do_the_same(planned, bao, id_token_key, tmp_path):
    sections = re.split(r"(?m)^## ", planned.markdown)
    script = "\n".join("\n".join(line[len(indent):] for line in body.split("\n"))
                       for section in sections if not section.startswith("GitLab setup")
                       for indent, body in re.findall(r"(?ms)^( *)```shell\n(.*?)^\1```$", section))
    # The only files the commands name are the value files the person writes; the rest is inline.
    assert set(re.findall(r"=@(\S+)", script)) == set(planned.value_files())
    assert not re.findall(r"(?<!=)@\S", script)
    work = tmp_path / "paste"
    work.mkdir()
    write_values(planned, work)  # the value files the store commands name, where they are run
    pasted = subprocess.run(["bash", "-c", 'vault() { command "$BAO" "$@"; }\n' + script], capture_output=True,
                            timeout=WAIT, cwd=work, env={"PATH": os.environ["PATH"], "HOME": str(work),
                                                        "BAO": bao_binary(), "BAO_ADDR": bao.url, "BAO_TOKEN": ROOT_TOKEN})
    assert pasted.returncode == 0, pasted.stderr[-800:]
    assert b"radar plan:" not in pasted.stderr  # no check said something is wrong
    assert_as_planned(planned, state(planned, bao))
    assert_a_job_reads_its_value(planned, bao, id_token_key)


def test_apply_stores_a_rotated_value_again(planned, bao, tmp_path):
    values = tmp_path / "values"
    write_values(planned, values)
    assert apply(planned, bao, values).returncode == 0
    name = next(n for n, v in planned.value_files().items() if v == planned.value("staging"))
    rotated = random_value()
    (values / name).write_text(rotated)
    result = apply(planned, bao, values)
    assert result.returncode == 0, result.stderr[-800:]
    entry = next(e for e in planned.plan["entries"] if e["environment"] == "staging")
    stored = bao.api("GET", entry["api_path"])["data"]
    assert stored["metadata"]["version"] == 2
    assert sha256(stored["data"][entry["field"]].encode()) == sha256(rotated.encode())


def test_apply_explains_an_openbao_without_an_audit_device(planned, tmp_path):
    server = start_bao(tmp_path / "bao")  # no audit device in its configuration
    try:
        values = tmp_path / "values"
        write_values(planned, values)
        result = apply(planned, server, values)
    finally:
        stop_bao(server)
    assert result.returncode == 1
    last = result.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("apply.sh: the server did not enable the audit device. OpenBao enables audit devices "
                           "only from its configuration")
    assert_absent(planned.all_values(), result.stdout + result.stderr)
