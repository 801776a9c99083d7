"""`radar audit vault` and `radar audit ci [PATH]`: configuration that hands secrets to the wrong
jobs, reported like a scan's findings (every format, --baseline, exit 0 clean / 1 findings / 2 bad
input or something unreadable). The Vault client and the rules load only when an audit runs."""

from __future__ import annotations

import argparse
import os

from radar.cli import scan
from radar.cli.common import log_to_stderr, positive_float, positive_int

DEFAULT_TIMEOUT = 120.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit", help="find settings that hand secrets to the wrong jobs (radar audit vault, radar audit ci)",
        description="Audit configuration, not values: settings that leak secrets or hand them to the wrong jobs.",
    )
    audit_sub = p.add_subparsers(dest="audit_target", required=True, metavar="TARGET")
    _add_vault(audit_sub)
    _add_ci(audit_sub)


def _add_ci(audit_sub: argparse._SubParsersAction) -> None:
    p = audit_sub.add_parser(
        "ci", prog="radar audit ci",
        usage="radar audit ci [PATH] [--format FORMAT] [--output FILE] [--baseline FILE] [--show-ignored] "
              "[-q | -v] [--no-color]",
        help="GitLab CI jobs that leak their secrets or receive secrets they should not",
        description=(
            "Audit a GitLab CI configuration: jobs with secrets: but no ID token, the deprecated CI_JOB_JWT, TLS "
            "to Vault left unverified, secrets echoed, env/printenv or set -x in jobs that receive secrets, keys "
            "handed over with file: false, production secret jobs any branch can run, and secret jobs that "
            "schedules, triggers or the web form can start. "
            "Local include:s, extends:, !reference and anchors are resolved. Exit 0 when nothing is found, "
            "1 when something is, 2 when the configuration cannot be read."
        ),
        epilog="The rules and what each does not check are listed in the README (radar audit ci). Fingerprints "
               "(and baselines) use $RADAR_FINGERPRINT_KEY when set, else a per-installation key.",
    )
    p.add_argument("path", nargs="?", default=".", metavar="PATH",
                   help="the CI file, or the repository directory holding .gitlab-ci.yml (default: the current "
                        "directory); local includes are paths from that directory (for a file: from its directory)")
    scan.add_report_output_arguments(p)
    # What print_scan_report and before_scan read of a scan's options, which an audit does not take.
    p.set_defaults(run=_run_ci, takes_command=False, plan=None, mapping=None, migrated=None, vault_index=None)


def parse_ci_arguments(argv: list[str]) -> argparse.Namespace:
    """`radar audit ci`'s arguments, for `radar baseline create|update FILE audit ci [PATH]`."""
    sub = argparse.ArgumentParser(prog="radar audit").add_subparsers()
    _add_ci(sub)
    return sub.choices["ci"].parse_args(argv)


def _run_ci(args: argparse.Namespace) -> int:
    from radar.audit.ci import audit_ci
    from radar.audit.ci_files import locate
    from radar.scan.scanner import ScanReport, ScanStats

    key, _, _, started = scan.before_scan(args)
    audit = audit_ci(args.path)
    report = ScanReport([issue.as_finding(key) for issue in audit.issues], list(audit.warnings),
                        ScanStats(files=audit.files))
    root = locate(args.path)[1]
    context = {"kind": "directory", "target": args.path, "root": os.path.abspath(root), "started": started,
               "fingerprint_key_id": key.key_id}
    return scan.print_scan_report(args, report, context, f"{audit.jobs} job(s) in {audit.files} CI file(s)",
                                  {"files": audit.files, "jobs": audit.jobs})


