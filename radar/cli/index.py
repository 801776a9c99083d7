"""`radar index vault`: keyed digests of every value Vault holds, for scans' `--vault-index`
(the Vault client and the detector suite load only when it runs)."""

from __future__ import annotations

import argparse
import os
import sys

from radar.cli.common import log_to_stderr, non_empty, positive_float, say

DEFAULT_TIMEOUT = 600.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="index what a scan can be compared with (see: radar index vault)")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    vault = kinds.add_parser(
        "vault",
        usage="radar index vault --output INDEX [--mount MOUNT ...] [--path MOUNT/PATH ...] [--id-token VARIABLE] "
              "[--vault-timeout SECONDS] [--allow-partial] [-v]",
        help="write keyed digests of every Vault KV value (every version), never a value",
        description=(
            "Walk the KV v2 (every version) and KV v1 mounts the token may list, in VAULT_NAMESPACE (or the "
            "root) and every namespace below it, and write INDEX: keyed digests of each value (the HMAC of "
            "findings' fingerprints), where it is stored, and the fingerprint key's id; never a value. "
            "`radar scan ... --vault-index INDEX` then marks each finding whose value Vault holds. Exit 0 "
            "when everything was read; 2 on errors, and when something could not be read (each named in "
            "a warning; the index is still written) unless --allow-partial."
        ),
        epilog="Vault: VAULT_ADDR (or VAULT_SERVER_URL), VAULT_NAMESPACE, VAULT_CACERT, and the token in "
               "VAULT_TOKEN; or --id-token VARIABLE for a JWT login (VAULT_AUTH_PATH, VAULT_AUTH_ROLE) as "
               "radar exec does. The README's 'Vault index' section has the policy the token needs. "
               "Scans must use the same fingerprint key ($RADAR_FINGERPRINT_KEY or the installation's).",
    )
    vault.add_argument("--output", required=True, metavar="INDEX",
                       help="the index file to write (mode 0600; replaced whole, never half-written)")
    vault.add_argument("--mount", action="append", default=[], type=non_empty, metavar="MOUNT",
                       help="only this KV mount (in each namespace); repeatable")
    vault.add_argument("--path", action="append", default=[], type=non_empty, metavar="MOUNT/PATH",
                       help="only the secrets under this path (a folder, or one secret), mount first: "
                            "secret/team-a/; repeatable")
    vault.add_argument("--id-token", type=non_empty, metavar="VARIABLE",
                       help="log in with the JWT in this variable (a CI job's ID token) instead of VAULT_TOKEN")
    vault.add_argument("--vault-timeout", type=positive_float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help="the most time the whole walk may take, retries of an unreachable or sealed Vault "
                            f"included (default {DEFAULT_TIMEOUT:g})")
    vault.add_argument("--allow-partial", action="store_true",
                       help="exit 0 even when some paths could not be read (they are still warned about, and "
                            "the index says it is incomplete)")
    vault.add_argument("-v", "--verbose", action="store_true",
                       help="log each Vault request (never a token or a value)")
    vault.set_defaults(run=_run_index_vault, takes_command=False)


def _run_index_vault(args: argparse.Namespace) -> int:
    from radar.files import check_writable, write_file
    from radar.report.context import now
    from radar.scan.findings import FingerprintKey
    from radar.scan.vault_index import render
    from radar.vault.client import RetryPolicy, VaultClient
    from radar.vault.errors import VaultError
    from radar.vault.index import IndexFailed, build_index, index_settings, index_token
    from radar.vault.walk import Scope

    log_to_stderr(args.verbose)
    check_writable(args.output, "Vault index")
    key = FingerprintKey.load()
    settings = index_settings(os.environ)
    started = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        with VaultClient(settings, RetryPolicy(total_seconds=args.vault_timeout)) as client:
            token = index_token(client, os.environ, args.id_token)
            built = build_index(client, token, Scope(tuple(args.mount), tuple(args.path)), key, started,
                                on_unreadable=lambda item: say("warning", f"cannot read {item.message()}"))
    except VaultError as e:  # exec's status 1 would read as "findings" to a script; here it is an error
        raise IndexFailed(str(e)) from None
    write_file(args.output, render(built.header, built.entries), "Vault index", mode=0o600)
    header = built.header
    if sys.stderr.isatty():
        say("info", f"{header.values} value(s) of {built.secrets} secret(s) in {len(header.mounts)} mount(s) and "
                    f"{len(header.namespaces)} namespace(s) indexed; Vault index written to {args.output}")
    if built.unreadable and not args.allow_partial:
        say("error", f"index incomplete: {len(built.unreadable)} thing(s) could not be read (each named in a warning "
                     f"above); the index holds the rest; grant the token list and read there, narrow the walk "
                     f"with --mount or --path, or accept it with --allow-partial")
        return 2
    return 0
