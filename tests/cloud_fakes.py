"""Local fakes of Entra ID, Azure Key Vault, Google STS and GCP Secret Manager, over real TLS.

Each is a behaviour for `vault_fakes.ScriptedServer`, answering the documented endpoints radar
calls, with the documented answer and error shapes:

- Entra ID: `POST /{tenant}/oauth2/v2.0/token`, client-credentials grant with a federated
  client assertion (learn.microsoft.com, "Microsoft identity platform and the OAuth 2.0 client
  credentials flow", "Workload identity federation"); OAuth errors
  `{"error", "error_description": "AADSTS...: ...", "error_codes"}`.
- Key Vault: `GET /secrets/{name}/{version}?api-version=7.4` ("Get Secret", REST API 7.4);
  errors `{"error": {"code", "message", "innererror"}}`.
- Google STS: `POST /v1/token`, RFC 8693 token exchange (cloud.google.com/iam/docs/reference/sts/rest);
  OAuth errors `{"error", "error_description"}`.
- Secret Manager: `GET /v1/projects/N/secrets/S/versions/V:access` ("AccessSecretVersion",
  REST v1); answers `{"name", "payload": {"data", "dataCrc32c"}}`, errors
  `{"error": {"code", "message", "status"}}`.

The token services verify the ID token as the real ones do with a federated credential or a
workload identity pool provider: RS256 signature with the test's key, issuer, audience,
expiry (and Entra ID the subject). They issue random access tokens that the stores require.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import time
import urllib.parse
from dataclasses import dataclass, field

import google_crc32c
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from vault_fakes import Request, ScriptedServer, response
from vault_fixtures import ISSUER, gitlab_claims

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0d5c7e1a-3b9f-4c2e-8a61-5f0e9d2b7c34"
AZURE_AUDIENCE = "api://AzureADTokenExchange"  # Entra ID's recommended audience for federated credentials
SUBJECT = str(gitlab_claims()["sub"])
PROJECT_NUMBER = "123456789012"
POOL = "gitlab-pool"
GCP_PROVIDER = "gitlab-provider"
GCP_AUDIENCE = (f"https://iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/"
                f"workloadIdentityPools/{POOL}/providers/{GCP_PROVIDER}")


def send_json(conn: socket.socket, status: int, payload: dict) -> bool:
    conn.sendall(response(status, json.dumps(payload).encode()))
    return True


def check_jwt(token: str, key: rsa.RSAPrivateKey) -> dict | str:
    """The claims of an RS256 JWT signed by `key`, or why it is not one: "malformed", "signature"."""
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        decode = lambda part: base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))  # noqa: E731
        header, claims = json.loads(decode(header_b64)), json.loads(decode(claims_b64))
        signature = decode(signature_b64)
    except ValueError:
        return "malformed"
    if header.get("alg") != "RS256" or not isinstance(claims, dict):
        return "malformed"
    try:
        key.public_key().verify(signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "signature"
    return claims


def _form(request: Request) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(request.body.decode(), keep_blank_values=True))


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[len("Bearer "):] if value.startswith("Bearer ") else None


@dataclass
class Entra:
    """Entra ID's token endpoint for one tenant and one application with one federated credential."""

    key: rsa.RSAPrivateKey
    issued: set[str] = field(default_factory=set)
    next_token: str | None = None  # the access token to issue next, when a test must know it beforehand

    def __call__(self, server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
        path = urllib.parse.urlsplit(request.target).path
        parts = path.strip("/").split("/")
        if request.method != "POST" or parts[1:] != ["oauth2", "v2.0", "token"]:
            return send_json(conn, 404, {"error": "invalid_request", "error_description": "AADSTS900561: The endpoint only accepts POST requests."})
        if parts[0] != TENANT:
            return self._error(conn, 400, "invalid_request", 90002, f"Tenant '{parts[0]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
        form = _form(request)
        if form.get("grant_type") != "client_credentials":
            return self._error(conn, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("client_id") != CLIENT_ID:
            return self._error(conn, 400, "unauthorized_client", 700016, f"Application with identifier '{form.get('client_id')}' was not found in the directory '{TENANT}'.")
        if form.get("scope") != "https://vault.azure.net/.default":
            return self._error(conn, 400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid.")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return self._error(conn, 400, "invalid_request", 90002, "client_assertion_type is invalid.")
        claims = check_jwt(form.get("client_assertion", ""), self.key)
        if claims == "malformed":
            return self._error(conn, 400, "invalid_request", 50027, "JWT token is invalid or malformed.")
        if claims == "signature":
            return self._error(conn, 401, "invalid_client", 700027, "Client assertion failed signature validation.")
        mismatch = next(((code, what, claims.get(claim)) for code, what, claim, want in (
            (700211, "issuer", "iss", ISSUER), (700212, "audience", "aud", AZURE_AUDIENCE),
            (700213, "subject", "sub", SUBJECT)) if claims.get(claim) != want), None)
        if mismatch:
            code, what, got = mismatch
            return self._error(conn, 400, "invalid_client", code,
                               f"No matching federated identity record found for presented assertion {what} '{got}'. "
                               f"Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.")
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return self._error(conn, 400, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        token, self.next_token = self.next_token or "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(40), None
        self.issued.add(token)
        return send_json(conn, 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                     "access_token": token})

    @staticmethod
    def _error(conn: socket.socket, status: int, error: str, code: int, text: str) -> bool:
        trace = f"\r\nTrace ID: {secrets.token_hex(16)}\r\nCorrelation ID: {secrets.token_hex(16)}\r\nTimestamp: 2026-12-04 14:00:00Z"
        return send_json(conn, status, {
            "error": error, "error_description": f"AADSTS{code}: {text}{trace}", "error_codes": [code],
            "timestamp": "2026-12-04 14:00:00Z", "trace_id": secrets.token_hex(16),
            "correlation_id": secrets.token_hex(16), "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        })


@dataclass
class KeyVault:
    """A key vault: secrets by name, each a list of (version id, value), the last the latest."""

    entra: Entra
    secrets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)  # secrets the application has no role on

    def put(self, name: str, value: str) -> str:
        version = secrets.token_hex(16)
        self.secrets.setdefault(name, []).append((version, value))
        return version

    def __call__(self, server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
        url = urllib.parse.urlsplit(request.target)
        query = dict(urllib.parse.parse_qsl(url.query))
        token = _bearer(request)
        if token is None:
            return self._error(conn, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
        if token not in self.entra.issued:
            return self._error(conn, 401, "Unauthorized", "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/..., found an unknown token.")
        if "api-version" not in query:
            return self._error(conn, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        parts = url.path.strip("/").split("/")
        if request.method != "GET" or parts[0] != "secrets" or len(parts) not in (2, 3):
            return self._error(conn, 404, "NotFound", "The requested resource was not found.")
        name, version = parts[1], parts[2] if len(parts) == 3 else ""
        if name in self.forbidden:
            return self._error(conn, 403, "Forbidden", "Caller is not authorized to perform action on resource.\r\n"
                               "If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.",
                               inner="ForbiddenByRbac")
        versions = self.secrets.get(name, [])
        found = versions[-1] if versions and not version else next((v for v in versions if v[0] == version), None)
        if found is None:
            return self._error(conn, 404, "SecretNotFound",
                               f"A secret with (name/id) {name}/{version} was not found in this key vault. If you recently "
                               f"deleted this secret you may be able to recover it using the correct recovery command. "
                               f"For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182")
        return send_json(conn, 200, {
            "value": found[1], "id": f"{server.url}/secrets/{name}/{found[0]}",
            "attributes": {"enabled": True, "created": 1733300000, "updated": 1733300000, "recoveryLevel": "Recoverable+Purgeable"},
            "tags": {},
        })

    @staticmethod
    def _error(conn: socket.socket, status: int, code: str, message: str, inner: str | None = None) -> bool:
        error: dict = {"code": code, "message": message}
        if inner:
            error["innererror"] = {"code": inner}
        return send_json(conn, status, {"error": error})


@dataclass
class STS:
    """Google's STS for one workload identity pool provider that trusts the test's ID tokens."""

    key: rsa.RSAPrivateKey
    issued: set[str] = field(default_factory=set)

    def __call__(self, server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
        if request.method != "POST" or urllib.parse.urlsplit(request.target).path != "/v1/token":
            return send_json(conn, 404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}})
        form = _form(request)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            return self._error(conn, "invalid_request", 'Invalid value for "grant_type".')
        if form.get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt":
            return self._error(conn, "invalid_request", 'Invalid value for "subject_token_type".')
        if form.get("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token":
            return self._error(conn, "invalid_request", 'Invalid value for "requested_token_type".')
        if form.get("scope") != "https://www.googleapis.com/auth/cloud-platform":
            return self._error(conn, "invalid_scope", "The scope is invalid.")
        if form.get("audience") != GCP_AUDIENCE.removeprefix("https:"):
            return self._error(conn, "invalid_target",
                               'The target service indicated by the "audience" parameters is invalid. This might either be '
                               "because the pool or provider is disabled or deleted or because it doesn't exist.")
        claims = check_jwt(form.get("subject_token", ""), self.key)
        if not isinstance(claims, dict):
            return self._error(conn, "invalid_grant", "Invalid JWT signature." if claims == "signature" else "Unable to parse the ID Token.")
        if claims.get("iss") != ISSUER:
            return self._error(conn, "invalid_grant", f"The issuer in ID Token {claims.get('iss')} does not match the expected ones.")
        if claims.get("aud") != GCP_AUDIENCE:
            return self._error(conn, "invalid_grant", f"The audience in ID Token [{claims.get('aud')}] does not match the expected audience.")
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return self._error(conn, "invalid_grant", f"ID Token expired at {claims.get('exp')}.")
        token = "ya29.d." + secrets.token_urlsafe(60)
        self.issued.add(token)
        return send_json(conn, 200, {"access_token": token, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                                     "token_type": "Bearer", "expires_in": 3599})

    @staticmethod
    def _error(conn: socket.socket, error: str, description: str) -> bool:
        return send_json(conn, 400, {"error": error, "error_description": description})


@dataclass
class SecretManager:
    """Secret Manager for project PROJECT_NUMBER: secrets by id, each a list of versions (1, 2, ...)."""

    sts: STS
    secrets: dict[str, list[bytes]] = field(default_factory=dict)
    bad_checksum: set[str] = field(default_factory=set)  # secrets answered with a wrong dataCrc32c

    def put(self, name: str, value: bytes) -> str:
        self.secrets.setdefault(name, []).append(value)
        return str(len(self.secrets[name]))

    def __call__(self, server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
        token = _bearer(request)
        if token is None:
            return self._error(conn, 401, "UNAUTHENTICATED", "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
        if token not in self.sts.issued:
            return self._error(conn, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
        path = urllib.parse.unquote(urllib.parse.urlsplit(request.target).path)
        resource, _, method = path.removeprefix("/v1/").partition(":")
        parts = resource.split("/")
        if request.method != "GET" or method != "access" or len(parts) != 6 or parts[0::2] != ["projects", "secrets", "versions"]:
            return self._error(conn, 404, "NOT_FOUND", "Method not found.")
        project, name, version = parts[1], parts[3], parts[5]
        if project != PROJECT_NUMBER:
            return self._error(conn, 403, "PERMISSION_DENIED", f"Permission 'secretmanager.versions.access' denied for resource '{resource}' (or it may not exist).")
        versions = self.secrets.get(name)
        if not versions:
            return self._error(conn, 404, "NOT_FOUND", f"Secret [projects/{project}/secrets/{name}] not found or has no versions.")
        number = len(versions) if version == "latest" else int(version) if version.isdigit() else 0
        if not 1 <= number <= len(versions):
            return self._error(conn, 404, "NOT_FOUND", f"Secret Version [{resource}] not found or has been destroyed.")
        data = versions[number - 1]
        checksum = google_crc32c.value(data) ^ (1 if name in self.bad_checksum else 0)
        return send_json(conn, 200, {"name": f"projects/{project}/secrets/{name}/versions/{number}",
                                     "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(checksum)}})

    @staticmethod
    def _error(conn: socket.socket, code: int, status: str, message: str) -> bool:
        return send_json(conn, code, {"error": {"code": code, "message": message, "status": status}})
