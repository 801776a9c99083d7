"""Vault's HTTP API as `radar exec` and `radar index vault` use it: JWT login, reads and lists,
with errors a user can act on.

- Login is `POST {VAULT_SERVER_URL}/v1/auth/{VAULT_AUTH_PATH}/login` with `{"role", "jwt"}`
  (no role: Vault's default role); the other auth methods (`auth`) post their own body to the
  same endpoint through `login_with`, and unwrap response-wrapped secret ids with
  `wrapping_lookup` and `unwrap`. Reads are `GET /v1/{path}` and lists `LIST /v1/{path}` with
  `X-Vault-Token`; all carry `X-Vault-Namespace` when a namespace is set (a walk of namespaces
  names each in turn).
- TLS: `VAULT_CACERT` when set (it replaces the system trust store), else the system store;
  see `transport` (standard-library HTTP, chosen for start-up time).
- Unreachable, sealed (503) or overloaded (429, 502, 504) Vault: retried with exponential
  backoff. One deadline (`--vault-timeout`, default 30 s) covers all of a run's traffic with
  Vault, from the client's creation: every connection, handshake, request, answer, wait and
  retry of the login and the reads. Each attempt also ends after `request_timeout` (10 s), so
  a connection that hangs is given up and retried on a new one while time remains. Twenty
  secrets against a dead or stalling server fail after 30 s, not after ten minutes or never.
- Answers are read up to 8 MiB and parsed up to 128 levels of nesting (see `transport`);
  redirects are followed only as Vault uses them, never to another origin or from https to
  http, so the JWT and the Vault token go nowhere but VAULT_SERVER_URL.
- Messages carry Vault's own reason, the URL and the path; never the JWT or the Vault token
  (they are also scrubbed from Vault's text, in case a server ever echoes them).
- Leases (`sys/leases/renew`, `sys/leases/revoke`) and the token's own renewal and revocation
  (`auth/token/renew-self`, `revoke-self`) happen while CMD runs or after it ended, long after
  the run's deadline: each call gets a deadline of its own from its caller. Lease ids stay out
  of every message too.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from radar import __version__
from radar.vault.errors import (
    LoginRejected,
    NamespaceNotFound,
    TLSVerificationError,
    UnsafeRedirect,
    VaultConfigError,
    VaultError,
    VaultUnavailable,
)
from radar.vault.model import VaultSettings
from radar.vault.transport import (
    MAX_ANSWER_BYTES,
    MAX_JSON_DEPTH,
    MAX_REDIRECTS,
    AnswerTooDeep,
    AnswerTooLarge,
    CAFileError,
    ClientCertError,
    NetworkError,
    RedirectRefused,
    Response,
    TLSError,
    Transport,
)

log = logging.getLogger("radar.vault")

RETRYABLE_STATUS = {429: "rate limited", 502: "bad gateway", 503: "sealed or unavailable", 504: "gateway timeout"}
DEFAULT_RETRY_SECONDS = 30.0
MAX_DURATION = 10 * 366 * 86400  # ten years: longer than any lease or token TTL Vault allows


@dataclass(frozen=True)
class RetryPolicy:
    """`total_seconds`: the deadline for all of a run's Vault traffic, retries included
    (`--vault-timeout`). Backoff for an unreachable or sealed Vault: `first_delay` doubling up
    to `max_delay`. `request_timeout`: the longest one attempt may take."""

    total_seconds: float = DEFAULT_RETRY_SECONDS
    first_delay: float = 0.1
    max_delay: float = 4.0
    request_timeout: float = 10.0


@dataclass(frozen=True)
class VaultToken:
    """A Vault client token from a login; `repr` never shows it."""

    value: str = field(repr=False)
    policies: tuple[str, ...] = ()
    ttl_seconds: int = 0
    renewable: bool = False


@dataclass(frozen=True)
class LeaseGrant:
    """A lease Vault granted with a secret or a renewal; `repr` never shows its id."""

    lease_id: str = field(repr=False)
    duration: int  # seconds
    renewable: bool


class ReadNotFound(Exception):
    """A read answered 404: no secret at the path (or no engine mounted there). `data`: the answer's
    `data` object, if any (KV v2 describes a deleted or destroyed version there)."""

    def __init__(self, path: str, reason: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(path)
        self.path = path
        self.reason = reason
        self.data = data or {}


class ReadForbidden(Exception):
    """A read answered 403: the token's policies do not grant read on the path."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class _Retryable(Exception):
    """A failure worth retrying; `reason` is shown if the budget runs out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VaultClient:
    """One Vault server and its settings; share it across every secret of a run."""

    def __init__(
        self,
        settings: VaultSettings,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.retry = retry
        self._sleep = sleep
        self._deadline = time.monotonic() + retry.total_seconds
        client_cert = (settings.client_cert, settings.client_key) if settings.client_cert and settings.client_key else None
        self._transport = Transport(settings.server_url, settings.cacert, client_cert)
        # Every credential this client sent or received (secret ids, tokens): `radar exec` masks them.
        self.credentials: list[str] = []
        self._headers = {"User-Agent": f"radar/{__version__}", "X-Vault-Request": "true"}
        if settings.namespace:
            self._headers["X-Vault-Namespace"] = settings.namespace

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> VaultClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login(self, jwt: str, token_var: str) -> VaultToken:
        """Exchange the ID token held in `token_var` for a Vault token."""
        body: dict[str, str] = {"jwt": jwt}
        if self.settings.auth_role:
            body["role"] = self.settings.auth_role
        role = f"role {self.settings.auth_role}" if self.settings.auth_role else "the default role"
        return self.login_with(body, secrets=(jwt,), what=f"{role}, ID token {token_var}",
                               sends=f"the ID token in {token_var} ({role})", method="JWT")

    def login_with(self, body: dict[str, str], *, secrets: tuple[str, ...], what: str, sends: str,
                   method: str) -> VaultToken:
        """`POST auth/{VAULT_AUTH_PATH}/login` with `body`; the Vault token it returns.
        `secrets`: the credentials in `body`, scrubbed from any text Vault answers; `what` and
        `sends` describe the login in messages and the log (never a credential); `method`: the
        auth method's name as users know it (JWT, AppRole...)."""
        path = f"auth/{self.settings.auth_path}/login"
        log.info("logging in: POST %s/v1/%s with %s", self.settings.server_url, path, sends)
        response = self._request("POST", path, body=json.dumps(body).encode(), secrets=secrets,
                                 headers={"Content-Type": "application/json"})
        payload = _json(response, self.settings.server_url, "POST", path)
        if response.status == 200:
            auth = payload.get("auth") or {}
            token = auth.get("client_token")
            if not isinstance(token, str) or not token:
                raise LoginRejected(f"Vault answered {path} without a client token")
            self.credentials.append(token)
            policies = tuple(str(p) for p in auth.get("policies") or ())
            ttl = _seconds(auth.get("lease_duration"))
            log.info("logged in: policies %s, token TTL %ss", ", ".join(policies) or "(none)", ttl)
            return VaultToken(value=token, policies=policies, ttl_seconds=ttl, renewable=auth.get("renewable") is True)
        reason = _reason(payload, *secrets)
        self._raise_for_namespace(response.status, reason)
        where = f"{path}, {what}"
        if response.status == 403:
            raise LoginRejected(
                f"Vault login refused ({where}): {reason or 'permission denied'}; is {method} auth enabled "
                f"at auth/{self.settings.auth_path}? (VAULT_AUTH_PATH)"
            )
        if response.status == 404:
            raise LoginRejected(
                f"Vault login failed ({where}): no auth method at auth/{self.settings.auth_path} "
                f"(VAULT_AUTH_PATH): {reason or 'not found'}"
            )
        raise LoginRejected(f"Vault login rejected ({where}): {reason or f'HTTP {response.status}'}")

    def unwrap(self, wrapping_token: str) -> dict[str, Any] | None:
        """The `data` a response-wrapping token holds (`POST sys/wrapping/unwrap`), or None when
        Vault refuses the token (already unwrapped, expired or never issued: Vault does not say
        which). The token works once: this is its only use."""
        return self._wrapping("unwrap", wrapping_token)

    def wrapping_lookup(self, wrapping_token: str) -> dict[str, Any] | None:
        """What Vault knows of a response-wrapping token without using it (`POST
        sys/wrapping/lookup`: `creation_path`, `creation_time`, `creation_ttl`), or None as for
        `unwrap`."""
        return self._wrapping("lookup", wrapping_token)

    def _wrapping(self, operation: str, wrapping_token: str) -> dict[str, Any] | None:
        path = f"sys/wrapping/{operation}"
        log.info("%s: POST %s/v1/%s", "unwrapping" if operation == "unwrap" else "looking up the wrapping token",
                 self.settings.server_url, path)
        response = self._request("POST", path, secrets=(wrapping_token,), headers={"X-Vault-Token": wrapping_token})
        payload = _json(response, self.settings.server_url, "POST", path)
        if response.status == 200:
            data = payload.get("data")
            return data if isinstance(data, dict) else {}
        reason = _reason(payload, wrapping_token)
        self._raise_for_namespace(response.status, reason)
        if response.status in (400, 403):
            return None
        raise VaultError(f"Vault refused the response-wrapping token ({path}): {reason or f'HTTP {response.status}'}")

    def read(self, token: VaultToken, path: str, *, namespace: str | None = None) -> dict[str, Any]:
        """The `data` object of `GET /v1/{path}` (KV v2 callers look inside `data.data`).
        `namespace`: the namespace to read in ("" the root), instead of VAULT_NAMESPACE's."""
        return self._data("GET", token, path, namespace)

    def read_leased(self, token: VaultToken, path: str) -> tuple[dict[str, Any], LeaseGrant | None]:
        """`read`, and the lease Vault granted with the answer (dynamic secrets), if any."""
        payload = self._answer("GET", token, path, None)
        data = payload.get("data")
        return (data if isinstance(data, dict) else {}), _grant(payload)

    def renew_lease(self, token: VaultToken, lease_id: str, increment: int, *, deadline: float) -> LeaseGrant:
        """Ask for `increment` more seconds on a lease; Vault may grant less (its max TTL)."""
        payload = self._lease_call("PUT", "sys/leases/renew", token, {"lease_id": lease_id, "increment": increment},
                                   "renew a lease", deadline, lease_id)
        grant = _grant({"lease_id": lease_id, **payload})
        return grant or LeaseGrant(lease_id=lease_id, duration=0, renewable=False)

    def revoke_lease(self, token: VaultToken, lease_id: str, *, deadline: float) -> None:
        self._lease_call("PUT", "sys/leases/revoke", token, {"lease_id": lease_id}, "revoke a lease", deadline, lease_id)

    def renew_self(self, token: VaultToken, increment: int, *, deadline: float) -> int:
        """Renew radar's own token by `increment` seconds; the TTL Vault granted."""
        payload = self._lease_call("POST", "auth/token/renew-self", token, {"increment": f"{increment}s"},
                                   "renew radar's token", deadline)
        auth = payload.get("auth")
        return _seconds(auth.get("lease_duration")) if isinstance(auth, dict) else 0

    def revoke_self(self, token: VaultToken, *, deadline: float) -> None:
        """Revoke radar's own token, and with it every lease it still holds."""
        self._lease_call("POST", "auth/token/revoke-self", token, None, "revoke radar's token", deadline)

    def _lease_call(self, method: str, path: str, token: VaultToken, body: dict[str, Any] | None, what: str,
                    deadline: float, *hidden: str) -> dict[str, Any]:
        response = self._request(method, path, headers={"X-Vault-Token": token.value, "Content-Type": "application/json"},
                                 body=json.dumps(body).encode() if body is not None else None,
                                 secrets=(token.value, *hidden), deadline=deadline)
        payload = _json(response, self.settings.server_url, method, path)
        log.info("%s %s: HTTP %s", method, path, response.status)
        if response.status in (200, 204):
            return payload
        reason = _reason(payload, token.value, *hidden)
        raise VaultError(f"Vault refused to {what} ({method} {path}): {reason or f'HTTP {response.status}'}")

    def list(self, token: VaultToken, path: str, *, namespace: str | None = None) -> tuple[str, ...]:
        """The keys under `path` (`LIST /v1/{path}`), folders ending in `/`; none where Vault
        keeps nothing (it answers 404). `namespace` as for `read`."""
        try:
            keys = self._data("LIST", token, path, namespace).get("keys")
        except ReadNotFound:
            return ()
        return tuple(k for k in keys if isinstance(k, str)) if isinstance(keys, list) else ()

    def _data(self, method: str, token: VaultToken, path: str, namespace: str | None) -> dict[str, Any]:
        data = self._answer(method, token, path, namespace).get("data")
        return data if isinstance(data, dict) else {}

    def _answer(self, method: str, token: VaultToken, path: str, namespace: str | None) -> dict[str, Any]:
        """The whole 200 answer of a read or list; the errors a user can act on otherwise."""
        headers = {"X-Vault-Token": token.value}
        if namespace is not None:
            headers["X-Vault-Namespace"] = namespace  # "" is dropped when sent: the root namespace
        response = self._request(method, path, headers=headers, secrets=(token.value,))
        payload = _json(response, self.settings.server_url, method, path)
        status = response.status
        log.info("%s %s%s: HTTP %s", "read" if method == "GET" else "list", path,
                 f" in namespace {namespace}" if namespace else "", status)
        if status == 200:
            return payload
        reason = _reason(payload, token.value)
        self._raise_for_namespace(status, reason)
        if status == 404:
            data = payload.get("data")
            raise ReadNotFound(path, reason, data if isinstance(data, dict) else None)
        if status == 403:
            raise ReadForbidden(path)
        verb = "read" if method == "GET" else "list"
        raise VaultError(f"Vault refused to {verb} {path}: {reason or f'HTTP {status}'}")

    def _raise_for_namespace(self, status: int, reason: str) -> None:
        if status == 404 and "namespace not found" in reason:
            raise NamespaceNotFound(
                f"Vault namespace not found: VAULT_NAMESPACE={self.settings.namespace}; "
                f"check the namespace path (HCP Vault uses admin)"
            )

    def _request(self, method: str, path: str, *, secrets: tuple[str, ...], headers: dict[str, str],
                 body: bytes | None = None, deadline: float | None = None) -> Response:
        """`deadline`: when to give up, instead of the run's (`--vault-timeout` from the start)."""
        deadline = self._deadline if deadline is None else deadline
        delay = self.retry.first_delay
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self._send(method, path, headers, body, deadline)
                if response.status not in RETRYABLE_STATUS:
                    return response
                reason = f"HTTP {response.status} ({RETRYABLE_STATUS[response.status]})"
                vault_reason = _reason(_json_or_empty(response), *secrets)
                if vault_reason:
                    reason += f": {vault_reason}"
                raise _Retryable(reason)
            except _Retryable as failure:
                remaining = deadline - time.monotonic()
                if remaining <= delay:  # the next attempt could not even start before the deadline
                    raise VaultUnavailable(
                        f"Vault at {self.settings.server_url} is unavailable: {failure.reason}; gave up after "
                        f"{attempts} attempt(s) within --vault-timeout ({self.retry.total_seconds:g} s)"
                    ) from None
                log.warning("%s %s: %s; retrying in %.1f s (%.1f s of --vault-timeout left)", method, path, failure.reason, delay, remaining)
                self._sleep(delay)
                delay = min(delay * 2, self.retry.max_delay)

    def _send(self, method: str, path: str, headers: dict[str, str], body: bytes | None, until: float) -> Response:
        """One attempt; network failures become `_Retryable`, anything else a final error."""
        deadline = min(time.monotonic() + self.retry.request_timeout, until)
        headers = {**self._headers, **headers}
        if not headers.get("X-Vault-Namespace", True):
            del headers["X-Vault-Namespace"]  # the root namespace, asked for by name
        try:
            return self._transport.request(method, f"v1/{path}", headers=headers, body=body, deadline=deadline)
        except NetworkError as exc:
            raise _Retryable(f"{'no answer' if exc.connected else 'unreachable'} ({exc.reason})") from None
        except RedirectRefused as exc:
            raise self._redirect_error(exc, f"{method} {path}") from None
        except AnswerTooLarge:
            raise VaultError(
                f"{self.settings.server_url}/v1/{path} answered {method} with more than "
                f"{MAX_ANSWER_BYTES // (1024 * 1024)} MiB, more than any Vault secret; is VAULT_SERVER_URL a Vault server?"
            ) from None
        except TLSError as exc:
            raise self._tls_error(exc) from None
        except CAFileError as exc:
            raise TLSVerificationError(
                f"cannot load VAULT_CACERT={self.settings.cacert}: {exc}; it must be a PEM file of CA certificates"
            ) from None
        except ClientCertError as exc:
            raise VaultConfigError(
                f"cannot load the TLS client certificate VAULT_CLIENT_CERT={self.settings.client_cert} with "
                f"VAULT_CLIENT_KEY={self.settings.client_key}: {exc.reason}; they must be PEM files: the "
                f"certificate and its unencrypted private key"
            ) from None

    def _redirect_error(self, exc: RedirectRefused, what: str) -> UnsafeRedirect:
        url = self.settings.server_url
        if exc.kind == "downgrade":
            return UnsafeRedirect(
                f"Vault at {url} redirected {what} to {exc.target}: refused, it would send the credentials "
                f"unencrypted (https to http); set VAULT_SERVER_URL to the https:// address of the active Vault node"
            )
        if exc.kind == "origin":
            return UnsafeRedirect(
                f"Vault at {url} redirected {what} to {exc.target}: refused, radar sends credentials only to "
                f"VAULT_SERVER_URL's origin; if {exc.target} is the active Vault node, set VAULT_SERVER_URL to it "
                f"(standbys forward requests to the active node unless request forwarding is off)"
            )
        if exc.kind == "status":
            return UnsafeRedirect(
                f"Vault at {url} answered {what} with HTTP {exc.status}, a redirect to {exc.target}: refused, "
                f"radar follows only the 307 and 308 redirects Vault sends; if Vault moved, set VAULT_SERVER_URL "
                f"to its new address"
            )
        if exc.kind == "loop":
            return UnsafeRedirect(
                f"Vault at {url} redirected {what} more than {MAX_REDIRECTS} times in a row: refused; check "
                f"the load balancer in front of Vault (a standby whose api_addr is the load balancer can "
                f"send clients round in circles)"
            )
        return UnsafeRedirect(
            f"Vault at {url} answered {what} with HTTP {exc.status} without a usable Location header; "
            f"is VAULT_SERVER_URL a Vault server?"
        )

    def _tls_error(self, exc: TLSError) -> TLSVerificationError:
        url = self.settings.server_url
        cacert = self.settings.cacert
        reason = exc.reason
        if not exc.verify_failed:
            if "WRONG_VERSION_NUMBER" in reason or "wrong version number" in reason:
                return TLSVerificationError(
                    f"TLS handshake with {url} failed: the server does not speak HTTPS there; "
                    f"check the scheme and port in VAULT_SERVER_URL"
                )
            return TLSVerificationError(f"TLS handshake with {url} failed: {reason}")
        if "mismatch" in reason:
            host = url.split("://", 1)[-1].split("/", 1)[0]
            return TLSVerificationError(
                f"TLS: cannot verify {url}: x509: certificate is not valid for {host}; use a host name "
                f"the certificate names in VAULT_SERVER_URL"
            )
        if "expired" in reason:
            return TLSVerificationError(f"TLS: cannot verify {url}: x509: certificate has expired")
        if cacert:
            return TLSVerificationError(
                f"TLS: cannot verify {url}: x509: certificate signed by unknown authority; "
                f"VAULT_CACERT={cacert} does not hold the CA that signed Vault's certificate"
            )
        return TLSVerificationError(
            f"TLS: cannot verify {url}: x509: certificate signed by unknown authority; set VAULT_CACERT "
            f"to the PEM file of the CA that signed Vault's certificate, or add that CA to the "
            f"system trust store"
        )


