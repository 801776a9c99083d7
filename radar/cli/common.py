"""What every subcommand's wiring shares: radar's one-line messages on stderr and argparse's types."""

from __future__ import annotations

import argparse
import sys

from radar.errors import RadarError
from radar.mask.model import Refusal


class UsageError(RadarError):
    """Arguments that do not go together, found after parsing (argparse cannot say "--branch needs
    --history"): shown like argparse's own errors, after the usage of the subcommand that was run."""


def say(level: str, message: str) -> None:
    from radar.report.printable import printable  # messages quote paths, keys, Vault's words: keep them one line

    print(f"radar: {level}: {printable(message)}", file=sys.stderr, flush=True)


def warn_refused(refusal: Refusal) -> None:
    say("warning", f"{refusal.source} {refusal.reason}")


def log_to_stderr(verbose: bool) -> None:
    """Warnings (Vault retries) always, as `radar: warning:` lines; each request too with -v."""
    import logging

    from radar.report.printable import printable  # scan details name paths: one line each, no escapes

    class Format(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            level = "warning: " if record.levelno >= logging.WARNING else ""
            return f"radar: {level}{printable(record.getMessage())}"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Format())
    logger = logging.getLogger("radar")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def byte_size(text: str) -> int:
    units = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3}
    number, unit = text.upper().rstrip("B"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    try:
        value = int(float(number) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 10M)") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1 byte")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def non_empty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value
