"""OpenBao set up for the login methods besides JWT: AppRole, Kubernetes and TLS-certificate auth.

`configure_auth_methods` enables, on a `-dev-tls` server (cert auth needs TLS): AppRole at
`approle/` and at `ci-approle/` (a non-default mount), Kubernetes auth at `kubernetes/` pointed
at `TokenReviewServer`, and cert auth at `cert/` trusting a client CA made here. Every role
gets the policy `ci-read` (read on `secret/data/production/*`).

`TokenReviewServer` stands in for the Kubernetes API server, since no cluster runs here: it
answers `POST /apis/authentication.k8s.io/v1/tokenreviews` as the Kubernetes documentation
describes (TokenReview in, TokenReview with `status` out, 201 Created; 401 with a `Status`
object when the caller's bearer token is not valid), over TLS with its own CA, which is what
OpenBao's `kubernetes_ca_cert` needs. It knows one service-account token.
"""

from __future__ import annotations

import base64
import datetime
import json
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vault_fakes import Request, ScriptedServer, response, tls_certificate
from vault_fixtures import ROOT_TOKEN, BaoServer

POLICY = "ci-read"
APPROLE = "deploy"
OTHER_APPROLE_PATH = "ci-approle"
K8S_ROLE = "gitlab-runner"
K8S_NAMESPACE = "ci"
K8S_SERVICE_ACCOUNT = "gitlab-runner"
CERT_ROLE = "ci-runners"
SECRET_PATH = "production/db"  # in the dev server's KV v2 mount secret/
K8S_SERVICE_ACCOUNT_UID = "5b1f4a8e-0c1d-4d3e-9f6a-7b8c9d0e1f2a"
TOKENREVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


# --- Kubernetes -----------------------------------------------------------------------------

def service_account_token(namespace: str = K8S_NAMESPACE, name: str = K8S_SERVICE_ACCOUNT) -> str:
    """A projected service-account token shaped like the kubelet's (RS256, bound claims)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "iat": now, "nbf": now, "exp": now + 3600,
        "kubernetes.io": {
            "namespace": namespace,
            "pod": {"name": "runner-abc123-project-42-concurrent-0", "uid": str(uuid.uuid4())},
            "serviceaccount": {"name": name, "uid": K8S_SERVICE_ACCOUNT_UID},
        },
    }

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": "RS256", "kid": "radar-test-sa"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))}"


class TokenReviewServer:
    """The TokenReview API of a Kubernetes API server that knows one service-account token."""

    def __init__(self, directory: Path, known_token: str) -> None:
        self.known_token = known_token
        self.certificate = tls_certificate(directory)
        self.reviews = 0
        self.server = ScriptedServer(self._behave, tls=self.certificate)

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.close()

    def _behave(self, server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
        conn.sendall(self._answer(request))
        return True

    def _answer(self, request: Request) -> bytes:
        if request.method != "POST" or request.target.split("?")[0] != TOKENREVIEW_PATH:
            return _status(404, "NotFound", "the server could not find the requested resource")
        # The caller needs a valid bearer token (OpenBao sends the reviewer JWT, else the login's).
        if request.headers.get("authorization", "") != f"Bearer {self.known_token}":
            return _status(401, "Unauthorized", "Unauthorized")
        try:
            review = json.loads(request.body)
            token = review["spec"]["token"]
        except (ValueError, KeyError, TypeError):
            return _status(400, "BadRequest", "the body of the request was in an unknown format")
        self.reviews += 1
        spec = {"token": token, "audiences": review["spec"].get("audiences") or []}
        if token == self.known_token:
            status = {
                "authenticated": True,
                "user": {
                    "username": f"system:serviceaccount:{K8S_NAMESPACE}:{K8S_SERVICE_ACCOUNT}",
                    "uid": K8S_SERVICE_ACCOUNT_UID,
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{K8S_NAMESPACE}",
                               "system:authenticated"],
                },
                "audiences": spec["audiences"] or ["https://kubernetes.default.svc.cluster.local"],
            }
        else:
            status = {"authenticated": False, "error": "[invalid bearer token, token lookup failed]"}
        body = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
        return response(201, json.dumps(body).encode())


def _status(code: int, reason: str, message: str) -> bytes:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    return response(code, json.dumps(body).encode())


# --- TLS client certificates ------------------------------------------------------------------

@dataclass(frozen=True)
class ClientCertificate:
    ca_file: Path  # what cert auth trusts
    cert_file: Path
    key_file: Path


def client_certificate(directory: Path, common_name: str = "runner-01.ci.example.com") -> ClientCertificate:
    """A fresh CA and a client certificate (extended key usage clientAuth) it signed."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"radar test client CA {uuid.uuid4()}")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(valid[0]).not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(valid[0]).not_valid_after(valid[1])
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = ClientCertificate(directory / "client-ca.pem", directory / "client.pem", directory / "client-key.pem")
    paths.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    paths.key_file.chmod(0o600)
    return paths


