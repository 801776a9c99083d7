"""Azure Key Vault secrets, as GitLab reads them: `secrets: NAME: azure_key_vault: {name, version}`.

The job's variables `AZURE_KEY_VAULT_SERVER_URL` (the vault, https), `AZURE_CLIENT_ID` (the
Entra ID application) and `AZURE_TENANT_ID` say where; `token: $AZURE_JWT` names the ID token,
whose `aud` the application's federated credential trusts.

1. The ID token is exchanged for an Entra ID access token (client-credentials grant with a
   federated client assertion): `POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`
   with `client_assertion=<ID token>` and `scope=https://vault.azure.net/.default`.
2. `GET {AZURE_KEY_VAULT_SERVER_URL}/secrets/{name}/{version}?api-version=7.4` with that token
   (no version: the latest); the secret is the answer's `value`.

As in GitLab, `file:` defaults to true: the variable holds the path of a file with the value.
Errors quote Entra ID's or Key Vault's own code and message (`invalid_client: AADSTS700212: ...`,
`SecretNotFound: ...`), never the ID token or the access token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from radar.vault.client import RetryPolicy
from radar.vault.cloud import PUBLIC, Answer, CloudEndpoints, CloudStore, entry_name, error_text, required
from radar.vault.errors import CloudError, VaultConfigError
from radar.vault.model import AzureSecretSpec
from radar.vault.variables import JobVariables

PROVIDER = "Azure Key Vault"
API_VERSION = "7.4"
SCOPE = "https://vault.azure.net/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Key Vault's own rules: names of 1-127 letters, digits and dashes; versions are 32 hex digits.
# Checked here because both go into the URL that carries the access token.
SECRET_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
SECRET_VERSION = re.compile(r"[0-9A-Za-z]{1,64}")
# A tenant is a GUID or a domain (contoso.onmicrosoft.com); a client id is a GUID.
TENANT = re.compile(r"[0-9A-Za-z.-]{1,256}")
CLIENT_ID = re.compile(r"[0-9A-Za-z-]{1,128}")
# Entra ID's codes for an ID token its federated credential does not match, and what to check.
_HINTS = {
    "AADSTS700211": "the federated credential's issuer must be the ID token's iss (your GitLab URL)",
    "AADSTS700212": "the federated credential's audience must be the ID token's aud (id_tokens: aud:)",
    "AADSTS700213": "the federated credential's subject must be the ID token's sub",
    "AADSTS700016": "check AZURE_CLIENT_ID and AZURE_TENANT_ID",
    "AADSTS90002": "check AZURE_TENANT_ID",
}


@dataclass(frozen=True)
class AzureSettings:
    """Where the secrets are and which application reads them (none of it is a credential)."""

    server_url: str  # https://myvault.vault.azure.net, without a trailing slash
    client_id: str
    tenant_id: str


def secret_spec(name: str, raw: Any, *, file: bool, token_var: str, variables: JobVariables,
                where: str) -> AzureSecretSpec:
    """The `azure_key_vault:` mapping of entry `name`, its values expanded like Vault paths."""
    secret_name = entry_name(raw, "azure_key_vault", where, variables, SECRET_NAME,
                             "the secret's name in the key vault (1-127 letters, digits and dashes)")
    version = raw.get("version")
    if version is not None and not isinstance(version, str):
        raise VaultConfigError(
            f"{where}: azure_key_vault: version: must be a string; quote it (version: '0123abcd...'), "
            f"YAML reads unquoted digits as a number"
        )
    version = variables.expand(version) if version else None
    if version and not SECRET_VERSION.fullmatch(version):
        raise VaultConfigError(
            f"{where}: azure_key_vault: version: must be the version's id (32 hex digits, from the "
            f"secret's page in the key vault), or be left out for the latest"
        )
    return AzureSecretSpec(name=name, secret_name=secret_name, version=version or None,
                           file=file, token_var=token_var)


def azure_settings(variables: JobVariables) -> AzureSettings:
    """`AZURE_KEY_VAULT_SERVER_URL`, `AZURE_CLIENT_ID` and `AZURE_TENANT_ID`, all required."""
    values = required(variables, ("AZURE_KEY_VAULT_SERVER_URL", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"),
                      "Azure Key Vault secrets need AZURE_KEY_VAULT_SERVER_URL (such as "
                      "https://myvault.vault.azure.net), AZURE_CLIENT_ID and AZURE_TENANT_ID (the Entra ID application "
                      "with a federated credential for GitLab's ID tokens)")
    url = values["AZURE_KEY_VAULT_SERVER_URL"]
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number from 0 to 65535)
    except ValueError:
        raise VaultConfigError(f"AZURE_KEY_VAULT_SERVER_URL={url} has an invalid port") from None
    if parts.username is not None or parts.password is not None:
        # Messages name the server's URL: a password in it would end up in the job log.
        raise VaultConfigError("AZURE_KEY_VAULT_SERVER_URL must not hold a user name or password")
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise VaultConfigError(
            f"AZURE_KEY_VAULT_SERVER_URL={url} is not an https:// URL; radar sends the access token "
            f"only over TLS (such as https://myvault.vault.azure.net)"
        )
    if not TENANT.fullmatch(values["AZURE_TENANT_ID"]):
        raise VaultConfigError("AZURE_TENANT_ID must be the tenant's id (a GUID) or its domain name")
    if not CLIENT_ID.fullmatch(values["AZURE_CLIENT_ID"]):
        raise VaultConfigError("AZURE_CLIENT_ID must be the application (client) id, a GUID")
    return AzureSettings(server_url=url.rstrip("/"), client_id=values["AZURE_CLIENT_ID"],
                         tenant_id=values["AZURE_TENANT_ID"])


class AzureKeyVault(CloudStore):
    """Fetches a run's Azure Key Vault secrets."""

    provider = PROVIDER
    expected_by = "the federated credential of the Entra ID application"

    def __init__(self, settings: AzureSettings, retry: RetryPolicy, endpoints: CloudEndpoints = PUBLIC) -> None:
        super().__init__(retry, endpoints)
        self.settings = settings

    def _exchange(self, jwt: str, token_var: str) -> str:
        """The Entra ID access token for Key Vault, for the ID token `jwt`."""
        tenant, client = self.settings.tenant_id, self.settings.client_id
        token, answer = self._access_token("Entra ID", f"{self.endpoints.entra_authority}/{tenant}/oauth2/v2.0/token", {
            "client_id": client, "scope": SCOPE, "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": jwt,
        }, token_var)
        if token is not None:
            return token
        reason = error_text(answer, jwt)
        hint = next((f"; {h}" for code, h in _HINTS.items() if code in reason), "")
        raise CloudError(
            f"Entra ID refused the ID token in {token_var} (tenant {tenant}, client {client}): {reason}{hint}"
        )

    def _read(self, spec: AzureSecretSpec, access_token: str) -> bytes:
        version = spec.version or ""
        url = f"{self.settings.server_url}/secrets/{spec.secret_name}/{version}?api-version={API_VERSION}"
        answer = self._get(url, access_token)
        value = answer.payload.get("value")
        what = f"secret {spec.secret_name} version {spec.version or 'latest'}"
        if answer.status == 200 and isinstance(value, str):
            try:
                return value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (`"\ud800"`): JSON allows it, UTF-8 does not
                raise CloudError(f"{PROVIDER} answered {what} with a value that is not valid Unicode") from None
        if answer.status == 200:
            raise CloudError(f"{PROVIDER} answered {what} without a value")
        raise CloudError(f"{PROVIDER} refused {what}: {_key_vault_reason(answer, access_token)}")


def _key_vault_reason(answer: Answer, access_token: str) -> str:
    text = error_text(answer, access_token)
    reason = text if text.startswith("HTTP ") else f"HTTP {answer.status} {text}"
    if "ForbiddenByRbac" in reason:
        reason += "; give the application the Key Vault Secrets User role on the vault"
    return reason
