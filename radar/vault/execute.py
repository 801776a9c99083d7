"""`radar exec` and `radar secrets check` end to end: definition -> plan -> resolve -> run.

`run_with_secrets` fetches every secret (from Vault, Azure Key Vault, GCP Secret Manager)
before CMD starts (one failure and CMD never runs, as in GitLab), hands them over as variables
or files, registers every value (and every cloud access token radar got, the job's other
sensitive variables: its ID tokens, the Vault login's credentials and whatever `radar mask`
would mask) with the masking engine, and runs CMD through `run_masked`. Secret files are
removed when CMD ends, when it is killed, and when radar itself gets SIGTERM, SIGHUP or
SIGINT: before CMD starts, a handler turns those into an exception that unwinds through the
cleanup; while CMD runs, `run_masked` forwards them to CMD and returns its status, and the
cleanup follows. The same cleanup revokes the leases of dynamic secrets and radar's Vault token
(`leases`), after the files are gone; while CMD runs, those leases are renewed.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from radar.errors import RadarError
from radar.mask.model import MaskOptions, Refusal, Secret
from radar.mask.sources import DEFAULT_SECRET_GLOBS, from_env, from_environment, from_file
from radar.mask.stream import SecretSet
from radar.mask.wrap import run_masked
from radar.vault.azure import AzureKeyVault, AzureSettings, azure_settings
from radar.vault.ciyaml import default_ci_file, job_definition, load_ci_file, secrets_file_definition
from radar.vault.client import RetryPolicy, VaultClient
from radar.vault.cloud import PUBLIC, CloudEndpoints
from radar.vault.deliver import SecretFiles, parent_directory
from radar.vault.errors import VaultConfigError
from radar.vault.gcp import GCPSecretManager, GCPSettings, gcp_settings
from radar.vault.leases import LeaseKeeper
from radar.vault.model import (
    JWT, AzureSecretSpec, GCPSecretSpec, JobDefinition, ResolvedSecret, SecretFailure, SecretSpec,
    UnsupportedSecretSpec, VaultSecretSpec, VaultSettings,
)
from radar.vault.resolve import Outcome, resolve
from radar.vault.settings import auth_method, vault_settings
from radar.vault.spec import secret_specs
from radar.vault.variables import JobVariables

log = logging.getLogger("radar.vault")

TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(BaseException):
    """radar was told to stop (SIGTERM, SIGHUP) before CMD started.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way (logging
    swallows errors raised while it writes) can stop it from unwinding through the cleanup.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def as_error(self) -> RadarError:
        name = signal.Signals(self.signum).name
        error = RadarError(f"stopped by {name} before the command started; secret files removed")
        error.exit_status = 128 + self.signum
        return error


@dataclass(frozen=True)
class Plan:
    """What one run needs to know before it talks to Vault."""

    definition: JobDefinition
    variables: JobVariables
    specs: tuple[SecretSpec, ...]
    settings: VaultSettings | None  # None when no secret comes from Vault
    azure: AzureSettings | None = None  # None when no secret comes from Azure Key Vault
    gcp: GCPSettings | None = None  # None when no secret comes from GCP Secret Manager
    endpoints: CloudEndpoints = PUBLIC  # the public clouds; tests alone pass others


def load_definition(
    *, job: str | None, ci_file: str | None, secrets_file: str | None, environ: Mapping[str, str]
) -> JobDefinition:
    """The job `job` of `ci_file` (default `$CI_CONFIG_PATH` or `.gitlab-ci.yml`), or a secrets file."""
    if secrets_file is not None:
        if job is not None or ci_file is not None:
            raise VaultConfigError("use either --secrets-file or --job [--ci-file], not both")
        return secrets_file_definition(load_ci_file(secrets_file), secrets_file)
    if job is None:
        raise VaultConfigError("name the job with --job NAME, or pass --secrets-file PATH")
    path = ci_file or default_ci_file(environ)
    return job_definition(load_ci_file(path), job, path)


def make_plan(definition: JobDefinition, environ: Mapping[str, str], method: str | None = None,
              endpoints: CloudEndpoints | None = None) -> Plan:
    """`method`: `--auth-method`, which wins over VAULT_AUTH_METHOD; `endpoints`: the cloud
    providers' addresses, moved only by tests."""
    variables = JobVariables(definition.variables, environ)
    login = auth_method(variables, method)
    specs = secret_specs(definition, variables, id_token_required=login == JWT)
    needs_vault = any(isinstance(s, VaultSecretSpec) for s in specs)
    settings = vault_settings(variables, login) if needs_vault else None
    azure = azure_settings(variables) if any(isinstance(s, AzureSecretSpec) for s in specs) else None
    gcp = gcp_settings(variables) if any(isinstance(s, GCPSecretSpec) for s in specs) else None
    return Plan(definition, variables, specs, settings, azure, gcp, endpoints or PUBLIC)


def check_secrets(plan: Plan, retry: RetryPolicy) -> tuple[Outcome, ...]:
    """Log in and read every secret; nothing is written or run, nothing obtained is kept."""
    with _terminate_on_signals(), _client(plan, retry) as client, LeaseKeeper(client) as held, \
            _providers(plan, retry) as providers:
        return resolve(plan.specs, plan.variables, client, providers, held)


