"""Data that crosses the Vault modules' boundaries (frozen, no credentials in any `repr`)."""

from __future__ import annotations

from dataclasses import dataclass, field

# `secrets:vault:engine:name` values GitLab Runner accepts (`kv-v2` is the default).
KV_V2 = "kv-v2"
KV_V1 = "kv-v1"
GENERIC = "generic"
ENGINES = (KV_V2, KV_V1, GENERIC)

# Ways `radar exec` logs in to Vault (`VAULT_AUTH_METHOD`, `--auth-method`); `jwt` is GitLab's.
JWT = "jwt"
AUTH_METHODS = (JWT, "approle", "kubernetes", "cert")


@dataclass(frozen=True)
class Variable:
    """One CI/CD variable from YAML: `expand: false` keeps `$` references literal."""

    name: str
    value: str
    expand: bool = True


@dataclass(frozen=True)
class JobDefinition:
    """The parts of one job that `radar exec` uses, after `extends:`/`default:`/`!reference`.

    `secrets` and `id_tokens` are still raw YAML mappings: `spec` validates them.
    """

    origin: str  # "job deploy in .gitlab-ci.yml" or "secrets file ci/secrets.yml"
    secrets: dict = field(hash=False)
    id_tokens: tuple[str, ...] = ()
    variables: tuple[Variable, ...] = ()


@dataclass(frozen=True)
class VaultSecretSpec:
    """A `secrets:` entry read from Vault, with variables already expanded."""

    name: str  # the CI/CD variable that receives the secret
    engine: str  # kv-v2, kv-v1 or generic
    mount: str  # where the engine is mounted (`engine:path`, the `@mount` suffix)
    path: str  # the secret's path inside the engine
    field: str
    file: bool  # True: the variable holds a file path; False: the value itself
    token_var: str  # the variable holding the ID token used to log in

    @property
    def read_path(self) -> str:
        """The API path read, without `/v1/`: `ops/data/production/db` for kv-v2."""
        mount = self.mount.strip("/")
        path = self.path.strip("/")
        if self.engine == KV_V2:
            return f"{mount}/data/{path}"
        return f"{mount}/{path}"

    @property
    def source(self) -> str:
        """Where the value came from, for masking and reports: never the value."""
        return f"vault {self.read_path} field {self.field}"


@dataclass(frozen=True)
class AzureSecretSpec:
    """A `secrets:` entry read from Azure Key Vault (`azure_key_vault: {name, version}`)."""

    name: str  # the CI/CD variable that receives the secret
    secret_name: str  # the secret's name in the key vault
    version: str | None  # None: the latest version
    file: bool
    token_var: str  # the variable holding the ID token exchanged for an Entra ID access token

    @property
    def source(self) -> str:
        return f"azure key vault secret {self.secret_name} version {self.version or 'latest'}"


@dataclass(frozen=True)
class GCPSecretSpec:
    """A `secrets:` entry read from GCP Secret Manager (`gcp_secret_manager: {name, version}`)."""

    name: str
    secret_name: str  # the secret's id in the project GCP_PROJECT_NUMBER
    version: str  # a version number, an alias, or `latest` (GitLab's default)
    file: bool
    token_var: str  # the variable holding the ID token exchanged at Google's STS

    @property
    def source(self) -> str:
        return f"gcp secret manager secret {self.secret_name} version {self.version}"


@dataclass(frozen=True)
class UnsupportedSecretSpec:
    """A `secrets:` entry for a provider radar parses but does not fetch from yet."""

    name: str
    provider: str  # "aws_secrets_manager", "akeyless", ...
    description: str  # "AWS Secrets Manager secret test"

    @property
    def source(self) -> str:
        return self.description


SecretSpec = VaultSecretSpec | AzureSecretSpec | GCPSecretSpec | UnsupportedSecretSpec
# The specs radar fetches (every kind but UnsupportedSecretSpec).
FetchedSpec = VaultSecretSpec | AzureSecretSpec | GCPSecretSpec


@dataclass(frozen=True)
class VaultSettings:
    """How to reach and log in to Vault: GitLab's `VAULT_*` variables, expanded."""

    server_url: str  # without a trailing slash
    auth_path: str = "jwt"
    auth_role: str | None = None
    namespace: str | None = None
    cacert: str | None = None
    auth_method: str = JWT
    # TLS client certificate and key files (cert auth): sent on every connection to Vault.
    client_cert: str | None = None
    client_key: str | None = None


@dataclass(frozen=True)
class ResolvedSecret:
    """A secret value fetched for one spec. `repr` hides the value."""

    spec: FetchedSpec
    value: bytes = field(repr=False)


@dataclass(frozen=True)
class SecretFailure:
    """A secret that could not be resolved, and why (the message names no value)."""

    spec: SecretSpec
    error: Exception = field(compare=False)

    @property
    def reason(self) -> str:
        return str(self.error)
