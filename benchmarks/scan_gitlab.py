"""Time and peak memory of `radar scan gitlab --group` on a large group, against a local fake GitLab.

Run `python benchmarks/scan_gitlab.py [--projects N] [--rounds R] [--shards S] [--latency-ms MS]
[--latency-projects N] [--write]`.

The server is tests/gitlab_fake.py (imported from tests/, not copied), started in this process on
127.0.0.1 with GitLab's page cap (per_page 100). It holds one group with a few group variables and N
projects (default 2,000), each with 8 to 12 CI/CD variables (10 on average): mostly harmless
settings (`DEPLOY_ENV=staging`, `LOG_LEVEL=info`, ...), and in some projects credentials made with
`radar.scan.examples.expand` (GitLab, GitHub, Slack and AWS tokens, database passwords), some
unique, some the same value in many projects, some unmasked or unprotected, a few hidden (no value
returned). About half the projects have a CI file (a few with CI_JOB_JWT or VAULT_SKIP_VERIFY, a few
with a token written in them); radar asks every project with a default branch for its CI file, so
the others answer 404, as GitLab does. The fake keeps connections alive (HTTP/1.1), as GitLab does. Project
look-ups go through a dict instead of the fake's linear search (the fake's IndexedGitLab; the answers are
the same), so that the server's cost per request does not grow with N and the figures are radar's.

Measured: the real CLI, `radar scan gitlab --url URL --group GROUP --format json --output FILE`, as
a subprocess with the default --jobs: after one warm-up run, N/10 projects once, then N projects in
`--rounds` rounds, then N projects once more with `--format text` (a report a tenth the size), to
tell the memory the scan holds from the memory the JSON report takes. Wall time (median over the
rounds), peak RSS summed over radar's process tree (scan_benchmark.measure: sampled every 20 ms; the
highest over the rounds), radar's CPU time (its children's rusage), the fake's CPU time (this
process's rusage while radar ran: the server threads and the RSS sampler), HTTP requests the fake
answered (its own request log), findings in the report, and radar's exit status (1: findings).
Projects/s and variables/s are over median wall time. Then the N projects once more as `--shards`
shards (`--shard I/N`, default 4) in `--rounds` rounds, each round the unsharded scan then each
shard, so that a busy machine slows both alike (medians of wall and CPU time, and their ratios),
and `radar report merge` of the last round's shard reports. Then `--latency-projects` projects against
the fake holding each answer back `--latency-ms` (a GitLab some way off), read 1, 4 and 10 projects
at once (`--connections`). Nothing here prints or stores a variable's
value: the report goes to a temporary directory that is deleted, and only counts are read from it.
`--write` puts the table into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import results  # noqa: E402  benchmarks/results.py: the shared RESULTS.md writer
from gitlab_fake import TOKEN, FakeGitLab, Group, IndexedGitLab, Project, serving, variable  # noqa: E402
from scan_benchmark import measure, tool  # noqa: E402

from radar.scan.examples import expand  # noqa: E402

SECTION = "scan-gitlab"
GROUP = "bench"
SHARED_TOKENS = 4  # distinct values behind the duplicated DEPLOY_TOKEN
HARMLESS = (
    ("DEPLOY_ENV", lambda i: ("staging", "production", "review")[i % 3]),
    ("LOG_LEVEL", lambda i: ("info", "debug", "warning")[i % 3]),
    ("NODE_VERSION", lambda i: str(18 + i % 3 * 2)),
    ("APP_NAME", lambda i: f"service-{i}"),
    ("KUBE_NAMESPACE", lambda i: f"team-{i % 40}"),
    ("DOCKER_DRIVER", lambda i: "overlay2"),
    ("FEATURE_NEW_CHECKOUT", lambda i: ("on", "off")[i % 2]),
    ("REGISTRY_HOST", lambda i: "registry.example.com"),
    ("TIMEOUT_SECONDS", lambda i: str(30 + i % 5 * 10)),
    ("REPLICAS", lambda i: str(1 + i % 4)),
    ("HELM_CHART_VERSION", lambda i: f"1.{i % 9}.{i % 4}"),
    ("CACHE_KEY", lambda i: f"deps-v{i % 3}"),
)


def credentials(i: int) -> list[dict]:
    """Project i's credential variables; the seeds make every run produce the same values."""
    out = []
    if i % 3 == 0:  # a project's own GitLab token, masked but not protected
        out.append(variable("GITLAB_API_TOKEN", "glpat-" + expand("{b64url:20}", f"bench-glpat-{i}"), masked=True))
    if i % 5 == 0:  # the same deploy token copied into many projects, unmasked
        out.append(variable("DEPLOY_TOKEN", "glpat-" + expand("{b64url:20}", f"bench-shared-{i % SHARED_TOKENS}")))
    if i % 7 == 0:
        out.append(variable("AWS_ACCESS_KEY_ID", "AKIA" + expand("{awskeyid}", f"bench-aws-{i}"), protected=True))
        out.append(variable("AWS_SECRET_ACCESS_KEY", expand("{b64:40}", f"bench-aws-secret-{i}"), protected=True,
                            masked=True))
    if i % 10 == 0:  # well kept: masked, protected, scoped; still not hidden
        out.append(variable("DB_PASSWORD", expand("{alnum:24}", f"bench-db-{i}"), protected=True, masked=True,
                            environment_scope="production"))
    if i % 11 == 0:  # hidden: GitLab returns no value
        out.append(variable("VAULT_TOKEN", "hvs." + expand("{b64url:24}", f"bench-hidden-{i}"), protected=True,
                            hidden=True, environment_scope="production"))
    if i % 13 == 0:
        out.append(variable("SLACK_BOT_TOKEN", "xoxb-" + expand("{digits:12}-{digits:13}-{alnum:24}", f"bench-slack-{i}")))
    if i % 17 == 0:
        out.append(variable("GITHUB_TOKEN", "ghp_" + expand("{ghcrc:30}", f"bench-gh-{i}"), masked=True))
    return out


