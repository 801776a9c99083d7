"""HTTPS to the cloud secret stores (Azure Key Vault, GCP Secret Manager) and their token services.

Everything goes through Vault's transport (`transport`): a deadline for each request, answers
capped at 8 MiB and 128 levels of JSON, TLS verified against the system trust store (OpenSSL's,
so SSL_CERT_FILE and SSL_CERT_DIR apply; VAULT_CACERT names Vault's CA and plays no part here),
proxies from the environment, redirects followed only within one origin. Unreachable endpoints
and 429/5xx answers are retried with backoff inside one deadline for the provider's traffic
(`--vault-timeout`), as Vault's are.

Where tokens go: Entra ID's authority, Google's STS and Secret Manager are fixed (`PUBLIC`);
radar reads no variable that moves them, so no setting made by mistake can send an ID token or
an access token anywhere else. Only AZURE_KEY_VAULT_SERVER_URL, the vault GitLab's docs have
users name, is read from the job, and it must be https. Tests reach their local fakes by passing
other `CloudEndpoints` to `radar.cli.main(cloud_endpoints=...)`, a parameter the `radar`
command never sets.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from radar import __version__

from radar.report.printable import printable
from radar.vault.client import RETRYABLE_STATUS, RetryPolicy
from radar.vault.errors import CloudError, CloudUnavailable, MissingIDToken, VaultConfigError
from radar.vault.model import AzureSecretSpec, GCPSecretSpec, ResolvedSecret, SecretFailure
from radar.vault.resolve import Outcome
from radar.vault.variables import JobVariables
from radar.vault.transport import (
    MAX_ANSWER_BYTES,
    MAX_JSON_DEPTH,
    AnswerTooDeep,
    AnswerTooLarge,
    CAFileError,
    NetworkError,
    RedirectRefused,
    TLSError,
    Transport,
)

log = logging.getLogger("radar.vault")

MAX_PARALLEL_READS = 8
RETRY_STATUS = {**RETRYABLE_STATUS, 500: "internal server error"}  # Google and Azure document 500 as transient
MAX_REASON = 300


@dataclass(frozen=True)
class CloudEndpoints:
    """Where the token services and Secret Manager are (origins, no trailing slash)."""

    entra_authority: str = "https://login.microsoftonline.com"
    gcp_sts: str = "https://sts.googleapis.com"
    gcp_secret_manager: str = "https://secretmanager.googleapis.com"


PUBLIC = CloudEndpoints()


@dataclass(frozen=True)
class Answer:
    """An endpoint's answer: its status and JSON object ({} when the body is not one)."""

    status: int
    payload: dict[str, Any]


class _CloudTransport(Transport):
    """A Transport whose TLS context is the one every cloud origin of this process shares.

    Building a context from the system trust store (144 CAs) costs about 60 ms on the benchmark
    machine, and a job with both providers reaches four origins: fetching one Azure and one GCP
    secret took a median 419 ms with a context per origin, 210 ms with this one (in-process, 10
    runs each, a loaded 2-core machine). The context holds no per-origin state (the host name is
    checked per connection), and every cloud origin is verified alike."""

    def _tls_context(self) -> ssl.SSLContext:
        global _shared_context
        with _shared_context_lock:
            if _shared_context is None:
                _shared_context = super()._tls_context()
            return _shared_context


_shared_context: ssl.SSLContext | None = None
_shared_context_lock = threading.Lock()


