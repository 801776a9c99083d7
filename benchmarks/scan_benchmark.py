"""radar scan against betterleaks and kingfisher: accuracy on the labelled corpus, speed on a big tree.

Run `python benchmarks/scan_benchmark.py` (after `pip install -r benchmarks/requirements.txt`).
One run measures all three tools, offline (no validation), on the same inputs:

1. Accuracy on corpus/files against corpus/manifest.json. A finding matches a manifest entry when
   its path and start line are the entry's; a finding on any other line is a false positive.
   Precision = matching findings / all findings, recall = entries found / entries. Per-type
   recall for every tool (and radar's per-rule precision) goes to the detail table.
2. Throughput and peak memory on a large mixed tree under benchmarks/work/ (git-ignored): this
   virtualenv's site-packages and Python's standard library (source, data, shared libraries;
   files over 10 MB left out), copied until it holds about 400 MB. MB/s is the tree's total size
   over wall time; peak RSS is the largest sum of resident memory over the tool's process tree,
   sampled every 20 ms (radar runs a pool of worker processes, the others are one process).
   Each tool runs once to warm up, then `--rounds` times interleaved; the median time counts.

3. gitleaks' public rule samples (rule_samples.py): every true and false sample of betterleaks'
   rules, one file each, scored per tool (precision, recall, F1, recall per syntax class, types
   fully / partly / not found); radar's misses go to benchmarks/work/rule-samples/radar-misses.json.

4. The held-out set corpus/heldout/ (when its manifest exists), scored as part 1; and radar's
   rule count.

`--samples-only` runs parts 3 and 4 alone, `--tools radar` skips the peers, `--radar PATH` measures
another radar executable (another worktree's `.venv/bin/radar`); `--also LABEL=EXE` (repeatable) measures
further radar executables in the same interleaved rounds under LABEL (an older commit, or a wrapper that
passes `--config` to turn a feature off), so a change is compared under the same machine load.
`--write` replaces the marked section of benchmarks/RESULTS.md with the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

import results  # benchmarks/results.py: the shared RESULTS.md writer
import rule_samples

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "files"
MANIFEST = ROOT / "corpus" / "manifest.json"
# The held-out set (written from vendor docs, never tuned on): measured when its manifest exists.
HELDOUT = ROOT / "corpus" / "heldout" / "files"
HELDOUT_MANIFEST = ROOT / "corpus" / "heldout" / "manifest.json"
WORK = ROOT / "benchmarks" / "work"
TREE = WORK / "site-packages-tree"
SECTION = "scan"
SAMPLES_SECTION = "scan-samples"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


# --- running a tool and measuring it ---------------------------------------------------------

def _tree_rss(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def measure(command: list[str], env: dict[str, str] | None = None, timeout: float | None = None,
            cwd: str | os.PathLike[str] | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS of the process tree in bytes, exit status (negative: killed by that
    signal, -9 when `timeout` seconds passed first)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    timer = threading.Timer(timeout, proc.kill) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    status = proc.wait()
    elapsed = time.perf_counter() - start
    if timer is not None:
        timer.cancel()
    done.set()
    sampler.join()
    return elapsed, peak, status


RADAR = {"path": ""}  # --radar: another radar executable


def radar_command(target: Path, output: Path) -> list[str]:
    return ["sh", "-c", f'exec "{RADAR["path"] or tool("radar")}" scan "{target}" --format json > "{output}"']


def other_radar(exe: str) -> Callable[[Path, Path], list[str]]:
    return lambda target, output: ["sh", "-c", f'exec "{exe}" scan "{target}" --format json > "{output}"']


def betterleaks_command(target: Path, output: Path) -> list[str]:
    return [tool("betterleaks"), "fs", str(target), "-o", str(output), "-s", "--no-banner", "-l", "error"]


def kingfisher_command(target: Path, output: Path) -> list[str]:
    return [tool("kingfisher"), "scan", str(target), "--no-validate", "-f", "json", "-o", str(output),
            "--git-history", "none", "--no-update-check"]


def radar_findings(output: Path, root: Path) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["rule_id"]) for f in json.loads(output.read_text())["findings"]]


def betterleaks_findings(output: Path, root: Path) -> list[tuple[str, int, str]]:
    data = json.loads(output.read_text() or "{}")
    found = []
    for f in data.get("findings") or []:
        # A rule on the file's name alone (pkcs12-file) reports no line: count it on the first.
        found.append((_relative(f["location"]["path"], root), f["location"].get("start_line", 1), f["rule_id"]))
        # A paired secret (the AWS secret key of an access key finding) is reported as a
        # component with its own line; count it as a finding there. Usernames and account
        # names are context, not secrets.
        for component_set in f.get("component_sets") or []:
            for c in component_set.get("components") or []:
                location = c.get("location") or {}
                # A component found without a place of its own (none in the samples' files) adds nothing.
                if "start_line" in location and not any(word in c["rule_id"] for word in ("username", "name", "-id")):
                    found.append((_relative(location["path"], root), location["start_line"], c["rule_id"]))
    return found


def kingfisher_findings(output: Path, root: Path) -> list[tuple[str, int, str]]:
    data = json.loads(output.read_text() or "{}")
    return [(_relative(f["finding"]["path"], root), f["finding"]["line"], f["rule"]["id"])
            for f in data.get("findings") or []]


def _relative(path: str, root: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        p = Path.cwd() / p
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


TOOLS = {
    "radar": (radar_command, radar_findings),
    "betterleaks": (betterleaks_command, betterleaks_findings),
    "kingfisher": (kingfisher_command, kingfisher_findings),
}


# --- accuracy --------------------------------------------------------------------------------

def accuracy(findings: list[tuple[str, int, str]], manifest: list[dict]) -> dict:
    truth = {(e["path"], e["line"]): e["type"] for e in manifest}
    hits = [f for f in findings if (f[0], f[1]) in truth]
    found = {(f[0], f[1]) for f in hits}
    precision = len(hits) / len(findings) if findings else 0.0
    recall = len(found) / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, kind in truth.items():
        per_type[kind][1] += 1
        per_type[kind][0] += key in found
    false_positives = [f for f in findings if (f[0], f[1]) not in truth]
    return {"findings": len(findings), "precision": precision, "recall": recall, "f1": f1,
            "per_type": dict(per_type), "false_positives": false_positives,
            "missed": sorted(k for k in truth if k not in found)}


def radar_rule_precision(findings: list[tuple[str, int, str]], manifest: list[dict]) -> dict[str, tuple[int, int]]:
    truth = {(e["path"], e["line"]) for e in manifest}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, line, rule in findings:
        counts[rule][1] += 1
        counts[rule][0] += (path, line) in truth
    return {rule: (hit, total) for rule, (hit, total) in counts.items()}


# --- the large tree --------------------------------------------------------------------------

TREE_TARGET_BYTES = 400_000_000
# The tool binaries in site-packages (bao, kingfisher, betterleaks: 20-180 MB each) are left out:
# radar skips files over 10 MB by default, and a benchmark of "who skips the biggest file" says
# nothing about scanning.
COPY_LIMIT_BYTES = 10_000_000


def build_tree() -> tuple[int, int]:
    """site-packages and the standard library, copied until the tree holds about 400 MB."""
    if not TREE.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        first = TREE / "copy-0"
        sources = {"site-packages": Path(sysconfig.get_paths()["purelib"]), "stdlib": Path(sysconfig.get_paths()["stdlib"])}
        for name, source in sources.items():
            shutil.copytree(source, first / name, symlinks=True, ignore=_ignore_big)
        size = _size(first)[0]
        for i in range(1, max(1, round(TREE_TARGET_BYTES / size))):
            shutil.copytree(first, TREE / f"copy-{i}", symlinks=True)
    return _size(TREE)


def _ignore_big(directory: str, names: list[str]) -> set[str]:
    ignored = {"__pycache__", "site-packages"} & set(names)
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) > COPY_LIMIT_BYTES:
            ignored.add(name)
    return ignored


def _size(root: Path) -> tuple[int, int]:
    size = files = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = os.path.join(dirpath, name)
            if os.path.isfile(p) and not os.path.islink(p):
                size += os.path.getsize(p)
                files += 1
    return size, files


# --- report ----------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--skip-tree", action="store_true", help="only the corpus accuracy")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per tool on the tree (median reported)")
    parser.add_argument("--samples-only", action="store_true", help="only gitleaks' rule samples")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tools to run (default: all)")
    parser.add_argument("--radar", default="", help="the radar executable to measure")
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=EXE",
                        help="another radar executable to measure in the same rounds, under LABEL (repeatable)")
    args = parser.parse_args()
    RADAR["path"] = args.radar
    for name in [n for n in TOOLS if n not in args.tools.split(",")]:
        del TOOLS[name]
    for also in args.also:
        label, _, exe = also.rpartition("=")  # a label may hold "="; a path does not
        if not label or not exe:
            parser.error(f"--also {also!r}: give LABEL=EXECUTABLE")
        TOOLS[label] = (other_radar(exe), radar_findings)
    env = dict(os.environ, RADAR_FINGERPRINT_KEY="benchmark")
    manifest = json.loads(MANIFEST.read_text())["secrets"]
    out = Path(tempfile.mkdtemp(prefix="radar-bench-"))
    samples_report = f"radar's rules: {rule_count()}.\n\n" + run_samples(env, out)
    heldout = run_heldout(env, out)
    if heldout:
        samples_report += "\n\n" + heldout
    print(samples_report)
    if args.write:
        results.write_section(SAMPLES_SECTION, "## radar scan on gitleaks' public rule samples and the held-out set "
                              f"(benchmarks/scan_benchmark.py)\n\nMeasured {time.strftime('%Y-%m-%d')} by "
                              f"`python benchmarks/scan_benchmark.py --samples-only --write`; peers offline.\n\n{samples_report}")
    if args.samples_only:
        shutil.rmtree(out, ignore_errors=True)
        return 0
    scores: dict[str, dict] = {}
    radar_raw: list = []
    for name, (command, parse) in TOOLS.items():
        target = out / f"{name}-corpus.json"
        elapsed, peak, status = measure(command(CORPUS, target), env)
        if status not in (0, 1, 200, 205):
            print(f"{name} failed on the corpus (exit {status})", file=sys.stderr)
            return 2
        findings = parse(target, CORPUS)
        scores[name] = accuracy(findings, manifest)
        if name == "radar":
            radar_raw = findings
        print(f"{name}: {scores[name]['findings']} findings, precision {scores[name]['precision']:.3f}, "
              f"recall {scores[name]['recall']:.3f}", file=sys.stderr)
    tree = {}
    if not args.skip_tree:
        size, files = build_tree()
        runs: dict[str, list[tuple[float, int]]] = defaultdict(list)
        # Interleaved rounds: a busy neighbour on a shared machine slows every tool alike.
        for round_ in range(args.rounds + 1):
            for name, (command, parse) in TOOLS.items():
                target = out / f"{name}-tree.json"
                elapsed, peak, status = measure(command(TREE, target), env)
                if round_ == 0:  # warm-up: page cache, kingfisher's and radar's compiled-rule caches
                    tree[name] = {"status": status, "findings": len(parse(target, TREE)) if target.exists() else None}
                    continue
                runs[name].append((elapsed, peak))
                print(f"{name}: {elapsed:.1f} s, peak RSS {peak / 1e6:.0f} MB", file=sys.stderr)
        for name, samples in runs.items():
            elapsed = statistics.median(t for t, _ in samples)
            tree[name].update(seconds=elapsed, mb_s=size / 1e6 / elapsed, peak_rss_mb=max(p for _, p in samples) / 1e6)
        tree["_size"] = {"bytes": size, "files": files, "rounds": args.rounds}
    shutil.rmtree(out, ignore_errors=True)
    report = render(scores, tree, manifest, radar_raw)
    print(report)
    if args.write:
        results.write_section(SECTION, f"## radar scan: accuracy and speed (benchmarks/scan_benchmark.py)\n\n{report}")
    return 0


def rule_count() -> int:
    """radar's rule count, asked of the measured radar's own Python (its venv's), so --radar counts
    that worktree's rules."""
    radar = Path(RADAR["path"] or tool("radar"))
    python = radar.parent / "python"
    code = "from radar.scan.rules import load_default_rules; print(len(load_default_rules()))"
    done = subprocess.run([str(python if python.exists() else sys.executable), "-c", code],
                          capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def run_heldout(env: dict[str, str], out: Path) -> str:
    """The held-out corpus, same scoring as corpus/; empty when it does not exist yet."""
    if not HELDOUT_MANIFEST.exists():
        return ""
    manifest = json.loads(HELDOUT_MANIFEST.read_text())["secrets"]
    lines = [f"**Accuracy on the held-out set** corpus/heldout/ ({len(manifest)} planted secrets; written from "
             "vendor docs, not tuned on):", "", "| tool | findings | precision | recall | F1 |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, (command, parse) in TOOLS.items():
        target = out / f"{name}-heldout.json"
        _, _, status = measure(command(HELDOUT, target), env)
        if status not in (0, 1, 200, 205):
            raise SystemExit(f"{name} failed on the held-out corpus (exit {status})")
        r = accuracy(parse(target, HELDOUT), manifest)
        lines.append(f"| {name} | {r['findings']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |")
    return "\n".join(lines)


def run_samples(env: dict[str, str], out: Path) -> str:
    """Part 3: every tool on the rule samples; radar's misses written for the rule authors."""
    config = rule_samples.fetch_sources()
    found, missing = rule_samples.extract(config)
    placed, unknown = rule_samples.lay_out(found)
    scores: dict[str, dict] = {}
    for name, (command, parse) in TOOLS.items():
        target = out / f"{name}-samples.json"
        argv = command(rule_samples.FILES, target)
        if name == "kingfisher":  # it reports a value once however many files hold it; the samples reuse each value 26 times
            argv.append("--no-dedup")
        elapsed, peak, status = measure(argv, env)
        if status not in (0, 1, 200, 205):
            raise SystemExit(f"{name} failed on the rule samples (exit {status})")
        parsed = parse(target, rule_samples.FILES)
        scores[name] = rule_samples.score(parsed, placed)
        scores[f"{name} (credentials only)"] = rule_samples.score(*rule_samples.credentials_only(parsed, placed))
        print(f"{name} on the rule samples: {scores[name]['findings']} findings, precision {scores[name]['precision']:.3f}, "
              f"recall {scores[name]['recall']:.3f}, F1 {scores[name]['f1']:.3f}", file=sys.stderr)
        if name == "radar":
            print(f"radar's misses: {rule_samples.write_misses(scores[name])}", file=sys.stderr)
    for reason, count in missing.most_common():
        print(f"not evaluated ({count}): {reason}", file=sys.stderr)
    return "\n".join(rule_samples.render(scores, placed, unknown, len(found), missing))


def render(scores: dict, tree: dict, manifest: list[dict], radar_raw: list) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores by `python benchmarks/scan_benchmark.py "
        f"{' '.join(sys.argv[1:])}`; "
        f"betterleaks and kingfisher from benchmarks/requirements.txt, both offline (no validation).",
        "",
        f"**Accuracy** on corpus/ ({len(manifest)} planted secrets in {len({e['path'] for e in manifest})} of "
        f"{sum(1 for p in CORPUS.rglob('*') if p.is_file())} files; a finding counts when path and line match the manifest):",
        "",
        "| tool | findings | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, r in scores.items():
        lines.append(f"| {name} | {r['findings']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |")
    if tree:
        size = tree["_size"]
        lines += [
            "",
            f"**Speed** on copies of site-packages and the standard library ({size['bytes'] / 1e6:.0f} MB in {size['files']} files, "
            f"source, data and shared libraries); median of {size['rounds']} interleaved runs after a warm-up round, "
            "peak RSS the largest seen:",
            "",
            "| tool | seconds | MB/s | peak RSS (MB) | findings |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for name, t in tree.items():
            if name.startswith("_"):
                continue
            lines.append(f"| {name} | {t['seconds']:.1f} | {t['mb_s']:.1f} | {t['peak_rss_mb']:.0f} | {t['findings']} |")
    kinds = sorted({e["type"] for e in manifest})
    lines += ["", "<details><summary>Recall per credential type (found / planted)</summary>", "",
              "| type | " + " | ".join(scores) + " |", "| --- |" + " ---: |" * len(scores)]
    for kind in kinds:
        cells = []
        for r in scores.values():
            hit, total = r["per_type"].get(kind, (0, 0))
            cells.append(f"{hit}/{total}")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += ["", "</details>", "", "<details><summary>radar precision per rule (findings on a planted line / findings)</summary>", "",
              "| rule | precision |", "| --- | ---: |"]
    for rule, (hit, total) in sorted(radar_rule_precision(radar_raw, manifest).items()):
        lines.append(f"| {rule} | {hit}/{total} |")
    lines += ["", "</details>"]
    for name, r in scores.items():
        if r["false_positives"]:
            fps = Counter(rule for _, _, rule in r["false_positives"])
            lines.append(f"\n{name}'s false positives by rule: " + ", ".join(f"{k} {v}" for k, v in fps.most_common()))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
