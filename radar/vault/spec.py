"""Raw `secrets:` entries -> typed secret specs, with GitLab's defaults and variable expansion.

`vault:` short form `production/db/password@ops`: everything before the first `@` is the
secret path and field (the field is the last `/` segment), the suffix is the mount; without a
suffix the mount is `kv-v2`, as GitLab's CI YAML reference says ("`engine:name` and
`engine:path` both default to `kv-v2`"). Long form: `engine: {name, path}`, `path`, `field`,
all required, as GitLab validates them. The engine name, engine path, secret path and field
are expanded with the job's variables, as GitLab Runner does.

`azure_key_vault: {name, version}` and `gcp_secret_manager: {name, version}` are parsed by
their providers' modules (`azure`, `gcp`); other providers GitLab knows are parsed and refused.

`token: $VAR` names the ID token variable. Without `token:`, GitLab uses the job's only ID
token; with several it picks one unpredictably, so radar refuses and names them. Logging in
without an ID token (AppRole, Kubernetes or cert auth), a job needs neither.
"""

from __future__ import annotations

import re
from typing import Any

from radar.vault import azure, gcp
from radar.vault.errors import VaultConfigError
from radar.vault.model import (
    ENGINES,
    KV_V2,
    JobDefinition,
    SecretSpec,
    UnsupportedSecretSpec,
    VaultSecretSpec,
)
from radar.vault.variables import JobVariables

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")

# Providers radar fetches from besides Vault: the key, and the module that parses its mapping.
CLOUD_PROVIDERS = {"azure_key_vault": azure, "gcp_secret_manager": gcp}
# Providers GitLab knows that radar does not fetch from: parsed, then refused by name rather than skipped.
OTHER_PROVIDERS = {
    "aws_secrets_manager": "AWS Secrets Manager",
    "gitlab_secrets_manager": "GitLab Secrets Manager",
    "akeyless": "Akeyless",
}
ENTRY_OPTIONS = ("file", "token")


def secret_specs(job: JobDefinition, variables: JobVariables, *, id_token_required: bool = True) -> tuple[SecretSpec, ...]:
    """One spec per entry of `job.secrets`, in file order. `id_token_required`: whether Vault
    login uses an ID token (JWT auth); otherwise an entry without one has token variable ""."""
    return tuple(_spec(name, raw, job, variables, id_token_required) for name, raw in job.secrets.items())


def _spec(name: str, raw: Any, job: JobDefinition, variables: JobVariables, id_token_required: bool) -> SecretSpec:
    where = f"{job.origin}: secret {name}"
    if not _NAME.fullmatch(name):
        raise VaultConfigError(f"{where}: not a valid variable name")
    if not isinstance(raw, dict):
        raise VaultConfigError(f"{where}: must be a mapping with vault: (and file:, token:)")
    providers = [key for key in raw if key == "vault" or key in CLOUD_PROVIDERS or key in OTHER_PROVIDERS]
    unknown = [str(key) for key in raw if key not in providers and key not in ENTRY_OPTIONS]
    if unknown:
        raise VaultConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if len(providers) != 1:
        choices = ", ".join(("vault", *CLOUD_PROVIDERS, *OTHER_PROVIDERS))
        raise VaultConfigError(f"{where}: needs exactly one provider key ({choices})")
    provider = providers[0]

    file = raw.get("file", True)
    if not isinstance(file, bool):
        raise VaultConfigError(f"{where}: file: must be true or false")
    # Azure and Google accept nothing but the job's ID token, whatever Vault logs in with.
    token_var = _token_variable(raw.get("token"), job, where, id_token_required or provider in CLOUD_PROVIDERS)

    if provider in CLOUD_PROVIDERS:
        return CLOUD_PROVIDERS[provider].secret_spec(
            name, raw[provider], file=file, token_var=token_var, variables=variables, where=where
        )
    if provider != "vault":
        return UnsupportedSecretSpec(name=name, provider=provider, description=_describe(provider, raw[provider]))

    engine, mount, path, field = _vault_location(raw["vault"], where)
    engine = variables.expand(engine)
    if engine not in ENGINES:
        raise VaultConfigError(f"{where}: unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    return VaultSecretSpec(
        name=name,
        engine=engine,
        mount=variables.expand(mount),
        path=variables.expand(path),
        field=variables.expand(field),
        file=file,
        token_var=token_var,
    )


def _vault_location(raw: Any, where: str) -> tuple[str, str, str, str]:
    """(engine name, mount, path, field) from the short or the long `vault:` form."""
    if isinstance(raw, str):
        location, _, mount = raw.partition("@")
        path, _, field = location.rpartition("/")
        if not path or not field or not mount and "@" in raw:
            raise VaultConfigError(
                f"{where}: vault: {raw!r} must look like path/to/secret/field or path/to/secret/field@mount"
            )
        return KV_V2, mount or KV_V2, path, field
    if not isinstance(raw, dict):
        raise VaultConfigError(f"{where}: vault: must be a string like production/db/password@ops or a mapping")
    missing = [key for key in ("engine", "path", "field") if key not in raw]
    if missing:
        raise VaultConfigError(f"{where}: vault: is missing {', '.join(missing)}")
    engine = raw["engine"]
    if not isinstance(engine, dict) or not all(k in engine for k in ("name", "path")):
        raise VaultConfigError(f"{where}: vault:engine: needs name: (kv-v2, kv-v1, generic) and path: (the mount)")
    values = (engine["name"], engine["path"], raw["path"], raw["field"])
    if not all(isinstance(v, str) and v for v in values):
        raise VaultConfigError(f"{where}: vault: engine name and path, path and field must be non-empty strings")
    return values


def _token_variable(raw: Any, job: JobDefinition, where: str, required: bool) -> str:
    if raw is None:
        if not required:
            return ""
        if len(job.id_tokens) == 1:
            return job.id_tokens[0]
        if not job.id_tokens:
            raise VaultConfigError(
                f"{where}: no token: and no id_tokens: defined; add id_tokens: (e.g. VAULT_ID_TOKEN "
                f"with aud:) and token: $VAULT_ID_TOKEN"
            )
        raise VaultConfigError(
            f"{where}: several ID tokens are defined ({', '.join(job.id_tokens)}); "
            f"choose one with token: $NAME"
        )
    if isinstance(raw, str):
        text = raw.strip()
        match = _TOKEN.fullmatch(text)
        if match:
            return match.group(1) or match.group(2)
        if _NAME.fullmatch(text):
            return text
    raise VaultConfigError(f"{where}: token: must name an ID token variable, like $VAULT_ID_TOKEN")


def _describe(provider: str, raw: Any) -> str:
    label = OTHER_PROVIDERS[provider]
    if isinstance(raw, dict) and "name" in raw:
        version = f" version {raw['version']}" if raw.get("version") is not None else ""
        return f"{label} secret {raw['name']}{version}"
    return f"{label} secret"