def ci_file(i: int) -> str | None:
    if i % 2:
        return None
    lines = ["stages: [test, deploy]", "", "test:", "  stage: test", "  image: python:3.12",
             "  script:", "    - pip install -r requirements.txt", "    - pytest -q", "",
             "deploy:", "  stage: deploy", "  environment: production", "  script:", "    - ./deploy.sh"]
    if i % 40 == 0:
        lines += ["    - vault login -method=jwt jwt=$CI_JOB_JWT_V2"]
    if i % 25 == 0:
        lines += ["  variables:", '    VAULT_SKIP_VERIFY: "true"']
    if i % 50 == 0:
        lines[:0] = ["variables:", f'  API_TOKEN: "glpat-{expand("{b64url:20}", f"bench-ci-{i}")}"', ""]
    return "\n".join(lines) + "\n"


def populate(gl: FakeGitLab, projects: int) -> int:
    """One group of `projects` projects; returns the number of variables (group and project)."""
    gl.groups = [Group(1, GROUP, [
        variable("GROUP_DEPLOY_PASSWORD", expand("{alnum:20}", "bench-group-pw"), protected=True, masked=True),
        variable("NPM_TOKEN", "npm_" + expand("{alnum:36}", "bench-group-npm")),
        variable("DEPLOY_TOKEN", "glpat-" + expand("{b64url:20}", "bench-shared-0"), masked=True),
        variable("SONAR_HOST_URL", "https://sonar.example.com"),
        variable("DEFAULT_REGION", "eu-west-1"),
        variable("GIT_DEPTH", "10"),
    ])]
    gl.projects = []
    total = len(gl.groups[0].variables)
    for i in range(projects):
        own = credentials(i)
        count = 8 + i % 5  # 8..12, 10 on average
        harmless = [variable(k, make(i)) for k, make in HARMLESS[: max(0, count - len(own))]]
        files = {}
        ci_path = "ci/pipeline.yml" if i % 20 == 2 else None
        text = ci_file(i)
        if text is not None:
            files[ci_path or ".gitlab-ci.yml"] = text
        gl.projects.append(Project(1000 + i, f"{GROUP}/service-{i:05d}", ci_config_path=ci_path, files=files,
                                   variables=harmless + own))
        total += len(harmless) + len(own)
    return total


