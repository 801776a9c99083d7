"""What `.gitignore` leaves out of a directory walk, as git itself decides.

git is asked once per work tree the walk enters: `git ls-files --others --ignored
--exclude-standard --directory` lists the untracked files that `.gitignore` (every level),
`.git/info/exclude` and the global excludes file leave out, and names a directory with a trailing
`/` when everything in it is ignored, so the walk never enters `.venv/` or `node_modules/`.
Tracked files are never listed, so they are scanned even when a pattern matches them, as git
tracks them. Asking git, rather than reading `.gitignore` files, gets every rule of git's right
(negations, directory rules, the global file) and costs one process per work tree.

Outside a git work tree nothing is left out: an exported tree or an unpacked archive is scanned
whole, as ripgrep does. A directory that git reports as wholly ignored (`radar scan .venv`) is
scanned whole too: it was named on purpose.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# A hook or a script may have pointed these at another repository (git sets GIT_INDEX_FILE for
# hooks); the walk asks about the work tree a directory is in, so it finds it by the directory.
_LOCATING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")
_NOT_A_WORK_TREE = (b"not a git repository", b"must be run in a work tree")


@dataclass(frozen=True)
class GitIgnored:
    """Paths relative to the directory git was asked about: ignored files, and directories whose
    every file is ignored (without the trailing `/`)."""

    files: frozenset[str]
    dirs: frozenset[str]

    def ignored(self, rel: str, is_dir: bool) -> bool:
        return rel in (self.dirs if is_dir else self.files)


def ask_git(directory: Path) -> tuple[GitIgnored | None, str | None]:
    """What .gitignore leaves out under `directory`, and a warning when git could not say.

    None without a warning when `directory` is not in a git work tree (or is wholly ignored)."""
    env = {k: v for k, v in os.environ.items() if k not in _LOCATING}
    try:
        done = subprocess.run(["git", "-C", str(directory), "ls-files", "-z", "--others", "--ignored",
                               "--exclude-standard", "--directory"], capture_output=True, env=env)
    except FileNotFoundError:
        if _in_work_tree(directory):
            return None, f"{directory}: git is not installed (or not on PATH), so .gitignore is not honoured"
        return None, None
    if done.returncode != 0:
        if any(text in done.stderr for text in _NOT_A_WORK_TREE):
            return None, None
        if _inside_an_ignored_directory(directory, env):
            return None, None  # named on purpose, as below; git 2.39 fails ls-files here (`build/deep`)
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = said[-1] if said else f"exit {done.returncode}"
        # Scanning more than .gitignore would allow is the safe side of not knowing.
        return None, f"{directory}: cannot ask git what .gitignore leaves out ({reason}); scanning those files too"
    files, dirs = set(), set()
    for item in done.stdout.split(b"\0"):
        if not item:
            continue
        path = os.fsdecode(item)
        if path.endswith("/"):
            if path == "./":  # the directory itself is ignored: it was named on purpose
                return None, None
            dirs.add(path[:-1])
        else:
            files.add(path)
    return GitIgnored(frozenset(files), frozenset(dirs)), None


def _inside_an_ignored_directory(directory: Path, env: dict[str, str]) -> bool:
    """Whether .gitignore leaves `directory` itself out: asked only when ls-files failed, which
    git before 2.40 does for a directory below an ignored one ("directory entry not superset of
    prefix") where later versions answer `./`."""
    try:
        return subprocess.run(["git", "-C", str(directory), "check-ignore", "-q", "."],
                              capture_output=True, env=env).returncode == 0
    except FileNotFoundError:
        return False


def _in_work_tree(directory: Path) -> bool:
    return any((parent / ".git").exists() for parent in (directory.resolve(), *directory.resolve().parents))