# --- OpenBao ----------------------------------------------------------------------------------

def configure_auth_methods(server: BaoServer, token_review: TokenReviewServer, client_ca: Path) -> None:
    """AppRole (twice), Kubernetes and cert auth, each role with the `ci-read` policy."""
    server.api("POST", f"sys/policies/acl/{POLICY}",
               {"policy": f'path "secret/data/{SECRET_PATH.split("/")[0]}/*" {{ capabilities = ["read"] }}'})
    for mount in ("approle", OTHER_APPROLE_PATH):
        server.api("POST", f"sys/auth/{mount}", {"type": "approle"})
        server.api("POST", f"auth/{mount}/role/{APPROLE}", {"token_policies": [POLICY], "token_ttl": "5m"})
    server.api("POST", "sys/auth/kubernetes", {"type": "kubernetes"})
    server.api("POST", "auth/kubernetes/config", {
        "kubernetes_host": token_review.url,
        "kubernetes_ca_cert": token_review.certificate.ca_file.read_text(),
        "disable_local_ca_jwt": True,  # no pod here: no /var/run/secrets/kubernetes.io/serviceaccount
    })
    server.api("POST", f"auth/kubernetes/role/{K8S_ROLE}", {
        "bound_service_account_names": [K8S_SERVICE_ACCOUNT],
        "bound_service_account_namespaces": [K8S_NAMESPACE],
        "token_policies": [POLICY], "token_ttl": "5m",
    })
    server.api("POST", "sys/auth/cert", {"type": "cert"})
    server.api("POST", f"auth/cert/certs/{CERT_ROLE}", {
        "certificate": client_ca.read_text(), "token_policies": [POLICY], "token_ttl": "5m",
    })


def role_id(server: BaoServer, mount: str = "approle") -> str:
    return server.api("GET", f"auth/{mount}/role/{APPROLE}/role-id")["data"]["role_id"]


def secret_id(server: BaoServer, mount: str = "approle") -> str:
    return server.api("POST", f"auth/{mount}/role/{APPROLE}/secret-id")["data"]["secret_id"]


def wrapped_secret_id(server: BaoServer, ttl: str = "120s", mount: str = "approle") -> str:
    """A response-wrapping token holding a new secret id (`X-Vault-Wrap-TTL`), as a trusted
    orchestrator hands one to a runner."""
    return _wrapped(server, f"auth/{mount}/role/{APPROLE}/secret-id", None, ttl)


def wrapped_data(server: BaoServer, data: dict[str, str]) -> str:
    """A response-wrapping token made by `sys/wrapping/wrap` around any data: what someone who
    substitutes their own "secret id" would hand over."""
    return _wrapped(server, "sys/wrapping/wrap", data, "120s")


def wrapping_token_is_alive(server: BaoServer, token: str) -> bool:
    import requests

    answer = requests.post(f"{server.url}/v1/sys/wrapping/lookup", json={"token": token},
                           verify=str(server.ca_file) if server.ca_file else True, timeout=10)
    return answer.status_code == 200


def _wrapped(server: BaoServer, path: str, body: dict[str, str] | None, ttl: str) -> str:
    import requests

    answer = requests.post(
        f"{server.url}/v1/{path}", json=body, headers={"X-Vault-Token": ROOT_TOKEN, "X-Vault-Wrap-TTL": ttl},
        verify=str(server.ca_file) if server.ca_file else True, timeout=10,
    )
    assert answer.status_code == 200, f"wrapping the answer of {path}: HTTP {answer.status_code}"
    return answer.json()["wrap_info"]["token"]