class CloudHTTP:
    """Requests to one provider's endpoints, with retries inside one deadline; thread-safe."""

    def __init__(self, provider: str, retry: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> None:
        self.provider = provider  # "Azure Key Vault", named in every message
        self.retry = retry
        self._sleep = sleep
        self._deadline = time.monotonic() + retry.total_seconds
        self._transports: dict[str, Transport] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            for transport in self._transports.values():
                transport.close()
            self._transports.clear()

    def request(self, method: str, url: str, *, headers: dict[str, str], body: bytes | None = None) -> Answer:
        """`method url`, retried while the endpoint is unreachable or overloaded; CloudUnavailable
        when it stays so, or when its answer cannot be read."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        target = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        where = f"{self.provider} at {origin}"
        delay = self.retry.first_delay
        attempts = 0
        while True:
            attempts += 1
            deadline = min(time.monotonic() + self.retry.request_timeout, self._deadline)
            try:
                response = self._transport(origin).request(method, target, headers=headers, body=body,
                                                           deadline=deadline)
                # The URL names the tenant, project and secret, never a credential (those travel in
                # the body and the Authorization header).
                log.info("%s: %s %s: HTTP %s", self.provider, method, printable(url), response.status)
                if response.status not in RETRY_STATUS:
                    return Answer(response.status, _payload(response, where, response.status))
                failure = f"HTTP {response.status} ({RETRY_STATUS[response.status]})"
            except NetworkError as exc:
                failure = f"{'no answer' if exc.connected else 'unreachable'} ({exc.reason})"
            except TLSError as exc:
                if not exc.verify_failed:
                    raise CloudUnavailable(
                        f"TLS handshake with {origin} ({self.provider}) failed: {printable(exc.reason)}"
                    ) from None
                raise CloudUnavailable(
                    f"TLS: cannot verify {origin} ({self.provider}): {printable(exc.reason)}; radar verifies it "
                    f"against the system trust store (or SSL_CERT_FILE, SSL_CERT_DIR), never VAULT_CACERT"
                ) from None
            except CAFileError as exc:
                raise CloudUnavailable(f"cannot load the system trust store for {origin}: {exc}") from None
            except RedirectRefused as exc:
                raise CloudUnavailable(
                    f"{where} redirected {method} to {exc.target} (HTTP {exc.status}): refused, radar sends "
                    f"credentials only to the origin it asked"
                ) from None
            except AnswerTooLarge:
                raise CloudUnavailable(
                    f"{where} answered with more than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB; refused unread"
                ) from None
            remaining = self._deadline - time.monotonic()
            if remaining <= delay:
                raise CloudUnavailable(
                    f"{where} is unavailable: {failure}; gave up after {attempts} attempt(s) within "
                    f"--vault-timeout ({self.retry.total_seconds:g} s)"
                )
            log.warning("%s: %s %s: %s; retrying in %.1f s (%.1f s of --vault-timeout left)",
                        self.provider, method, printable(url), failure, delay, remaining)
            self._sleep(delay)
            delay = min(delay * 2, self.retry.max_delay)

    def _transport(self, origin: str) -> Transport:
        with self._lock:
            if origin not in self._transports:
                self._transports[origin] = _CloudTransport(origin)
            return self._transports[origin]


def _payload(response: Any, where: str, status: int) -> dict[str, Any]:
    try:
        payload = response.json()
    except AnswerTooDeep:
        raise CloudUnavailable(f"{where} answered with JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError:
        if status == 200:
            kind = printable(response.content_type or "no content type")
            raise CloudUnavailable(f"{where} answered HTTP 200 with {kind}, not JSON") from None
        return {}  # an error page from a proxy or gateway: the status says enough
    return payload if isinstance(payload, dict) else {}


# RFC 6750's b64token: what may follow "Bearer " in a header. Entra ID's tokens are JWTs of a few
# KiB, Google's `ya29.` strings; 64 KiB is far beyond both.
_BEARER = re.compile(r"[A-Za-z0-9\-._~+/]{1,65536}=*")


def access_token(answer: Answer, service: str, token_var: str) -> str | None:
    """The `access_token` of a 200 answer from a token service; None for any other status
    (the caller reports the service's error). An answer without a usable token is a CloudError:
    anything else would end up in an Authorization header."""
    if answer.status != 200:
        return None
    token = answer.payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise CloudError(f"{service} answered the token request for {token_var} without an access token")
    if not _BEARER.fullmatch(token):
        raise CloudError(f"{service} answered the token request for {token_var} with an access token that is "
                         f"not a bearer token (RFC 6750)")
    return token


def error_text(answer: Answer, *credentials: str) -> str:
    """The provider's own error, one line: `code (inner code): message`.

    Two shapes: OAuth 2.0 token services (Entra ID, Google STS) answer
    `{"error": "invalid_grant", "error_description": "..."}`; Key Vault and Google APIs answer
    `{"error": {"code", "message", ...}}` (Key Vault adds `innererror.code`, Google `status`).
    Any credential is scrubbed out (a service could echo one), the text is escaped and capped.
    """
    error = answer.payload.get("error")
    inner = None
    if isinstance(error, dict):
        code = error.get("status") or error.get("code")
        message = error.get("message")
        nested = error.get("innererror")
        inner = nested.get("code") if isinstance(nested, dict) else None
    else:
        code, message = error, answer.payload.get("error_description")
    code_text = str(code) if isinstance(code, (str, int)) and code != "" else f"HTTP {answer.status}"
    if isinstance(inner, str) and inner:
        code_text += f" ({inner})"
    text = str(message) if isinstance(message, (str, int)) else ""
    # Entra ID appends "\r\nTrace ID: ... Correlation ID: ... Timestamp: ...": not the reason.
    text = text.split("Trace ID:", 1)[0]
    for credential in credentials:
        if credential:
            text = text.replace(credential, "[MASKED]")
    text = " ".join(text.split())
    line = printable(f"{code_text}: {text}" if text else code_text)
    return line if len(line) <= MAX_REASON else line[: MAX_REASON - 3] + "..."


Spec = TypeVar("Spec", AzureSecretSpec, GCPSecretSpec)


def fetch_all(
    specs: Sequence[Spec],
    id_token: Callable[[str], str | None],
    *,
    expected_by: str,
    exchange: Callable[[str, str], str],
    read: Callable[[Spec, str], bytes],
) -> dict[str, Outcome]:
    """Each spec's outcome: one token exchange per ID token variable (`exchange(jwt, token_var)`
    -> access token), then the reads in parallel (`read(spec, access_token)` -> value).

    A CloudError fails the secrets it concerns (a rejected ID token: every secret that uses it);
    CloudUnavailable fails every secret still waiting, without asking the provider again.
    Every message names the secret's variable."""
    outcomes: dict[str, Outcome] = {}
    tokens: dict[str, str] = {}

    def fail(spec: Spec, error: CloudError | MissingIDToken) -> None:
        failure = type(error)(f"secret {spec.name}: {error}")
        outcomes[spec.name] = SecretFailure(spec, failure)

    for token_var in dict.fromkeys(s.token_var for s in specs):
        users = [s for s in specs if s.token_var == token_var]
        jwt = id_token(token_var)
        if not jwt:
            missing = MissingIDToken(
                f"ID token variable {token_var} is not set; in GitLab CI define it under the job's "
                f"id_tokens: ({token_var}: aud: ...) with the audience {expected_by} expects"
            )
            for spec in users:
                fail(spec, missing)
            continue
        try:
            tokens[token_var] = exchange(jwt, token_var)
        except CloudUnavailable as exc:
            for spec in specs:
                if spec.name not in outcomes:
                    fail(spec, exc)
            return outcomes
        except CloudError as exc:
            for spec in users:
                fail(spec, exc)

    pending = [s for s in specs if s.token_var in tokens]

    def one(spec: Spec) -> bytes | CloudError:
        try:
            return read(spec, tokens[spec.token_var])
        except CloudError as exc:
            return exc

    if len(pending) > 1:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_READS, len(pending))) as pool:
            results = list(pool.map(one, pending))
    else:
        results = [one(s) for s in pending]
    unavailable = next((r for r in results if isinstance(r, CloudUnavailable)), None)
    for spec, result in zip(pending, results):
        if isinstance(result, bytes):
            outcomes[spec.name] = ResolvedSecret(spec, result)
        elif not isinstance(result, CloudUnavailable):
            fail(spec, result)
    if unavailable is not None:
        for spec in specs:
            if spec.name not in outcomes:
                fail(spec, unavailable)
    return outcomes


