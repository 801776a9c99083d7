"""Secret specs + a Vault client -> one outcome per secret: its value, or why it failed.

One login per ID token variable (JWT auth), or one login for the run with another auth
method (`auth`), one read per distinct path (several fields of one secret
cost one round trip), reads in parallel. Failures are per secret where Vault's answer is per
secret (not found, permission denied, a rejected login for the secrets that use that token);
a server-wide failure (unreachable, sealed, TLS, unknown namespace, a redirect radar will not
follow) fails every secret that was still waiting, without asking Vault again. Secrets of other
providers (Azure Key Vault, GCP Secret Manager) go to the `Provider` given for their spec type.

With a `LeaseKeeper`, every token logged in and every lease read is handed to it as soon as
Vault grants it, so that it can revoke them whatever happens next.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from radar.vault.auth import log_in
from radar.vault.client import ReadForbidden, ReadNotFound, VaultClient, VaultToken
from radar.errors import RadarError
from radar.vault.leases import LeaseKeeper
from radar.vault.errors import (
    MissingIDToken,
    NamespaceNotFound,
    PermissionDenied,
    SecretNotFound,
    TLSVerificationError,
    UnsafeRedirect,
    UnsupportedProviderError,
    VaultError,
    VaultUnavailable,
)
from radar.vault.model import (
    JWT,
    KV_V2,
    ResolvedSecret,
    SecretFailure,
    SecretSpec,
    UnsupportedSecretSpec,
    VaultSecretSpec,
)
from radar.vault.variables import JobVariables

Outcome = ResolvedSecret | SecretFailure
SERVER_WIDE = (VaultUnavailable, TLSVerificationError, NamespaceNotFound, UnsafeRedirect)
MAX_PARALLEL_READS = 8


class Provider(Protocol):
    """Fetches the secrets of one kind of spec (azure.AzureKeyVault, gcp.GCPSecretManager)."""

    def fetch(self, specs: list[Any], variables: JobVariables) -> dict[str, Outcome]: ...


def resolve(specs: Sequence[SecretSpec], variables: JobVariables, client: VaultClient | None,
            providers: Mapping[type, Provider] | None = None, held: LeaseKeeper | None = None) -> tuple[Outcome, ...]:
    """Every spec's outcome, in the order of `specs`. `client` may be None when no spec needs Vault;
    `providers` fetch the specs of their type (one is needed for each type present); `held`
    receives the Vault tokens and leases obtained."""
    outcomes: dict[str, Outcome] = {}
    for spec in specs:
        if isinstance(spec, UnsupportedSecretSpec):
            outcomes[spec.name] = SecretFailure(spec, UnsupportedProviderError(
                f"secret {spec.name}: {spec.provider} ({spec.description}) is not supported yet; "
                f"radar fetches secrets from HashiCorp Vault and OpenBao only"
            ))
    vault_specs = [s for s in specs if isinstance(s, VaultSecretSpec)]
    if vault_specs:
        assert client is not None, "Vault secrets need a client"
        outcomes.update(_resolve_vault(vault_specs, variables, client, held))
    for kind, provider in (providers or {}).items():
        chosen = [s for s in specs if isinstance(s, kind)]
        if chosen:
            outcomes.update(provider.fetch(chosen, variables))
    return tuple(outcomes[spec.name] for spec in specs)


def _resolve_vault(specs: list[VaultSecretSpec], variables: JobVariables, client: VaultClient,
                   held: LeaseKeeper | None) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    tokens: dict[str, VaultToken] = {}
    token_vars = dict.fromkeys(s.token_var for s in specs)
    if client.settings.auth_method != JWT:
        try:
            token = log_in(client, variables)
        except VaultError as exc:  # server-wide or a rejected login: no secret can be read
            return _fail_remaining(specs, outcomes, exc)
        if held is not None:
            held.add_token(token, client.settings.auth_method)
        tokens = dict.fromkeys(token_vars, token)
        token_vars = {}  # no ID tokens to log in with
    for token_var in token_vars:
        users = [s for s in specs if s.token_var == token_var]
        jwt = variables.get(token_var)
        if not jwt:
            error: RadarError = MissingIDToken(
                f"ID token variable {token_var} is not set; in GitLab CI define it under the job's "
                f"id_tokens: ({token_var}: aud: ...); elsewhere export it with a JWT Vault accepts"
            )
            outcomes.update({s.name: SecretFailure(s, error) for s in users})
            continue
        try:
            tokens[token_var] = client.login(jwt, token_var)
            if held is not None:
                held.add_token(tokens[token_var], token_var)
        except SERVER_WIDE as exc:
            return _fail_remaining(specs, outcomes, exc)
        except VaultError as exc:
            outcomes.update({s.name: SecretFailure(s, exc) for s in users})

    reads: dict[tuple[str, str], list[VaultSecretSpec]] = {}
    for spec in specs:
        if spec.token_var in tokens:
            reads.setdefault((spec.token_var, spec.read_path), []).append(spec)

    def read(key: tuple[str, str]) -> dict[str, Any] | Exception:
        token_var, path = key
        try:
            data, lease = client.read_leased(tokens[token_var], path)
        except (ReadNotFound, ReadForbidden, VaultError) as exc:
            return exc
        if lease is not None and held is not None:
            held.add_lease(lease, tokens[token_var], [s.name for s in reads[key]])
        return data

    keys = list(reads)
    if len(keys) > 1:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_READS, len(keys))) as pool:
            results = list(pool.map(read, keys))
    else:
        results = [read(k) for k in keys]

    server_error = next((r for r in results if isinstance(r, SERVER_WIDE)), None)
    for key, result in zip(keys, results):
        if not isinstance(result, SERVER_WIDE):
            outcomes.update({spec.name: _outcome(spec, result) for spec in reads[key]})
    if server_error is not None:
        return _fail_remaining(specs, outcomes, server_error)
    return outcomes


def _outcome(spec: VaultSecretSpec, result: dict[str, Any] | Exception) -> Outcome:
    path = spec.read_path
    if isinstance(result, ReadNotFound):
        hint = ""
        if "no handler for route" in result.reason:
            hint = f": no secrets engine is mounted at {spec.mount.strip('/')}/"
        elif result.reason:
            hint = f": {result.reason}"
        return SecretFailure(spec, SecretNotFound(f"secret not found: {spec.name} (tried {path}{hint})"))
    if isinstance(result, ReadForbidden):
        return SecretFailure(spec, PermissionDenied(
            f"permission denied: {spec.name}: Vault denied reading {path}; grant read on it in a "
            f"policy of the login role (VAULT_AUTH_ROLE), or fix the secret's path"
        ))
    if isinstance(result, Exception):
        return SecretFailure(spec, result)
    fields = result.get("data") if spec.engine == KV_V2 else result
    if not isinstance(fields, dict):
        return SecretFailure(spec, SecretNotFound(f"secret not found: {spec.name} (tried {path})"))
    if fields.get(spec.field) is None:
        return SecretFailure(spec, SecretNotFound(
            f"secret not found: {spec.name} (tried {path}: no field {spec.field!r})"
        ))
    return ResolvedSecret(spec, field_text(fields[spec.field]).encode("utf-8"))


def field_text(value: Any) -> str:
    """A secret field's value as a job gets it: strings as they are; other JSON values as compact
    JSON (`true`, `42`, `{"a":1}`). The Vault index hashes the same text.

    The value comes from an answer the client parsed, which nests at most MAX_JSON_DEPTH deep
    (transport), so serialising it stays far from Python's recursion limit, in any thread."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _fail_remaining(specs: list[VaultSecretSpec], outcomes: dict[str, Outcome], error: Exception) -> dict[str, Outcome]:
    for spec in specs:
        if spec.name not in outcomes:
            outcomes[spec.name] = SecretFailure(spec, error)
    return outcomes
