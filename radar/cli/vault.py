"""`radar exec` and `radar secrets check`: a job's secrets: resolved from Vault (imported lazily,
so that `radar mask` does not pay for the Vault client)."""

from __future__ import annotations

import argparse
import os
import sys

from radar.cli.common import UsageError, log_to_stderr, positive_float, positive_int, say, warn_refused
from radar.mask.model import DEFAULT_MIN_LENGTH, MaskOptions


def _add_job_source_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--job", metavar="NAME", help="the job whose secrets: to resolve")
    p.add_argument("--ci-file", metavar="PATH",
                   help="the CI file that defines --job (default: $CI_CONFIG_PATH, else .gitlab-ci.yml)")
    p.add_argument("--secrets-file", metavar="PATH",
                   help="a YAML file with a secrets: mapping (and optional id_tokens:, variables:) instead of a job")
    p.add_argument("--auth-method", metavar="METHOD",
                   help="how to log in to Vault: jwt (the job's ID token, the default), approle, kubernetes "
                        "or cert; wins over VAULT_AUTH_METHOD")
    p.add_argument("--vault-timeout", type=positive_float, default=30.0, metavar="SECONDS",
                   help="the most time radar spends on Vault in one run: connecting, waiting for answers "
                        "and retrying an unreachable or sealed Vault, all together (default 30); "
                        "it bounds the traffic with Azure and Google alike")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="log each request to Vault, Azure and Google (never a token, JWT or secret value)")


def add_exec_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exec",
        usage="radar exec (--job NAME [--ci-file PATH] | --secrets-file PATH) [--auth-method METHOD] "
              "[--vault-timeout SECONDS] [--min-length N] [--keep-leases] [-v] -- CMD ARGS...",
        help="fetch a job's secrets: from Vault (or Azure Key Vault, GCP Secret Manager) and run CMD "
             "with them, its output masked",
        description=(
            "Resolve the secrets: of a GitLab CI job (or of a secrets file) the way GitLab Runner does: "
            "log in to Vault with the job's ID token (JWT auth) or as --auth-method says, or exchange "
            "the ID token for an Azure or Google access token, read each secret, hand it to CMD as a "
            "file (file: true, the default; the variable holds the path) or as a variable, and mask "
            "every value in CMD's stdout and stderr. Secret files are removed when CMD ends. Leases of "
            "dynamic secrets are renewed while CMD runs; when it ends they are revoked, and so is "
            "radar's Vault token (--keep-leases: neither). radar "
            "exits with CMD's status (128+N if signal N killed it); 1 when a secret cannot be "
            "fetched (CMD is not run), 2 on configuration errors."
        ),
        epilog="Vault settings come from VAULT_SERVER_URL, VAULT_AUTH_METHOD, VAULT_AUTH_ROLE, "
               "VAULT_AUTH_PATH, VAULT_NAMESPACE and VAULT_CACERT; approle adds VAULT_ROLE_ID and "
               "VAULT_SECRET_ID or VAULT_WRAPPED_SECRET_ID, kubernetes VAULT_K8S_TOKEN_PATH, cert "
               "VAULT_CLIENT_CERT and VAULT_CLIENT_KEY. Azure Key Vault's come from "
               "AZURE_KEY_VAULT_SERVER_URL, AZURE_CLIENT_ID and AZURE_TENANT_ID; GCP Secret Manager's from "
               "GCP_PROJECT_NUMBER, GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID and "
               "GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID; in the environment or the job's variables:.",
    )
    _add_job_source_arguments(p)
    p.add_argument("--min-length", type=positive_int, default=DEFAULT_MIN_LENGTH, metavar="N",
                   help=f"secrets shorter than N characters are not masked, with a warning (default {DEFAULT_MIN_LENGTH})")
    p.add_argument("--keep-leases", action="store_true",
                   help="when CMD ends, revoke neither the leases of dynamic secrets nor radar's Vault token, for "
                        "jobs that hand credentials to something that outlives them (leases are still renewed "
                        "while CMD runs)")
    p.set_defaults(run=_run_exec, takes_command=True)


