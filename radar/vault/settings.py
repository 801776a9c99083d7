"""GitLab's Vault variables -> `VaultSettings`.

`VAULT_SERVER_URL` (required), `VAULT_AUTH_ROLE` (optional: Vault's default role otherwise),
`VAULT_AUTH_PATH` (default `jwt`), `VAULT_NAMESPACE` (empty, `root` and `/` mean the root
namespace) and `VAULT_CACERT` (a PEM file of CA certificates that verify Vault's certificate),
looked up like any job variable and expanded.

`VAULT_AUTH_METHOD` (or `--auth-method`, which wins) picks the login: `jwt` (GitLab's, the
default), `approle`, `kubernetes` or `cert`; `VAULT_AUTH_PATH` then defaults to the method's
name. Each method's own variables are checked here, before Vault is asked anything; their
values (secret ids, tokens) are read only when logging in (`auth`).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from radar.report.printable import printable
from radar.vault.errors import VaultConfigError
from radar.vault.model import AUTH_METHODS, JWT, VaultSettings
from radar.vault.variables import JobVariables


def auth_method(variables: JobVariables, flag: str | None = None) -> str:
    """The login method: `--auth-method` if given, else VAULT_AUTH_METHOD, else `jwt`."""
    source = "--auth-method" if flag is not None else "VAULT_AUTH_METHOD"
    raw = flag if flag is not None else variables.get("VAULT_AUTH_METHOD")
    method = (raw or "").strip().lower() or JWT
    if method not in AUTH_METHODS:
        raise VaultConfigError(
            f"unknown auth method {printable(method[:40])!r} ({source}); use one of {', '.join(AUTH_METHODS)}"
        )
    return method


def vault_settings(variables: JobVariables, method: str = JWT) -> VaultSettings:
    url = (variables.get("VAULT_SERVER_URL") or "").strip()
    if not url:
        raise VaultConfigError(
            "VAULT_SERVER_URL is not set; set it to your Vault server's URL, such as "
            "https://vault.example.com:8200 (a CI/CD variable, or exported locally)"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise VaultConfigError(f"VAULT_SERVER_URL={url} is not an http:// or https:// URL")
    auth_path = (variables.get("VAULT_AUTH_PATH") or method).strip().strip("/") or method
    role = (variables.get("VAULT_AUTH_ROLE") or "").strip() or None
    namespace = (variables.get("VAULT_NAMESPACE") or "").strip()
    if namespace in ("", "/", "root"):
        namespace = ""
    cacert = (variables.get("VAULT_CACERT") or "").strip() or None
    if cacert is not None and not os.path.exists(cacert):
        raise VaultConfigError(
            f"VAULT_CACERT={cacert}: no such file; point it at the PEM file of the CA that signed "
            f"Vault's certificate"
        )
    client_cert, client_key = _check_method(variables, method, role, parts.scheme)
    return VaultSettings(
        server_url=url.rstrip("/"),
        auth_path=auth_path,
        auth_role=role,
        namespace=namespace or None,
        cacert=cacert,
        auth_method=method,
        client_cert=client_cert,
        client_key=client_key,
    )


def _check_method(variables: JobVariables, method: str, role: str | None, scheme: str) -> tuple[str | None, str | None]:
    """Refuse a method whose variables are missing; the client certificate and key for `cert`."""
    def given(name: str) -> bool:
        return bool((variables.get(name) or "").strip())

    if method == "approle":
        if not given("VAULT_ROLE_ID"):
            raise VaultConfigError(
                "auth method approle needs VAULT_ROLE_ID, the AppRole's role id "
                "(vault read auth/approle/role/NAME/role-id)"
            )
        if given("VAULT_SECRET_ID") == given("VAULT_WRAPPED_SECRET_ID"):
            which = "both are set" if given("VAULT_SECRET_ID") else "neither is set"
            raise VaultConfigError(
                f"auth method approle needs exactly one of VAULT_SECRET_ID (a secret id) and "
                f"VAULT_WRAPPED_SECRET_ID (a response-wrapping token holding one), {which}"
            )
    if method == "kubernetes" and role is None:
        raise VaultConfigError(
            "auth method kubernetes needs VAULT_AUTH_ROLE, the Vault role bound to the "
            "pod's service account"
        )
    if method != "cert":
        return None, None
    if scheme != "https":
        raise VaultConfigError(
            "auth method cert logs in with a TLS client certificate: VAULT_SERVER_URL must be https://"
        )
    paths = []
    for name, what in (("VAULT_CLIENT_CERT", "the client certificate"), ("VAULT_CLIENT_KEY", "its private key")):
        path = (variables.get(name) or "").strip()
        if not path:
            raise VaultConfigError(
                f"auth method cert needs {name}: the path of the PEM file with {what}"
            )
        if not os.path.isfile(path):
            raise VaultConfigError(f"{name}={path}: no such file; point it at the PEM file with {what}")
        paths.append(path)
    return paths[0], paths[1]
