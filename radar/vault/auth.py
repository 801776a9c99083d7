"""Logging in to Vault without GitLab's ID token: AppRole, Kubernetes and TLS-certificate auth.

HashiCorp's guidance picks the method by where runners execute: Kubernetes auth for runner
pods, AppRole (with response wrapping) or TLS certificates for on-premises fleets from which
Vault cannot reach GitLab's JWKS. Each function below does one method's login at
`auth/{VAULT_AUTH_PATH}/login` and returns the `VaultToken`; `settings` has already checked
that the method's variables are set. JWT login stays in `resolve` (one login per ID token).

Credentials (secret ids, the wrapping token, the service-account token) are read only here,
when logging in, and added to `client.credentials` so that `radar exec` masks them. No
message or log line carries one; the AppRole role id is not secret, but it is half of a
login, so it is not printed either.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable

from radar.report.printable import printable
from radar.vault.client import VaultClient, VaultToken
from radar.vault.errors import LoginRejected, VaultConfigError
from radar.vault.variables import JobVariables

DEFAULT_K8S_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"
# A service-account token is a JWT of 1-2 KiB; anything far larger is not one.
MAX_K8S_TOKEN_BYTES = 64 * 1024


def log_in(client: VaultClient, variables: JobVariables) -> VaultToken:
    """One login with the method of `client.settings.auth_method` (not `jwt`)."""
    return LOGINS[client.settings.auth_method](client, variables)


def approle(client: VaultClient, variables: JobVariables) -> VaultToken:
    """`{"role_id", "secret_id"}`; a wrapped secret id is unwrapped first, once."""
    role_id = _value(variables, "VAULT_ROLE_ID")
    secret_id = _value(variables, "VAULT_SECRET_ID")
    source = "VAULT_SECRET_ID"
    if not secret_id:
        source = "VAULT_WRAPPED_SECRET_ID"
        secret_id = _unwrap_secret_id(client, _value(variables, "VAULT_WRAPPED_SECRET_ID"))
    client.credentials.append(secret_id)
    return client.login_with(
        {"role_id": role_id, "secret_id": secret_id}, secrets=(role_id, secret_id),
        what=f"AppRole role id from VAULT_ROLE_ID, secret id from {source}",
        sends=f"the AppRole role id from VAULT_ROLE_ID and the secret id from {source}", method="AppRole",
    )


def _unwrap_secret_id(client: VaultClient, wrapping_token: str) -> str:
    """Check where the wrapping token was made, then unwrap it. The check (Vault's advice for
    response wrapping) refuses a token someone substituted, made by another endpoint, before
    it is used; the token itself is single-use, so a used or expired one means someone else
    may have had the secret id."""
    client.credentials.append(wrapping_token)
    intercepted = LoginRejected(
        "Vault refused the response-wrapping token in VAULT_WRAPPED_SECRET_ID: it was already "
        "unwrapped, has expired or was never issued. If nothing else unwrapped it, the secret id "
        "may have been intercepted: revoke the role's secret ids (or its secret id accessor), "
        "investigate, and issue a new wrapped secret id for this job"
    )
    info = client.wrapping_lookup(wrapping_token)
    if info is None:
        raise intercepted
    made_by = str(info.get("creation_path") or "")
    expected = f"auth/{client.settings.auth_path}/role/NAME/secret-id"
    if not re.fullmatch(rf"auth/{re.escape(client.settings.auth_path)}/role/[^/]+/(?:custom-)?secret-id", made_by):
        raise LoginRejected(
            f"the response-wrapping token in VAULT_WRAPPED_SECRET_ID was made by "
            f"{printable(made_by[:200]) or 'an unknown path'}, not by {expected}: refused without "
            f"unwrapping it; it may have been substituted, so investigate and issue a new wrapped "
            f"secret id (check VAULT_AUTH_PATH if the AppRole is mounted elsewhere)"
        )
    data = client.unwrap(wrapping_token)
    if data is None:
        raise intercepted
    secret_id = data.get("secret_id")
    if not isinstance(secret_id, str) or not secret_id:
        raise LoginRejected(
            "the response-wrapping token in VAULT_WRAPPED_SECRET_ID holds no AppRole secret id; wrap "
            "the answer of auth/approle/role/NAME/secret-id (X-Vault-Wrap-TTL)"
        )
    return secret_id


def kubernetes(client: VaultClient, variables: JobVariables) -> VaultToken:
    """`{"role", "jwt"}` with the pod's projected service-account token."""
    role = client.settings.auth_role or ""
    path = _value(variables, "VAULT_K8S_TOKEN_PATH") or DEFAULT_K8S_TOKEN_PATH
    jwt = read_service_account_token(path)
    client.credentials.append(jwt)
    return client.login_with(
        {"role": role, "jwt": jwt}, secrets=(jwt,),
        what=f"role {role}, service-account token from {path}",
        sends=f"the service-account token from {path} (role {role})", method="Kubernetes",
    )


def read_service_account_token(path: str) -> str:
    """The token in `path`, read without blocking (a FIFO) or reading more than it could be."""
    def refuse(problem: str) -> VaultConfigError:
        return VaultConfigError(
            f"cannot use the Kubernetes service-account token {path}: {problem}; run the job in a pod "
            f"with a projected service-account token, or point VAULT_K8S_TOKEN_PATH at the token file"
        )

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise refuse((exc.strerror or type(exc).__name__).lower()) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise refuse("not a regular file")
        data = os.read(fd, MAX_K8S_TOKEN_BYTES + 1)
    except OSError as exc:
        raise refuse((exc.strerror or type(exc).__name__).lower()) from None
    finally:
        os.close(fd)
    if len(data) > MAX_K8S_TOKEN_BYTES:
        raise refuse(f"larger than {MAX_K8S_TOKEN_BYTES // 1024} KiB, not a service-account token")
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise refuse("not a token (it is not ASCII text)") from None
    if not token:
        raise refuse("the file is empty")
    return token


def cert(client: VaultClient, variables: JobVariables) -> VaultToken:
    """An empty body (or `{"name"}`): the TLS client certificate is the credential, sent by the
    transport on this connection and every later one."""
    role = client.settings.auth_role
    body = {"name": role} if role else {}
    what = f"client certificate VAULT_CLIENT_CERT={client.settings.client_cert}, " + (
        f"role {role}" if role else "any matching role"
    )
    try:
        return client.login_with(body, secrets=(), what=what, sends=f"the {what}", method="TLS certificate")
    except LoginRejected as exc:
        if "invalid certificate" not in str(exc):
            raise
        raise LoginRejected(
            f"{exc}; the certificate must be signed by a CA that a role of the cert auth method trusts "
            f"(its certificate=), and be valid for client authentication"
        ) from None


def _value(variables: JobVariables, name: str) -> str:
    return (variables.get(name) or "").strip()


LOGINS: dict[str, Callable[[VaultClient, JobVariables], VaultToken]] = {
    "approle": approle,
    "kubernetes": kubernetes,
    "cert": cert,
}
