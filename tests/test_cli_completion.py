"""`radar completion bash|zsh|fish`: each script loads in its real shell and completes radar's
subcommands, options and choices as radar's parser defines them (bash and fish are asked for
completions as a user's Tab would; zsh's script is syntax-checked and loaded by compinit)."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest

from radar.cli import _build_parser
from radar.report import FORMATS
from radar_cli import clean_env, radar


def completion_script(shell: str, directory: Path) -> Path:
    result = radar("completion", shell, env=clean_env(HOME=str(directory)))
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    path = directory / f"radar.{shell}"
    path.write_bytes(result.stdout)
    return path


def run(shell: list[str], code: str, cwd: Path) -> str:
    result = subprocess.run([*shell, code], capture_output=True, cwd=cwd, timeout=60, env=clean_env(HOME=str(cwd)))
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def bash_completions(script: Path, line: str, cwd: Path) -> set[str]:
    """What Tab offers after `line` (words split on spaces; a trailing space starts a new word)."""
    words = line.split(" ")
    array = " ".join(f"'{w}'" for w in words)
    code = (f"source '{script}'; COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; COMP_LINE='{line}'; "
            f"COMP_POINT={len(line)}; COMPREPLY=(); _shtab_radar radar '{words[-1]}' '{words[-2]}'; "
            "printf '%s\\n' \"${COMPREPLY[@]}\"")
    return set(run(["bash", "-c"], code, cwd).split())


def fish_completions(script: Path, line: str, cwd: Path) -> set[str]:
    output = run(["fish", "-c"], f"source '{script}'; complete -C '{line}'", cwd)
    return {entry.split("\t")[0] for entry in output.splitlines()}


def scan_options() -> set[str]:
    commands = next(a for a in _build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {flag for action in commands.choices["scan"]._actions for flag in action.option_strings}


CASES = [
    ("radar sc", {"scan"}),
    ("radar completion ", {"bash", "zsh", "fish"}),
    ("radar scan --for", {"--format"}),
    ("radar scan --format ", set(FORMATS)),
    ("radar scan . --min-confidence ", {"low", "medium", "high"}),
    ("radar scan . --no-", {"--no-color", "--no-gitignore", "--no-config"}),
    ("radar scan gitlab --gr", {"--group"}),
    ("radar scan gitlab --format ", set(FORMATS)),
    ("radar secrets ch", {"check"}),
    ("radar scan rep", {"repo"}),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("completion")
    (path / "repo").mkdir()
    return path


def test_bash_registers_the_completion_for_radar(workdir):
    script = completion_script("bash", workdir)
    assert run(["bash", "-c"], f"source '{script}'; complete -p radar", workdir).strip() == \
        "complete -o bashdefault -F _shtab_radar radar"


@pytest.mark.parametrize("line, offered", CASES)
def test_bash_completes_subcommands_options_and_choices(workdir, line, offered):
    completed = bash_completions(completion_script("bash", workdir), line, workdir)
    assert {c.rstrip("/") for c in completed} == offered


def test_bash_offers_every_option_of_radar_scan(workdir):
    assert bash_completions(completion_script("bash", workdir), "radar scan . -", workdir) >= scan_options()


@pytest.mark.parametrize("line, offered", CASES)
def test_fish_completes_subcommands_options_and_choices(workdir, line, offered):
    script = completion_script("fish", workdir)
    assert run(["fish", "-n"], str(script), workdir) == ""
    assert {c.rstrip("/") for c in fish_completions(script, line, workdir)} == offered


def test_fish_offers_every_long_option_of_radar_scan(workdir):
    offered = fish_completions(completion_script("fish", workdir), "radar scan . --", workdir)
    assert offered >= {flag for flag in scan_options() if flag.startswith("--")}


def test_zsh_script_parses_loads_and_lists_the_scan_options_and_formats(workdir):
    script = completion_script("zsh", workdir)
    run(["zsh", "-n"], str(script), workdir)
    listed = run(["zsh", "-f", "-c"], f"autoload -U compinit && compinit -u -D; source '{script}'; "
                                      "print -r -- ${+functions[_shtab_radar]}; print -rl -- $_shtab_radar_scan_options",
                 workdir).splitlines()
    assert listed[0] == "1"
    assert any(entry.startswith("--format[") and entry.endswith(f":format:({' '.join(FORMATS)})") for entry in listed)
    assert scan_options() <= {part for entry in listed for part in _flags(entry)}


def _flags(entry: str) -> set[str]:
    """The flags one zsh `_arguments` spec names: `{-q,--quiet}[...]`, `(--a)--b[...]`, `--format[...]:...`."""
    head = entry.split("[", 1)[0]
    head = head.split(")", 1)[-1].strip("*'\"")
    return set(head.strip("{}").split(","))


def test_the_script_can_be_written_to_a_file(tmp_path):
    target = tmp_path / "radar.fish"
    result = radar("completion", "fish", "--output", target, env=clean_env(HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == radar("completion", "fish", env=clean_env(HOME=str(tmp_path))).stdout
    assert result.stderr.decode() == f"radar: info: fish completion written to {target}\n"


def test_an_unknown_shell_is_a_usage_error():
    result = radar("completion", "tcsh")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == (
        "radar completion: error: argument {bash,zsh,fish}: invalid choice: 'tcsh' (choose from 'bash', 'zsh', 'fish')")
