"""`radar audit vault`: Vault's JWT roles, auth mounts and policies checked for settings that hand
secrets to the wrong jobs, reported like a scan (every format, --baseline, exit 0/1/2). The Vault
client and the rules load only when an audit runs."""

from __future__ import annotations

import argparse
import os

from radar.cli.common import log_to_stderr, positive_float, positive_int
from radar.cli.terminal import add_arguments as add_terminal_arguments

DEFAULT_TIMEOUT = 120.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="check Vault's configuration for settings that hand secrets to the wrong jobs "
                                     "(see: radar audit vault)")
    audit_sub = p.add_subparsers(dest="audit_target", required=True, metavar="TARGET")
    _add_vault(audit_sub)


def _add_vault(audit_sub: argparse._SubParsersAction) -> None:
    from radar.report import FORMATS  # a constant only; the formats themselves load when used

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
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text: a table on a terminal, tab-separated lines otherwise; json, sarif, gitlab, csv, "
                        "markdown, html: as radar scan writes them")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    p.add_argument("--baseline", metavar="FILE",
                   help="report only findings not in FILE (a radar baseline): the others are hidden like ignored "
                        "ones, and exit status 1 counts new ones only")
    p.add_argument("--show-ignored", action="store_true", help="also list findings the baseline holds, marked ignored")
    p.add_argument("--max-ttl", type=positive_int, default=3600, metavar="SECONDS",
                   help="report roles whose tokens may live longer than this (default 3600)")
    p.add_argument("--vault-timeout", type=positive_float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"the most time all requests to Vault may take, retries included (default {DEFAULT_TIMEOUT:g})")
    add_terminal_arguments(p)
    p.set_defaults(run=_run_vault, takes_command=False, min_confidence="low", plan=None)


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
    from radar.cli.scan import _print_scan_report
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
    return _print_scan_report(args, report, context, audited,
                              {"mounts": len(config.mounts), "roles": len(config.roles),
                               "policies": len(config.policies)}, noun="audit")
