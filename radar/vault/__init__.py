"""`radar exec` and `radar secrets check`: GitLab's `secrets:` keyword for every tier.

The pipeline, one module per step:

- `ciyaml`     `.gitlab-ci.yml` -> one job's raw `secrets`, `id_tokens` and `variables`
               (`!reference`, `extends:`, `default:`, `inherit:` resolved as GitLab does)
- `variables`  variable precedence and `$VAR` / `${VAR}` expansion
- `spec`       raw `secrets:` entries -> typed secret specs (short and long `vault:` forms)
- `settings`   `VAULT_SERVER_URL`, `VAULT_AUTH_ROLE`, ... -> `VaultSettings`
- `client`     Vault's HTTP API: JWT login, reads, retries, errors a user can act on
- `transport`  HTTP(S) with the standard library (start-up time): TLS, proxies, keep-alive
- `azure`, `gcp`  `azure_key_vault:` / `gcp_secret_manager:` entries, their `AZURE_*` / `GCP_*`
               settings, and fetching: ID token -> cloud access token -> secret
- `cloud`      what both share: HTTP through `transport` with retries, the clouds' error shapes
- `resolve`    specs + client (and the cloud providers) -> one outcome per secret (value or reason)
- `deliver`    values -> environment variables and 0600 files in a private directory
- `execute`    all of the above around a command whose output is masked
"""
