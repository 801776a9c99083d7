"""`radar audit`: configuration that hands secrets to the wrong jobs, in Vault and in CI files.

Audits find no secret values, only settings: a JWT role any project may log in with, a job that
echoes its secrets. Each rule yields an `AuditIssue`, which becomes a scan `Finding` so that every
report format, the baseline and `--fail-on` work on audits as they do on scans.
"""
