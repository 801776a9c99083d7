"""Typed errors for `radar exec` and `radar secrets check`.

Every message is one line a user can act on. None may contain a token, a JWT or a secret
value: callers pass names, paths and Vault's own error text, never credentials.
"""

from __future__ import annotations

from radar.errors import RadarError


class VaultConfigError(RadarError):
    """The job definition or the Vault settings are wrong or incomplete (usage error, exit 2)."""


class CIYamlError(VaultConfigError):
    """A CI YAML file cannot be read or does not define what was asked for."""


class UnsupportedProviderError(VaultConfigError):
    """A secret comes from a provider radar does not fetch from yet (AWS Secrets Manager, ...)."""


class SecretFilesError(RadarError):
    """The directory for `file: true` secrets (`$TMPDIR`) cannot hold them safely (exit 2)."""


class SecretError(RadarError):
    """One secret could not be resolved; the other secrets may still resolve."""

    exit_status = 1


class SecretNotFound(SecretError):
    """Vault has no such secret, or the secret has no such field."""


class PermissionDenied(SecretError):
    """Vault's policy for the logged-in role does not allow reading a path."""


class VaultError(RadarError):
    """Talking to Vault failed for every secret that needs this server or login."""

    exit_status = 1


class MissingIDToken(VaultError):
    """The variable that should hold the job's ID token is unset or empty."""


class LoginRejected(VaultError):
    """Vault refused the ID token (audience, bound claims, expiry, issuer, role...)."""


class NamespaceNotFound(VaultError):
    """VAULT_NAMESPACE names a namespace that does not exist."""


class TLSVerificationError(VaultError):
    """Vault's certificate could not be verified."""


class VaultUnavailable(VaultError):
    """Vault stayed unreachable, sealed or overloaded for the whole retry budget."""


class UnsafeRedirect(VaultError):
    """Vault redirected radar where it will not send credentials (another origin, https to
    http), with a status Vault never uses, or round in circles."""


class CloudError(RadarError):
    """Azure Key Vault, GCP Secret Manager or their token services refused or failed a request:
    the secrets that needed it fail, the others may still resolve."""

    exit_status = 1


class CloudUnavailable(CloudError):
    """A cloud endpoint stayed unreachable, failed TLS verification, redirected elsewhere or
    answered what radar will not read: every secret still waiting on that provider fails."""