ENTRY_KEYS = ("name", "version")


def entry_name(raw: Any, provider: str, where: str, variables: JobVariables, pattern: re.Pattern[str],
               names: str) -> str:
    """The secret's name in a `provider:` entry (`azure_key_vault`, `gcp_secret_manager`), expanded
    like a Vault path and matched against `pattern`; `names` says what a valid one is."""
    if not isinstance(raw, dict):
        raise VaultConfigError(f"{where}: {provider}: must be a mapping with name: (and version:)")
    unknown = [str(k) for k in raw if k not in ENTRY_KEYS]
    if unknown:
        raise VaultConfigError(f"{where}: {provider}: unknown key(s) {', '.join(unknown)}; use name: and version:")
    name = raw.get("name")
    name = variables.expand(name) if isinstance(name, str) else None
    if name is None or not pattern.fullmatch(name):
        raise VaultConfigError(f"{where}: {provider}: name: must be {names}")
    return name


def required(variables: JobVariables, names: Sequence[str], needs: str) -> dict[str, str]:
    """The job variables `names`, stripped; all must be set, else one error naming the missing
    ones and then `needs` (what the provider needs them for)."""
    values = {n: (variables.get(n) or "").strip() for n in names}
    missing = [n for n, v in values.items() if not v]
    if missing:
        raise VaultConfigError(f"{', '.join(missing)} not set; {needs}")
    return values


class CloudStore:
    """What both secret stores share: one HTTP session, the access tokens they were granted (so
    that `radar exec` can mask them), and `fetch_all`. A store says how it exchanges an ID token
    (`_exchange`, through `_access_token`) and how it reads a secret (`_read`, through `_get`)."""

    provider = ""  # "Azure Key Vault", named in every message
    expected_by = ""  # who checks the ID token's audience, for the missing-token message

    def __init__(self, retry: RetryPolicy, endpoints: CloudEndpoints) -> None:
        self.endpoints = endpoints
        self.http = CloudHTTP(self.provider, retry)
        self.access_tokens: list[str] = []
        self._headers = {"User-Agent": f"radar/{__version__}", "Accept": "application/json"}

    def close(self) -> None:
        self.http.close()

    def fetch(self, specs: list[Any], variables: JobVariables) -> dict[str, Outcome]:
        return fetch_all(specs, variables.get, expected_by=self.expected_by, exchange=self._exchange, read=self._read)

    def _exchange(self, jwt: str, token_var: str) -> str:
        raise NotImplementedError

    def _read(self, spec: Any, access_token: str) -> bytes:
        raise NotImplementedError

    def _access_token(self, service: str, url: str, form: dict[str, str], token_var: str) -> tuple[str | None, Answer]:
        """POST `form` to a token service: the access token it grants (kept, for masking), or None
        and its answer, for the store to say why."""
        answer = self.http.request("POST", url, body=urlencode(form).encode(),
                                   headers={**self._headers, "Content-Type": "application/x-www-form-urlencoded"})
        token = access_token(answer, service, token_var)
        if token is not None:
            self.access_tokens.append(token)
        return token, answer

    def _get(self, url: str, access_token: str) -> Answer:
        return self.http.request("GET", url, headers={**self._headers, "Authorization": f"Bearer {access_token}"})
