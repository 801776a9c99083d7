"""`radar completion bash|zsh|fish`: a shell completion script for radar, made from radar's own
argument parser by shtab, so that every subcommand, option and choice (`--format text|json|...`)
is completed as the parser defines it, and no list can fall out of step with it.

Two things the parser alone does not say are added to a copy of it first:

- `radar scan gitlab` is a subcommand of `scan` for the shell: radar's parser knows it as the
  top-level `scan-gitlab` (`main` rewrites `scan gitlab`, so that `scan` keeps its PATH), so the
  copy moves that parser under `scan`, where shells offer `gitlab` and then its own options;
- which arguments name files (PATH, --output FILE, ...), so that the shell completes file names
  there and nowhere else.
"""

from __future__ import annotations

import argparse
import sys

from radar.cli.common import say

SHELLS = ("bash", "zsh", "fish")

# Arguments whose value is a path on this machine (positionals by dest, options by their flag).
_FILE_ARGUMENTS = frozenset({"path", "paths", "findings", "--output", "--plan", "--mapping", "--secret-file",
                             "--ci-file", "--secrets-file", "--baseline", "--config", "--state", "--migrated",
                             "--vault-index"})
_WHERE = {
    "bash": "radar completion bash > ~/.local/share/bash-completion/completions/radar",
    "zsh": "radar completion zsh > ~/.zfunc/_radar  (with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc)",
    "fish": "radar completion fish > ~/.config/fish/completions/radar.fish",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "completion", usage="radar completion {bash,zsh,fish} [--output FILE]",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print the completion script of radar for SHELL: its subcommands, options and their choices. "
                    "Install it once (and again after upgrading radar):\n  " + "\n  ".join(_WHERE.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("shell", choices=SHELLS, metavar="{bash,zsh,fish}", help="the shell to complete radar in")
    p.add_argument("--output", metavar="FILE", help="write the script to FILE instead of standard output")
    p.set_defaults(run=_run, takes_command=False)


def _run(args: argparse.Namespace) -> int:
    from radar.cli import _build_parser  # the whole parser, this subcommand's included

    text = script(_build_parser(), args.shell)
    if args.output:
        from radar.files import write_file

        write_file(args.output, text, "completion script")
        say("info", f"{args.shell} completion written to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of `parser` (radar's, as `_build_parser` makes it) for `shell`."""
    import shtab

    _nest_scan_gitlab(parser)
    for action in _actions(parser):
        if (action.dest in _FILE_ARGUMENTS and not action.option_strings) or _FILE_ARGUMENTS & set(action.option_strings):
            action.complete = shtab.FILE  # type: ignore[attr-defined]  # shtab's documented hook
    return shtab.complete(parser, shell=shell)


def _nest_scan_gitlab(parser: argparse.ArgumentParser) -> None:
    commands = _subparsers(parser)
    gitlab = commands.choices.pop("scan-gitlab")
    scan = commands.choices["scan"]
    # After PATH, as argparse orders them: shells complete file names for the word after `scan`,
    # and `gitlab` there selects the GitLab subcommand's options.
    below = scan.add_subparsers(dest="scan_target", metavar="gitlab", required=False)
    below.choices["gitlab"] = gitlab
    below._choices_actions.append(below._ChoicesPseudoAction(  # what shtab lists as the subcommand
        "gitlab", (), "scan GitLab CI/CD variables and CI files (radar scan gitlab --help)"))


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _actions(parser: argparse.ArgumentParser):
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _actions(child)