def run_with_secrets(
    plan: Plan,
    argv: Sequence[str],
    retry: RetryPolicy,
    *,
    environ: Mapping[str, str],
    options: MaskOptions = MaskOptions(),
    on_refusal: Callable[[Refusal], None] | None = None,
    files_parent: str | None = None,
    keep_leases: bool = False,
) -> int:
    """Resolve, deliver, run `argv` masked; return its status. Raises the first failure.
    `keep_leases`: leave the secrets' leases and radar's token to expire instead of revoking them."""
    unsupported = [s for s in plan.specs if isinstance(s, UnsupportedSecretSpec)]
    if unsupported:  # fail before asking Vault for anything, as the job cannot run anyway
        raise _first_failure([o for o in resolve(unsupported, plan.variables, None) if isinstance(o, SecretFailure)])
    if files_parent is None and any(not isinstance(s, UnsupportedSecretSpec) and s.file for s in plan.specs):
        files_parent = parent_directory(environ)  # checked before Vault is asked, like the above
    # Exits run inside out: files are removed first, then leases and the token are revoked.
    with _terminate_on_signals(), _client(plan, retry) as client, LeaseKeeper(client, keep=keep_leases) as held, \
            _providers(plan, retry) as providers, SecretFiles(files_parent) as files:
        outcomes = resolve(plan.specs, plan.variables, client, providers, held)
        credentials = client.credentials if client is not None else []
        failures = [o for o in outcomes if isinstance(o, SecretFailure)]
        if failures:
            raise _first_failure(failures)
        resolved = [o for o in outcomes if isinstance(o, ResolvedSecret)]
        env = _job_environment(plan, environ)
        env.update(files.variables(resolved))
        # radar keeps the cloud access tokens to itself, but a CMD could still come across one.
        access_tokens = [Secret(value=token.encode(), source=f"{provider.http.provider} access token")
                         for provider in providers.values() for token in provider.access_tokens]
        secret_set = SecretSet(_secrets_to_mask(plan, resolved, env, credentials) + access_tokens, options,
                               on_refusal=on_refusal)
        log.info(
            "running %s with %s", argv[0],
            ", ".join(f"{s.spec.name} ({'file' if s.spec.file else 'variable'})" for s in resolved),
        )
        held.start()
        return run_masked(argv, secret_set, env=env)


@contextmanager
def _client(plan: Plan, retry: RetryPolicy) -> Iterator[VaultClient | None]:
    if plan.settings is None:
        yield None
        return
    with VaultClient(plan.settings, retry) as client:
        yield client


@contextmanager
def _providers(plan: Plan, retry: RetryPolicy) -> Iterator[dict[type, AzureKeyVault | GCPSecretManager]]:
    """The cloud providers the plan's secrets need, each with its own deadline of `retry`."""
    providers: dict[type, AzureKeyVault | GCPSecretManager] = {}
    if plan.azure is not None:
        providers[AzureSecretSpec] = AzureKeyVault(plan.azure, retry, plan.endpoints)
    if plan.gcp is not None:
        providers[GCPSecretSpec] = GCPSecretManager(plan.gcp, retry, plan.endpoints)
    try:
        yield providers
    finally:
        for provider in providers.values():
            provider.close()


def _first_failure(failures: list[SecretFailure]) -> RadarError:
    error = failures[0].error
    if len(failures) == 1 and isinstance(error, RadarError):
        return error
    more = len(failures) - 1
    status = error.exit_status if isinstance(error, RadarError) else 1
    combined = RadarError(
        f"{failures[0].reason} (and {more} more secret(s) failed: "
        f"{', '.join(f.spec.name for f in failures[1:])}; run radar secrets check for each reason)"
    )
    combined.exit_status = status
    return combined


def _job_environment(plan: Plan, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment, plus the YAML variables it does not set (as a runner would export them)."""
    env = dict(environ)
    for name in plan.variables.yaml_names():
        if name not in env:
            env[name] = plan.variables.get(name) or ""
    return env


def _secrets_to_mask(plan: Plan, resolved: Sequence[ResolvedSecret], env: Mapping[str, str],
                     credentials: Sequence[str]) -> list[Secret]:
    """Fetched values first (so messages name their store), then ID tokens and the login's
    credentials (secret ids, tokens), then the usual suspects."""
    secrets = [Secret(value=s.value, source=f"{s.spec.source} (variable {s.spec.name})") for s in resolved]
    token_vars = dict.fromkeys((*plan.definition.id_tokens, *(s.token_var for s in plan.specs if not isinstance(s, UnsupportedSecretSpec))))
    secrets += [from_env(name, env) for name in token_vars if env.get(name, "").strip()]
    secrets += [Secret(value=c.encode(), source=f"Vault login credential #{n + 1}") for n, c in enumerate(credentials)]
    if plan.settings is not None and plan.settings.client_key:  # cert auth's private key, read by the login
        secrets.append(from_file(plan.settings.client_key))
    secrets += from_environment(env, DEFAULT_SECRET_GLOBS)
    return secrets


@contextmanager
def _terminate_on_signals() -> Iterator[None]:
    """SIGTERM/SIGHUP raise `Terminated` so that `with` blocks clean up (main thread only)."""
    def handler(signum: int, frame: object) -> None:
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, handler) for sig in TERMINATING_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
