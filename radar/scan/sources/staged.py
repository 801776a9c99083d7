"""`radar scan --staged`: what the index holds for the files a commit would add or change.

A pre-commit hook must judge the commit, not the working tree, which may differ (`git add -p`,
edits after `git add`). So the paths come from `git diff --cached --raw --diff-filter=ACMRT`
(added, copied, modified, renamed, type-changed, against HEAD, or against nothing in a
repository without commits), and each file's content is its index blob, read with `git cat-file`
as history scans read blobs; the working tree is never read. Line numbers refer to the staged content.

The repository is the one git finds from the current directory, and the index the one git
uses there: `GIT_INDEX_FILE` is honoured, so `git commit -a` and `git commit FILE`, which
stage into a temporary index before running hooks, are judged by what they commit. Paths are
reported from the top of the work tree, as `git diff` prints them. Symbolic links and
submodules (their index entries are a link target and a commit id, not file content) are left
out. `--exclude` and the index's `.radarignore` (the one being committed) apply as in a directory
scan; `.gitignore` does not: a staged file is tracked.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterator

from radar.scan.findings import Origin
from radar.scan.sources.git import GitBlobUnit, GitSourceError, git, read_blob
from radar.scan.sources.ignore import IGNORE_FILE, MAX_IGNORE_FILE_BYTES, Exclusions, parse_ignore_lines
from radar.scan.sources.interface import Source, TextUnit

_REGULAR_MODES = ("100644", "100755")


def _run(cwd: str, *args: str, input: bytes = b"") -> bytes:
    return git(cwd, *args, input=input, needed_by="--staged")


class StagedSource(Source):
    def __init__(self, cwd: str = ".", exclude: tuple[str, ...] = (), max_size: int = 10_000_000) -> None:
        try:
            top = _run(cwd, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").rstrip("\n")
        except GitSourceError as e:
            raise GitSourceError(f"--staged: {e} (run it inside a git work tree)") from None
        if not top:  # inside .git/ or a bare repository: there is no work tree to commit from
            raise GitSourceError("--staged needs a git work tree (not a bare repository or .git/)")
        self.top = top
        self.exclude = exclude
        self.max_size = max_size
        self.warnings: list[str] = []
        self.unreadable: Counter[str] = Counter()
        self.skipped = 0

    def staged(self) -> list[tuple[str, str]]:
        """(path from the top, index blob id) of each regular file the commit adds or changes."""
        # No revision: git compares the index with HEAD, or with the empty tree before the first commit.
        raw = _run(self.top, "diff", "--cached", "--raw", "-z", "--no-abbrev", "--no-renames", "--no-ext-diff",
                   "--no-textconv", "--diff-filter=ACMRT", "--")
        fields = raw.split(b"\0")
        files = []
        for header, path in zip(fields[0::2], fields[1::2]):
            parts = header.decode().split()  # ":old-mode new-mode old-id new-id status"
            if len(parts) != 5 or parts[1] not in _REGULAR_MODES:
                continue  # a symbolic link or a submodule: no file content to scan
            files.append((path.decode("utf-8", "surrogateescape"), parts[3]))
        return files

    def _exclusions(self) -> Exclusions:
        where = f":{IGNORE_FILE} (staged)"
        data = read_blob(self.top, f":{IGNORE_FILE}", MAX_IGNORE_FILE_BYTES)  # None: none is staged
        lines = parse_ignore_lines(data, where) if data is not None else []
        return Exclusions.of(("--exclude", self.exclude), (where, lines))

    def units(self) -> Iterator[TextUnit]:
        files = self.staged()
        exclusions = self._exclusions()
        files = [(path, blob) for path, blob in files if not exclusions.file_excluded(path)]
        if not files:
            return
        listing = _run(self.top, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                       input="".join(f"{blob}\n" for _, blob in files).encode()).decode().splitlines()
        for (path, blob), line in zip(files, listing):
            parts = line.split()
            if len(parts) != 3 or parts[1] != "blob":
                self.could_not_read("blob", f"{path}: its staged content (blob {blob}) is missing or corrupt")
                self.skipped += 1
                continue
            size = int(parts[2])
            if size > self.max_size:
                self.warnings.append(f"{path}: skipped, {size / 1e6:g} MB is over the {self.max_size / 1e6:g} MB "
                                     "limit (--max-file-size)")
                self.skipped += 1
                continue
            yield GitBlobUnit(path, size, self.top, blob, Origin())
