"""`radar mask`: secret sources -> masker -> standard output, or CMD's output."""

from __future__ import annotations

import argparse
import gc
import os

from radar.cli.common import UsageError, non_empty, positive_int, warn_refused
from radar.mask.model import DEFAULT_MARKER, DEFAULT_MIN_LENGTH, DEFAULT_TOKEN_PREFIXES, MaskOptions, Secret
from radar.mask.sources import DEFAULT_SECRET_GLOBS, MASK_VARS_VARIABLE, from_env, from_environment, from_file
from radar.mask.stream import SecretSet, StreamMasker
from radar.mask.wrap import copy_masked, run_masked


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mask",
        usage=(
            "radar mask [--secret-file PATH ...] [--secret-env NAME ...] [--min-length N] "
            "[--marker TEXT] [--env-glob GLOB ...] [--allow-add-mask] [--token-prefix PREFIX ...] "
            "[--engine auto|hyperscan|ahocorasick] [-- CMD ARGS...]"
        ),
        help="mask secrets in standard input, or in the output of CMD",
        description=(
            "Copy standard input to standard output, or run CMD with its stdout and stderr masked "
            "separately, replacing every known secret (raw, base64, percent-encoded, JSON-escaped, "
            "hex) and unregistered GitLab tokens, sensitive URL query values and URL passwords "
            "with a marker. With CMD, radar exits with CMD's status (128+N if signal N killed it)."
        ),
        epilog=(
            f"With no --secret-file or --secret-env, the secrets are the variables listed in "
            f"{MASK_VARS_VARIABLE} plus those whose names match the sensitive globs "
            f"({', '.join(DEFAULT_SECRET_GLOBS)}), or the --env-glob globs instead."
        ),
    )
    p.add_argument("--secret-file", action="append", default=[], metavar="PATH",
                   help="the file's whole content (whitespace trimmed) is one secret; repeatable")
    p.add_argument("--secret-env", action="append", default=[], metavar="NAME",
                   help="the variable's value, or the content of the file it names; repeatable")
    p.add_argument("--min-length", type=positive_int, default=DEFAULT_MIN_LENGTH, metavar="N",
                   help=f"refuse (with a warning) secrets shorter than N characters (default {DEFAULT_MIN_LENGTH})")
    p.add_argument("--marker", default=DEFAULT_MARKER.decode(), metavar="TEXT",
                   help=f"what replaces each masked region (default {DEFAULT_MARKER.decode()})")
    p.add_argument("--env-glob", action="append", default=[], metavar="GLOB",
                   help="take secrets from variables whose names match GLOB (case-insensitive), "
                        "instead of the default globs; repeatable")
    p.add_argument("--allow-add-mask", action="store_true",
                   help="a line '::add-mask::VALUE' in the output registers VALUE and is not written")
    p.add_argument("--token-prefix", action="append", default=[], type=non_empty, metavar="PREFIX",
                   help="also mask what follows PREFIX, like the built-in glpat- and friends; repeatable")
    p.add_argument("--engine", choices=("auto", "hyperscan", "ahocorasick"), default="auto",
                   help="matching engine (default auto: hyperscan when it imports); output is identical")
    p.set_defaults(run=_run_mask, takes_command=True)


# The one option a job repeats by the thousand. argparse's parsing grows with the square of the
# arguments (2,000 `--secret-file` tokens: 27 ms, a tenth of the start-up), so these are taken out
# before it runs, when that cannot change what it would have done.
_SECRET_FILE = "--secret-file"


def take_secret_files(arguments: list[str]) -> tuple[list[str], list[str]]:
    """(`arguments` without their `--secret-file PATH` pairs, the PATHs in order) for `radar mask`.

    Only when argparse would read each pair the same way: the exact option (or `--secret-file=PATH`),
    not right after another option, followed by a value that cannot be an option. Anything else
    (an abbreviation such as `--secret-f`, a missing value, a value starting with `-`, a pair after
    `--marker`) leaves every argument to argparse, so its errors, and the order of the paths, stay
    its own.
    """
    if arguments[:1] != ["mask"] or _SECRET_FILE not in arguments and not any(
        a.startswith(_SECRET_FILE + "=") for a in arguments
    ):
        return arguments, []
    rest: list[str] = []
    paths: list[str] = []
    i, n = 0, len(arguments)
    after_pair = False
    while i < n:
        argument = arguments[i]
        if argument == _SECRET_FILE or argument.startswith(_SECRET_FILE + "="):
            # Right after another option, argparse could read this one as that option's missing value.
            if not after_pair and arguments[i - 1].startswith("-"):
                return arguments, []
            if argument != _SECRET_FILE:
                paths.append(argument[len(_SECRET_FILE) + 1 :])
                i += 1
            elif i + 1 < n and not arguments[i + 1].startswith("-"):
                paths.append(arguments[i + 1])
                i += 2
            else:
                return arguments, []
            after_pair = True
            continue
        if argument.startswith("--secret-f"):
            return arguments, []
        rest.append(argument)
        after_pair = False
        i += 1
    return rest, paths


def _run_mask(args: argparse.Namespace) -> int:
    if args.command == []:
        raise UsageError("nothing to run after '--': name a command, or drop '--' to mask standard input")
    options = MaskOptions(
        min_length=args.min_length,
        marker=os.fsencode(args.marker),
        token_prefixes=DEFAULT_TOKEN_PREFIXES + tuple(os.fsencode(p) for p in args.token_prefix),
        engine=None if args.engine == "auto" else args.engine,
    )
    # Reading and compiling 1,000 secrets builds ~100,000 objects that live until radar exits:
    # the cyclic garbage collector's passes over them find nothing (17 ms of the start-up), so
    # it is off meanwhile, and they are left out of its later passes.
    gc.disable()
    try:
        secret_set = SecretSet(_mask_secrets(args), options, on_refusal=warn_refused)
    finally:
        gc.freeze()
        gc.enable()
    if args.command is None:
        copy_masked(0, 1, StreamMasker(secret_set, allow_add_mask=args.allow_add_mask))
        return 0
    return run_masked(args.command, secret_set, allow_add_mask=args.allow_add_mask)


def _mask_secrets(args: argparse.Namespace) -> list[Secret]:
    secrets = [from_file(path) for path in args.secret_file]
    secrets += [from_env(name, os.environ) for name in args.secret_env]
    # Explicit sources replace the environment scan, unless --env-glob asks for it as well.
    if args.env_glob or not (args.secret_file or args.secret_env):
        secrets += from_environment(os.environ, args.env_glob or DEFAULT_SECRET_GLOBS)
    return secrets