def add_secrets_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("secrets", help="work with a job's secrets: (see: radar secrets check)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        usage="radar secrets check (--job NAME [--ci-file PATH] | --secrets-file PATH) [--auth-method METHOD] "
              "[--vault-timeout SECONDS] [-v]",
        help="log in and resolve every secret without running anything or printing a value",
        description="Log in to Vault and resolve every secret of the job; print OK or FAILED and the "
                    "reason for each, never a value. Exit 0 when all resolve, 1 when any fails, "
                    "2 on configuration errors.",
    )
    _add_job_source_arguments(check)
    check.set_defaults(run=_run_secrets_check, takes_command=False)


def _vault_plan(args: argparse.Namespace):  # -> radar.vault.execute.Plan; lazy: keeps `radar mask` fast
    from radar.vault import execute

    # load_definition refuses these too; found here, they are usage errors with the command's usage.
    if args.secrets_file is not None and (args.job is not None or args.ci_file is not None):
        raise UsageError("use either --secrets-file or --job [--ci-file], not both")
    if args.secrets_file is None and args.job is None:
        raise UsageError("name the job with --job NAME, or pass --secrets-file PATH")
    log_to_stderr(args.verbose)
    definition = execute.load_definition(
        job=args.job, ci_file=args.ci_file, secrets_file=args.secrets_file, environ=os.environ
    )
    return execute.make_plan(definition, os.environ, args.auth_method, args.cloud_endpoints)


def _run_exec(args: argparse.Namespace) -> int:
    from radar.vault.client import RetryPolicy
    from radar.vault.execute import Terminated, run_with_secrets

    if not args.command:
        raise UsageError("name the command to run after '--', e.g. radar exec --job deploy -- ./deploy.sh")
    plan = _vault_plan(args)
    if not plan.specs:
        # Wrapping every job the same way must work for jobs without secrets too.
        say("warning", f"{plan.definition.origin} defines no secrets: running the command with masking only")
    try:
        return run_with_secrets(
            plan, args.command, RetryPolicy(total_seconds=args.vault_timeout), environ=os.environ,
            options=MaskOptions(min_length=args.min_length), on_refusal=warn_refused,
            keep_leases=args.keep_leases,
        )
    except Terminated as stop:
        raise stop.as_error() from None


def _run_secrets_check(args: argparse.Namespace) -> int:
    from radar.vault.client import RetryPolicy
    from radar.vault.execute import Terminated, check_secrets
    from radar.vault.model import SecretFailure

    plan = _vault_plan(args)
    try:
        outcomes = check_secrets(plan, RetryPolicy(total_seconds=args.vault_timeout))
    except Terminated as stop:
        raise stop.as_error() from None
    from radar.report.printable import printable

    # Names and sources come from the CI file, reasons from Vault: shown escaped, one row each.
    rows = [
        tuple(map(printable, (o.spec.name, "FAILED" if isinstance(o, SecretFailure) else "OK", o.spec.source,
                              ("file" if getattr(o.spec, "file", True) else "variable"),
                              o.reason if isinstance(o, SecretFailure) else "")))
        for o in outcomes
    ]
    failed = sum(1 for row in rows if row[1] == "FAILED")
    summary = f"{len(rows) - failed} of {len(rows)} secret(s) of {plan.definition.origin} resolve"
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=Text(printable(summary)))
        for column in ("Variable", "Status", "Source", "As", "Reason"):
            table.add_column(column, overflow="fold")
        for name, status, source, kind, reason in rows:  # Text: a `[red]` in a name is not markup
            style = "red" if status == "FAILED" else "green"
            table.add_row(Text(name), Text(status, style=style), Text(source), Text(kind), Text(reason))
        Console().print(table)
    else:
        for name, status, source, kind, reason in rows:
            print("\t".join((status, name, source, kind, reason)).rstrip("\t"))
        print(printable(summary))
    return 1 if failed else 0