def _json(response: Response, server: str, method: str, path: str) -> dict[str, Any]:
    if response.status == 204:
        return {}
    try:
        payload = response.json()
    except AnswerTooDeep:
        raise VaultError(
            f"{server}/v1/{path} answered {method} with JSON nested more than {MAX_JSON_DEPTH} levels deep, "
            f"deeper than radar reads; is VAULT_SERVER_URL a Vault server, and is the secret's value sane?"
        ) from None
    except ValueError:
        kind = response.content_type or "no content type"
        raise VaultError(
            f"{server}/v1/{path} answered HTTP {response.status} with {kind}, not Vault's JSON; "
            f"is VAULT_SERVER_URL a Vault server?"
        ) from None
    return payload if isinstance(payload, dict) else {}


def _grant(payload: dict[str, Any]) -> LeaseGrant | None:
    """The lease in an answer (`lease_id`, `lease_duration`, `renewable`); None for KV's empty id."""
    lease_id = payload.get("lease_id")
    if not isinstance(lease_id, str) or not lease_id:
        return None
    return LeaseGrant(lease_id=lease_id, duration=_seconds(payload.get("lease_duration")),
                      renewable=payload.get("renewable") is True)


def _seconds(value: Any) -> int:
    """A duration in an answer: whole seconds, 0 for anything else, capped so that a hostile
    answer cannot overflow a timer."""
    return min(value, MAX_DURATION) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _json_or_empty(response: Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except (ValueError, AnswerTooDeep):
        return {}
    return payload if isinstance(payload, dict) else {}


def _reason(payload: dict[str, Any], *secrets: str) -> str:
    """Vault's `errors` joined, with any credential scrubbed out and the length capped."""
    errors = payload.get("errors") or []
    if not isinstance(errors, list):
        errors = [errors]
    text = "; ".join(str(e).strip() for e in errors if str(e).strip())
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[MASKED]")
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."