@dataclass
class Run:
    seconds: float
    peak: int
    status: int
    radar_cpu: float
    server_cpu: float
    requests: int
    findings: Counter
    report_bytes: int


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def scan(gl: FakeGitLab, work: Path, env: dict[str, str], fmt: str = "json", shard: str | None = None,
         keep: bool = False, connections: int | None = None) -> Run:
    """One timed scan; `shard` "I/N" adds --shard; `keep` leaves the report in `work` for a merge;
    `connections` adds --connections (else radar's default)."""
    output = work / (f"shard-{shard.replace('/', '-of-')}.{fmt}" if shard else f"report.{fmt}")
    output.unlink(missing_ok=True)
    gl.requests.clear()
    children, own = _cpu(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF)
    seconds, peak, status = measure([tool("radar"), "scan", "gitlab", "--url", gl.url, "--group", GROUP,
                                     "--format", fmt, "--output", str(output),
                                     *(("--shard", shard) if shard else ()),
                                     *(("--connections", str(connections)) if connections else ())], env)
    radar_cpu, server_cpu = _cpu(resource.RUSAGE_CHILDREN) - children, _cpu(resource.RUSAGE_SELF) - own
    found: Counter = Counter()
    if output.exists():
        size = output.stat().st_size
        if fmt == "json":
            found.update(f["rule_id"] for f in json.loads(output.read_text())["findings"])
        else:  # tab-separated, one finding a line, the rule id first
            found.update(line.split("\t")[1] for line in output.read_text().splitlines() if line)
    else:
        size = 0
    if not keep:
        output.unlink(missing_ok=True)  # previews only, but nothing of the report is kept
    return Run(seconds, peak, status, radar_cpu, server_cpu, len(gl.requests), found, size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000, metavar="N", help="projects in the group (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds at N projects (median time counts)")
    parser.add_argument("--shards", type=int, default=4, metavar="N",
                        help="then scan the N projects again as N shards (--shard I/N) and merge them (default 4)")
    parser.add_argument("--latency-ms", type=float, default=20.0, metavar="MS",
                        help="then a smaller group against a GitLab that holds each answer back MS ms (default 20)")
    parser.add_argument("--latency-projects", type=int, default=300, metavar="N",
                        help="projects in that group (default 300)")
    parser.add_argument("--write", action="store_true", help="write the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    env = dict(os.environ, RADAR_FINGERPRINT_KEY="benchmark", GITLAB_TOKEN=TOKEN)
    for name in ("CI_JOB_TOKEN", "CI_SERVER_URL"):
        env.pop(name, None)
    rows = []
    with serving(IndexedGitLab(max_per_page=100)) as gl:
        with tempfile.TemporaryDirectory(prefix="radar-bench-gitlab-") as tmp:
            work = Path(tmp)
            small = max(1, args.projects // 10)
            plan = [(small, 1, "json"), (args.projects, args.rounds, "json"), (args.projects, 1, "text")]
            populate(gl, small)
            scan(gl, work, env)  # warm-up: bytecode, page cache, the rules' first compilation
            for projects, rounds, fmt in plan:
                variables = populate(gl, projects)
                runs = [scan(gl, work, env, fmt) for _ in range(rounds)]
                seconds = statistics.median(r.seconds for r in runs)
                last = runs[-1]
                rows.append((projects, variables, fmt, rounds, seconds, max(r.peak for r in runs), last,
                             statistics.median(r.radar_cpu for r in runs), statistics.median(r.server_cpu for r in runs)))
                print(f"{projects} projects, {variables} variables, {fmt}: {seconds:.2f} s (median of {rounds}), "
                      f"{projects / seconds:.0f} projects/s, {variables / seconds:.0f} variables/s, "
                      f"peak RSS {max(r.peak for r in runs) / 1e6:.0f} MB, {last.requests} requests, "
                      f"{sum(last.findings.values())} findings, exit {last.status}", flush=True)
            sharded = scan_shards(gl, work, env, args)
            far = scan_far(gl, work, env, args)
    table = render(rows, args) + "\n\n" + render_shards(sharded, args) + "\n\n" + render_far(far, args)
    print(table)
    if args.write:
        results.write_section(SECTION, table)


def scan_shards(gl: FakeGitLab, work: Path, env: dict[str, str], args: argparse.Namespace) -> list:
    """`--rounds` rounds of: the unsharded scan, then each shard; then `radar report merge` of the last
    round's shard reports. Interleaved so that a machine busy with other work slows both alike; the
    merged findings must be the unsharded scan's (the tests compare them byte for byte)."""
    populate(gl, args.projects)
    wholes, rounds = [], []
    for _ in range(args.rounds):
        wholes.append(scan(gl, work, env, "json"))
        rounds.append([scan(gl, work, env, "json", f"{i}/{args.shards}", keep=True) for i in range(1, args.shards + 1)])
    shards = [str(work / f"shard-{i}-of-{args.shards}.json") for i in range(1, args.shards + 1)]
    merged = work / "merged.json"
    seconds, peak, status = measure([tool("radar"), "report", "merge", *shards, "--format", "json",
                                     "--output", str(merged)], env)
    found = Counter(f["rule_id"] for f in json.loads(merged.read_text())["findings"])
    for path in (*shards, merged):
        Path(path).unlink()
    print(f"unsharded: {statistics.median(w.seconds for w in wholes):.2f} s (median of {args.rounds})", flush=True)
    for i in range(args.shards):
        print(f"shard {i + 1}/{args.shards}: {statistics.median(r[i].seconds for r in rounds):.2f} s (median of "
              f"{args.rounds}), {rounds[-1][i].requests} requests, exit {rounds[-1][i].status}", flush=True)
    print(f"merge: {seconds:.2f} s, peak RSS {peak / 1e6:.0f} MB, {sum(found.values())} findings, exit {status}")
    return [wholes, rounds, (seconds, peak, status, found)]


CONNECTIONS = (1, 4, 10)


def scan_far(gl: FakeGitLab, work: Path, env: dict[str, str], args: argparse.Namespace) -> list[tuple[int, Run]]:
    """`--latency-projects` projects against the fake holding each answer back `--latency-ms`: one
    scan with each of CONNECTIONS projects read at once."""
    populate(gl, args.latency_projects)
    gl.latency = args.latency_ms / 1000
    try:
        runs = [(n, scan(gl, work, env, "json", connections=n)) for n in CONNECTIONS]
    finally:
        gl.latency = 0.0
    for n, run in runs:
        print(f"{args.latency_projects} projects, {args.latency_ms:g} ms a request, --connections {n}: "
              f"{run.seconds:.2f} s, {run.requests} requests, exit {run.status}", flush=True)
    return runs


def render_far(runs: list[tuple[int, Run]], args: argparse.Namespace) -> str:
    lines = [
        f"### A GitLab some way off: each answer held back {args.latency_ms:g} ms, `--connections N`",
        "",
        f"{args.latency_projects:,} projects of the same kind, one scan each; the fake answers requests side by "
        "side, as GitLab does, each after the delay (a GitLab on another network, or one busy elsewhere).",
        "",
        "| --connections | Wall s | x one at a time | Projects/s | radar CPU s | Requests | Findings | Exit |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    single = runs[0][1].seconds
    for n, run in runs:
        lines.append(f"| {n} | {run.seconds:.2f} | {run.seconds / single:.2f} | "
                     f"{args.latency_projects / run.seconds:,.0f} | {run.radar_cpu:.2f} | {run.requests:,} | "
                     f"{sum(run.findings.values()):,} | {run.status} |")
    same = all(run.findings == runs[0][1].findings for _, run in runs)
    lines += ["", f"Findings by rule: {'the same' if same else 'NOT the same'} with every --connections."]
    return "\n".join(lines)


def render_shards(sharded: list, args: argparse.Namespace) -> str:
    wholes, rounds, (merge_seconds, merge_peak, merge_status, merged) = sharded
    whole, whole_cpu = statistics.median(w.seconds for w in wholes), statistics.median(w.radar_cpu for w in wholes)
    lines = [
        f"### Sharded: `radar scan gitlab ... --shard I/{args.shards}`, then `radar report merge`",
        "",
        f"The same {args.projects:,} projects in {args.rounds} rounds, each round the unsharded scan and then "
        f"each shard (`--format json`, as shards must), one after the other, so that other work on the machine "
        "weighs on both alike; wall and CPU seconds are medians over the rounds, x unsharded the ratio to the "
        "unsharded medians of the same rounds. Every shard lists all the projects (a page of 100 per request) "
        "and reads the variables and CI file of its own; shard 1 also reads the group's variables. The merge "
        "joins the last round's shard reports into one.",
        "",
        "| Run | Wall s | x unsharded | radar CPU s | x unsharded | Peak RSS MB | Requests | Findings | Exit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| unsharded | {whole:.2f} | 1.00 | {whole_cpu:.2f} | 1.00 | {max(w.peak for w in wholes) / 1e6:.0f} | "
        f"{wholes[-1].requests:,} | {sum(wholes[-1].findings.values()):,} | {wholes[-1].status} |",
    ]
    for i in range(args.shards):
        runs = [r[i] for r in rounds]
        seconds, cpu = statistics.median(r.seconds for r in runs), statistics.median(r.radar_cpu for r in runs)
        lines.append(f"| shard {i + 1}/{args.shards} | {seconds:.2f} | {seconds / whole:.2f} | {cpu:.2f} | "
                     f"{cpu / whole_cpu:.2f} | {max(r.peak for r in runs) / 1e6:.0f} | {runs[-1].requests:,} | "
                     f"{sum(runs[-1].findings.values()):,} | {runs[-1].status} |")
    lines.append(f"| merge | {merge_seconds:.2f} | {merge_seconds / whole:.2f} | | | {merge_peak / 1e6:.0f} | | "
                 f"{sum(merged.values()):,} | {merge_status} |")
    same = "the same as" if merged == wholes[-1].findings else "NOT the same as"
    lines += ["", f"Merged findings by rule: {same} the unsharded scan's ({sum(merged.values()):,})."]
    return "\n".join(lines)


def render(rows: list, args: argparse.Namespace) -> str:
    import gitlab
    import requests

    lines = [
        "## radar scan gitlab",
        "",
        f"`python benchmarks/scan_gitlab.py --projects {args.projects} --write`, {time.strftime('%Y-%m-%d')}. "
        "The fake GitLab of tests/gitlab_fake.py on 127.0.0.1 (in the benchmark's process, per_page capped at "
        "100 as on GitLab), one group with 6 group variables and N projects of 8-12 CI/CD variables each "
        "(mostly harmless settings; credentials in about half the projects, one deploy token copied into "
        "every fifth; every other project has a CI file). The real CLI, `radar scan gitlab --url URL --group "
        "GROUP --format FORMAT --output FILE`, default --jobs, after one warm-up run. Wall s = median over the "
        "rounds; peak RSS = the highest over the rounds, summed over radar's process tree (sampled every 20 ms); "
        "radar CPU = user + system of radar's process tree; fake CPU = the server's process meanwhile "
        "(its threads answer radar's connections, four at once by default). Requests = HTTP requests the fake answered; "
        "findings = entries in the report; report MB = its size; exit 1 = findings reported.",
        "",
        f"Machine: {results.machine(f'python-gitlab {gitlab.__version__}', f'requests {requests.__version__}')}",
        "",
        "| Projects | Variables | Format | Rounds | Wall s | Projects/s | Variables/s | Peak RSS MB | radar CPU s "
        "| Fake CPU s | Requests | Findings | Report MB | Exit |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for projects, variables, fmt, rounds, seconds, peak, last, radar_cpu, server_cpu in rows:
        lines.append(f"| {projects:,} | {variables:,} | {fmt} | {rounds} | {seconds:.2f} | {projects / seconds:,.0f} | "
                     f"{variables / seconds:,.0f} | {peak / 1e6:.0f} | {radar_cpu:.2f} | {server_cpu:.2f} | "
                     f"{last.requests:,} | {sum(last.findings.values()):,} | {last.report_bytes / 1e6:.1f} | {last.status} |")
    small, big, text = rows
    found = big[6].findings
    by_rule = ", ".join(f"{rule} {count:,}" for rule, count in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
    lines += [
        "",
        f"Findings at {big[0]:,} projects, by rule: {by_rule}.",
        "",
        f"Memory and N: {big[0] // small[0]}x the projects took peak RSS from {small[5] / 1e6:.0f} to "
        f"{big[5] / 1e6:.0f} MB with the JSON report, {text[5] / 1e6:.0f} MB with the text report. The listings "
        "do not cause it: they are read a page at a time (python-gitlab's iterator), and requests grow "
        f"by about 2 per project ({big[6].requests:,} at {big[0]:,}: the variables and the CI file). What "
        "grows is what radar keeps until the report is written: a record per variable (flags and "
        "fingerprint, for the duplicate and flag checks, which need them all) and every finding (traced "
        "once with tracemalloc at 10,000 projects: 46 MB of Python objects at the end of the scan, 113 MB "
        "at its peak). The JSON report is written to its file one finding at a time (before, the whole "
        "text was held as one string, 2 bytes a character because previews hold '…', then its UTF-8 "
        "copy: 329 instead of 157 MB at 10,000 projects with --jobs 1), and the scan runs in one process "
        "unless --jobs asks for more: the requests are the work, and two workers forked half-way each "
        "counted a copy of the parent's records (375 MB summed before). Time: on 127.0.0.1 the answers "
        "take no time, so radar's CPU (python-gitlab, requests, about 2 requests per project) is nearly "
        "all of the wall time, and reading projects at once gains nothing here; against a GitLab some "
        "way off it is most of it (the last table).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
