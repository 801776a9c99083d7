"""GitLab's Vault variables -> `VaultSettings`.

`VAULT_SERVER_URL` (required), `VAULT_AUTH_ROLE` (optional: Vault's default role otherwise),
`VAULT_AUTH_PATH` (default `jwt`), `VAULT_NAMESPACE` (empty, `root` and `/` mean the root
namespace) and `VAULT_CACERT` (a PEM file of CA certificates that verify Vault's certificate),
looked up like any job variable and expanded.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from radar.vault.errors import VaultConfigError
from radar.vault.model import VaultSettings
from radar.vault.variables import JobVariables


def vault_settings(variables: JobVariables) -> VaultSettings:
    url = (variables.get("VAULT_SERVER_URL") or "").strip()
    if not url:
        raise VaultConfigError(
            "VAULT_SERVER_URL is not set; set it to your Vault server's URL, such as "
            "https://vault.example.com:8200 (a CI/CD variable, or exported locally)"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise VaultConfigError(f"VAULT_SERVER_URL={url} is not an http:// or https:// URL")
    auth_path = (variables.get("VAULT_AUTH_PATH") or "jwt").strip().strip("/") or "jwt"
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
    return VaultSettings(
        server_url=url.rstrip("/"),
        auth_path=auth_path,
        auth_role=role,
        namespace=namespace or None,
        cacert=cacert,
    )