def _add_vault(audit_sub: argparse._SubParsersAction) -> None:
    p = audit_sub.add_parser(
        "vault", prog="radar audit vault",
        usage="radar audit vault [--format FORMAT] [--output FILE] [--baseline FILE] [--show-ignored] "
              "[--max-ttl SECONDS] [--vault-timeout SECONDS] [-q | -v] [--no-color]",
        help="audit Vault's JWT roles, JWT/OIDC auth mounts and ACL policies",
        description=(
            "Read the JWT/OIDC auth mounts (sys/auth), their config and roles, and the ACL policies "
            "(sys/policies/acl) in VAULT_NAMESPACE (or the root), and report roles any project may log in with, "
            "roles without an audience, production roles without protected refs or a pipeline source, glob "
            "claims that match everything, long token lifetimes, mounts without bound_issuer or fetching keys "
            "over http, and policies with wildcard or write grants on secret paths or reaching production "
            "paths. Each finding says the risk and the fix. Exit 0 when nothing is found, 1 when something is, "
            "2 on errors and when something could not be read (each named in a warning; the report holds the rest)."
        ),
        epilog="Vault: VAULT_ADDR (or VAULT_SERVER_URL), VAULT_NAMESPACE, VAULT_CACERT, and the token in "
               "VAULT_TOKEN, which needs read on sys/auth, auth/MOUNT/config, auth/MOUNT/role/* (and list on "
               "auth/MOUNT/role) and sys/policies/acl/* (and list): the README's 'Audit' section has the policy.",
    )
    scan.add_report_output_arguments(p)
    p.add_argument("--max-ttl", type=positive_int, default=3600, metavar="SECONDS",
                   help="report roles whose tokens may live longer than this (default 3600)")
    p.add_argument("--vault-timeout", type=positive_float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"the most time all requests to Vault may take, retries included (default {DEFAULT_TIMEOUT:g})")
    p.set_defaults(run=_run_vault, takes_command=False, plan=None)


def parse_vault_arguments(argv: list[str]) -> argparse.Namespace:
    """`radar audit vault`'s arguments for `radar baseline create|update FILE audit vault ...`, parsed by
    the audit's own parser so that a usage error shows its usage and options."""
    sub = argparse.ArgumentParser(prog="radar").add_subparsers()
    _add_vault(sub)
    return sub.choices["vault"].parse_args(argv)


def _run_vault(args: argparse.Namespace) -> int:
    from radar.audit.vault import audit
    from radar.audit.vault_read import AuditFailed, read_vault
    from radar.cli import baseline
    from radar.files import check_writable
    from radar.report.context import now
    from radar.scan.scanner import ScanReport
    from radar.vault.client import RetryPolicy, VaultClient, VaultToken
    from radar.vault.errors import VaultConfigError, VaultError
    from radar.vault.index import TOKEN_VARIABLE, index_settings

    if args.output:
        check_writable(args.output)
    key = baseline.start(args)  # a baseline that cannot be used stops the run before Vault is asked
    settings = index_settings(os.environ)
    token = VaultToken((os.environ.get(TOKEN_VARIABLE) or "").strip())
    if not token.value:
        raise VaultConfigError(f"no Vault token: set {TOKEN_VARIABLE} to a token that may read sys/auth, the JWT "
                               "mounts' config and roles, and sys/policies/acl (the README's 'Audit' section has "
                               "the policy)")
    log_to_stderr(args.verbose)  # Vault's retries as `radar: warning:` lines; each request too with -v
    started = now()
    try:
        with VaultClient(settings, RetryPolicy(total_seconds=args.vault_timeout)) as client:
            config = read_vault(client, token)
    except VaultError as e:  # exec's status 1 would read as "findings" to a script; here it is an error
        raise AuditFailed(str(e)) from None
    issues = audit(config, args.max_ttl)
    report = ScanReport([issue.as_finding(key) for issue in issues],
                        warnings=[f"cannot read {item.message()}" for item in config.unreadable])
    report.stats.unreadable["Vault path"] = len(config.unreadable)
    context = {"kind": "vault", "target": settings.server_url, "root": settings.server_url, "started": started,
               "fingerprint_key_id": key.key_id}
    audited = (f"{len(config.mounts)} JWT mount(s), {len(config.roles)} role(s) and {len(config.policies)} "
               f"polic{'y' if len(config.policies) == 1 else 'ies'} audited")
    return scan.print_scan_report(args, report, context, audited,
                                  {"mounts": len(config.mounts), "roles": len(config.roles),
                               "policies": len(config.policies)}, noun="audit")
