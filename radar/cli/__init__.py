"""radar's command line: parse arguments, wire the pieces, turn errors into one line and a status.

One module per subcommand (`mask`, `vault` for exec and secrets check, `scan`, `plan`, `baseline`,
`completion`, `monitor`, `report`, `index`, `audit`), each with an `add_*parser(sub)` that declares its
options and sets `run` to the function that carries it out; `_build_parser` lists them. `common`
holds the message and argument-type helpers. `-- CMD ARGS...` is split off
before argparse sees it (so CMD's own options are never parsed as radar's) and handed to the
subcommand as `args.command` (None when there is no `--`).

A usage error (an unknown option, an argument missing or out of range, options that do not go
together: `UsageError`) prints the usage of the subcommand that was run, then one
`radar scan: error: ...` line, as argparse does.

Exit statuses: a subcommand's own status; 2 for usage errors and for RadarError (unless the
error carries another status, like 127/126 for a command that cannot be started); 130 after
Ctrl-C; 141 (128 + SIGPIPE, what a shell reports for `cat` in the same place) when the
reader of our standard output went away; 70 (EX_SOFTWARE) for any other exception, which is a bug
in radar: one `radar: internal error:` line names the exception's type and where it was raised,
never its message (it could quote input), and never exit 1, which `radar scan` uses for "findings"
(a CI job that allows exit 1 must not pass without a report). RADAR_DEBUG=1 adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import TYPE_CHECKING, Sequence

from radar import __version__
from radar.cli.common import UsageError, say
from radar.errors import RadarError

if TYPE_CHECKING:
    from radar.vault.cloud import CloudEndpoints

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
EXIT_INTERNAL_ERROR = 70  # sysexits.h's EX_SOFTWARE: a bug in radar, not a problem with the input
DEBUG_VARIABLE = "RADAR_DEBUG"


def main(argv: Sequence[str] | None = None, *, cloud_endpoints: CloudEndpoints | None = None) -> int:
    """`cloud_endpoints`: where `radar exec` reaches Entra ID, Google STS and Secret Manager; the
    `radar` command never sets it (the public clouds), tests point it at local fakes."""
    try:
        arguments, command = _split_command(list(sys.argv[1:] if argv is None else argv))
        secret_files: list[str] = []
        if arguments[:1] == ["mask"]:
            from radar.cli import mask

            arguments, secret_files = mask.take_secret_files(arguments)
        if arguments[:2] == ["scan", "gitlab"]:  # `radar scan ./gitlab` scans a directory of that name
            arguments[:2] = ["scan-gitlab"]
        parser = _build_parser(only=arguments[0] if arguments else None)
        args, extra = parser.parse_known_args(arguments)
        if secret_files:
            args.secret_file = secret_files + args.secret_file
        chosen = _chosen_parser(parser, args)  # usage errors show the usage of the command that was run
        if extra:
            chosen.error(f"unrecognized arguments: {' '.join(extra)}")
        if command is not None and not args.takes_command:
            chosen.error(f"'{chosen.prog}' does not run a command: remove '--' and what follows")
        args.command = command
        args.cloud_endpoints = cloud_endpoints
        try:
            return args.run(args)
        except UsageError as e:
            chosen.error(str(e))
    except RadarError as e:
        say("error", str(e))
        return e.exit_status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Point stdout at /dev/null so that nothing tries to write to the closed pipe at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as e:
        return _internal_error(e)


def _internal_error(e: Exception) -> int:
    """One line that is enough to report the bug: the exception's type and the innermost place in
    radar's code it passed through. Not its message: that may quote a file's or a variable's text."""
    import traceback  # only on this path: every radar start would pay for it otherwise

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # radar/, above radar/cli/
    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if os.path.abspath(f.filename).startswith(package + os.sep)]
    where = ""
    if ours:
        path = os.path.relpath(os.path.abspath(ours[-1].filename), os.path.dirname(package))
        where = f" in {path}:{ours[-1].lineno} ({ours[-1].name})"
    elif frames:
        where = f" in {os.path.basename(frames[-1].filename)}:{frames[-1].lineno} ({frames[-1].name})"
    say("internal error", f"{type(e).__name__}{where}; this is a bug in radar {__version__}: please report it "
                           f"with the command you ran ({DEBUG_VARIABLE}=1 shows the traceback, which may quote your input)")
    if os.environ.get(DEBUG_VARIABLE) == "1":
        traceback.print_exception(e, file=sys.stderr)
    return EXIT_INTERNAL_ERROR


def _split_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    if "--" not in argv:
        return argv, None
    i = argv.index("--")
    return argv[:i], argv[i + 1 :]


def _chosen_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the command `args` runs: `radar secrets check`'s, not `radar`'s."""
    while True:
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        name = getattr(args, sub.dest, None) if sub else None
        if name is None:
            return parser
        parser = sub.choices[name]


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's own formatter, as wide as argparse makes it (the terminal's columns less 2: COLUMNS,
    else the terminal's, else 80) without importing shutil for it, which imports zlib, bz2 and lzma
    (~1.5 ms of every start: each declared option makes a formatter)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return argparse.HelpFormatter(prog, width=columns - 2)


class _Parser(argparse.ArgumentParser):
    """radar's parsers (subcommands' too: argparse makes them of the parent's class) use _help_formatter."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", _help_formatter)
        super().__init__(*args, **kwargs)


# Each subcommand: the module that declares it, and the function there that adds its parser.
_COMMANDS = {
    "mask": ("mask", "add_parser"),
    "exec": ("vault", "add_exec_parser"),
    "secrets": ("vault", "add_secrets_parser"),
    "scan": ("scan", "add_parser"),
    "scan-gitlab": ("scan", "add_gitlab_parser"),
    "plan": ("plan", "add_parser"),
    "baseline": ("baseline", "add_parser"),
    "monitor": ("monitor", "add_parser"),
    "report": ("report", "add_parser"),
    "index": ("index", "add_parser"),
    "audit": ("audit", "add_parser"),
    "completion": ("completion", "add_parser"),
}


def _build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """radar's parser; with `only` naming a subcommand, with that one alone: a run parses one
    subcommand's arguments, and importing and declaring the other eleven cost every start ~30 ms
    (`radar mask` starts in every CI job). Anything else (`--help`, a misspelt command) gets them all."""
    parser = _Parser(prog="radar", description="Keeps CI secrets where they belong.")
    parser.add_argument("--version", action="version", version=f"radar {__version__}")
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    for name in [only] if only in _COMMANDS else _COMMANDS:
        module, add = _COMMANDS[name]  # type: ignore[index]
        getattr(importlib.import_module(f"radar.cli.{module}"), add)(sub)
    return parser
