"""`radar mask`'s start-up shortcuts: its `--secret-file` pairs taken out before argparse runs, and
a parser that declares the mask subcommand alone. The same namespace, the same errors, the same
help and the same order of paths as argparse with radar's whole parser gives."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import radar.cli
from radar.cli import mask

# Tokens that exercise every way a `--secret-file` pair can be written or miswritten.
TOKENS = (
    "--secret-file", "--secret-file=a", "--secret-file=", "--secret-f", "--secret-fil=b", "--secret",
    "--secret-env", "--marker", "--min-length", "3", "0", "-1", "-", "-x", "--engine", "hyperscan",
    "a", "b", "c", "--", "mask", "-h", "--version", "--bogus",
)


def _parse(argv: list[str], take: bool) -> tuple[object, ...]:
    """What `radar.cli.main(argv)` hands to `radar mask` (or prints, and exits with), with the
    shortcuts (`take`) or with neither."""
    seen: list[argparse.Namespace] = []

    def run(args: argparse.Namespace) -> int:
        seen.append(args)
        return 0

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setattr(mask, "_run_mask", run)
        if not take:
            patch.setattr(mask, "take_secret_files", lambda arguments: (arguments, []))
            whole = radar.cli._build_parser
            patch.setattr(radar.cli, "_build_parser", lambda only=None: whole())
        try:
            status = radar.cli.main(argv)
        except SystemExit as stop:
            status = stop.code
    namespace = {k: v for k, v in vars(seen[0]).items() if k != "run"} if seen else None
    return status, namespace, out.getvalue(), err.getvalue()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=10))
@example(["--secret-file", "a", "--secret-f", "b", "--secret-file", "c"])
@example(["--secret-file", "a", "--secret-file"])
@example(["--marker", "--secret-file", "a"])
@example(["--secret-file", "-x", "--secret-file=a"])
@example(["--secret-env", "--secret-file=a", "3"])
@example(["--marker", "--secret-file", "a", "b"])
@example(["-h"])
def test_the_shortcuts_change_nothing(tokens):
    argv = ["mask", *tokens]
    assert _parse(argv, take=True) == _parse(argv, take=False)


def test_the_comparison_sees_the_paths():
    status, namespace, _, _ = _parse(["mask", "--secret-file", "a", "--secret-file=b"], take=True)
    assert (status, namespace["secret_file"]) == (0, ["a", "b"])


def test_the_pairs_are_taken_out_in_order():
    rest, paths = mask.take_secret_files(
        ["mask", "--secret-file", "a", "--min-length", "9", "--secret-file=b", "--secret-file", "c", "--allow-add-mask"]
    )
    assert (rest, paths) == (["mask", "--min-length", "9", "--allow-add-mask"], ["a", "b", "c"])


@pytest.mark.parametrize("arguments", [
    ["scan", "--secret-file", "a"],  # another command: argparse says what it thinks of it
    ["mask", "--secret-file", "a", "--secret-f", "b"],  # an abbreviation argparse expands
    ["mask", "--secret-file", "-a"],  # argparse reads `-a` as an option: an error
    ["mask", "--secret-file"],  # the value is missing: argparse's error
    ["mask", "--marker", "--secret-file", "a", "b"],  # `--marker` is missing its value: argparse's error
])
def test_anything_argparse_reads_its_own_way_is_left_to_it(arguments):
    assert mask.take_secret_files(arguments) == (arguments, [])
