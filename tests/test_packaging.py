"""radar as a newcomer gets it: the sdist and wheel built from this tree, installed with pipx into
a fresh environment without the test extras, and run; what they hold; the wheel the Dockerfile
builds from its context; what radar imports against what it declares; what `make demo` installs.

No Docker engine runs where these tests run, so the image itself is not built here: its first
stage is the wheel checked below, its second installs that wheel as the pipx test does."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

import radar
from radar.scan.examples import expand
from radar_cli import clean_env, radar as run_radar

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DISTRIBUTION = "radar-ci"
HOME_PAGE = f"https://pypi.org/project/{DISTRIBUTION}/"
RULE_FILES = sorted(p.name for p in (ROOT / "radar" / "detectors" / "rules").glob("*.toml"))
# Built from a template, so no live-looking token is stored here.
TOKEN = "glpat-" + expand("{b64url:20}", "packaging-gitlab")
ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def names(requirements: list[str]) -> set[str]:
    return {normalized(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


TEST_EXTRAS = names(PYPROJECT["project"]["optional-dependencies"]["test"])


def fail_if_leaked(result: subprocess.CompletedProcess[bytes], value: str) -> None:
    # pytest.fail with a message of our own: an assert would print the output that holds it.
    if value.encode() in result.stdout + result.stderr:
        pytest.fail("the planted token appeared in radar's output", pytrace=False)


def checked(command: list[str], **kwargs) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(command, capture_output=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{command[:4]} exited {result.returncode}:\n{result.stderr.decode()[-3000:]}", pytrace=False)
    return result


# --- what radar declares -------------------------------------------------------------------------

def test_radar_imports_exactly_the_dependencies_it_declares():
    imported: set[str] = set()
    for path in (ROOT / "radar").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.partition(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"radar"}
    providers = metadata.packages_distributions()
    unknown = sorted(name for name in third_party if name not in providers)
    assert unknown == [], f"imported but installed by no distribution: {unknown}"
    used = {normalized(dist) for name in third_party for dist in providers[name]}
    declared = names(PYPROJECT["project"]["dependencies"])
    assert (sorted(declared - used), sorted(used - declared)) == ([], [])


def test_the_distribution_is_radar_ci_with_its_home_page_and_licence():
    project = PYPROJECT["project"]
    assert (project["name"], project["urls"]["Homepage"]) == (DISTRIBUTION, HOME_PAGE)
    assert (project["license"], project["license-files"]) == ("Apache-2.0", ["LICENSE"])
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence


@pytest.mark.parametrize("fmt", ["sarif", "gitlab"])
def test_reports_link_to_radar_on_pypi_not_to_another_project(tmp_path, fmt):
    (tmp_path / "tree").mkdir()
    result = run_radar("scan", tmp_path / "tree", "--format", fmt, env=ENV)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    if fmt == "sarif":
        links = [report["runs"][0]["tool"]["driver"]["informationUri"]]
    else:
        links = [report["scan"]["analyzer"]["url"], report["scan"]["scanner"]["url"]]
    assert links == [HOME_PAGE] * len(links)


# --- make demo -----------------------------------------------------------------------------------

def make_dry_run(target: str, venv: Path) -> list[str]:
    """The commands `make TARGET` would run (and echo) with no virtual environment yet."""
    result = checked(["make", "--no-print-directory", "-n", "-C", str(ROOT), target, f"VENV={venv}"])
    return result.stdout.decode().splitlines()


def test_make_demo_installs_radar_alone_and_echoes_no_makefile_comment(tmp_path):
    commands = make_dry_run("demo", tmp_path / "venv")
    installs = [c for c in commands if " -m pip install " in c]
    assert installs and all("[test]" not in c for c in installs), installs
    assert any(c.endswith(" -e .") for c in installs), installs
    assert [c for c in commands if c.lstrip().startswith("#")] == []
    assert commands[-1] == "bash demo/run.sh"


def test_make_test_installs_the_test_extras(tmp_path):
    commands = make_dry_run("test", tmp_path / "venv")
    assert any("pip install" in c and "'.[test]'" in c for c in commands), commands
    assert commands[-1].endswith("-m pytest -q -p no:cacheprovider -n auto")  # one worker per core (pytest-xdist)


# --- the sdist and wheel, installed with pipx -------------------------------------------------------

@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> Path:
    """The sdist and wheel that `python -m build` makes of this tree (the wheel built from the
    sdist), from a copy holding what git would commit: no stale build/ or egg-info can leak in."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    listed = checked(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    for name in listed.stdout.decode().split("\0"):
        origin = ROOT / name
        if name and origin.is_file():
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(origin.read_bytes())
    checked([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(source)])
    return work / "dist"


@pytest.fixture(scope="module")
def wheel(dists) -> Path:
    [path] = dists.glob("radar_ci-*-py3-none-any.whl")
    return path


@pytest.fixture(scope="module")
def installed(dists, wheel) -> Path:
    """The `radar` command of `pipx install WHEEL`, in a pipx home of its own."""
    home = dists.parent / "pipx"
    env = dict(os.environ, PIPX_HOME=str(home), PIPX_BIN_DIR=str(home / "bin"), PIPX_MAN_DIR=str(home / "man"))
    checked([sys.executable, "-m", "pipx", "install", "--python", sys.executable, str(wheel)], env=env)
    return home


def test_the_wheel_holds_radar_its_rules_and_licence_and_nothing_else(wheel):
    info = f"radar_ci-{radar.__version__}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        licence = archive.read(f"{info}/licenses/LICENSE")
        meta = archive.read(f"{info}/METADATA").decode()
    assert {n.split("/")[0] for n in names} == {"radar", info}
    assert sorted(n.rpartition("/")[2] for n in names if n.startswith("radar/detectors/rules/")) == RULE_FILES
    assert "radar/report/findings.schema.json" in names
    assert licence == (ROOT / "LICENSE").read_bytes()
    assert f"Name: {DISTRIBUTION}\n" in meta and f"Project-URL: Homepage, {HOME_PAGE}\n" in meta
    assert "License-Expression: Apache-2.0\n" in meta


def test_the_sdist_holds_the_licence_and_the_rules(dists):
    [sdist] = dists.glob("radar_ci-*.tar.gz")
    top = f"radar_ci-{radar.__version__}"
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert f"{top}/LICENSE" in names and f"{top}/pyproject.toml" in names
    assert sorted(n.rpartition("/")[2] for n in names if n.startswith(f"{top}/radar/detectors/rules/")) == RULE_FILES
    assert not any(n.startswith(f"{top}/detectors/") for n in names)


def test_pipx_installs_radar_without_the_test_extras(installed):
    python = installed / "venvs" / DISTRIBUTION / "bin" / "python"
    listing = checked([str(python), "-c", "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"])
    present = {normalized(n) for n in listing.stdout.decode().split()}
    assert DISTRIBUTION in present
    assert sorted(present & (TEST_EXTRAS | {"gitpython"})) == []
    version = checked([str(installed / "bin" / "radar"), "--version"], env=ENV)
    assert version.stdout.decode() == f"radar {radar.__version__}\n"


def test_the_installed_radar_scans_a_tree_and_its_history(installed, tmp_path):
    radar_command = str(installed / "bin" / "radar")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "deploy.env").write_text(f"GITLAB_TOKEN={TOKEN}\n")
    tree = subprocess.run([radar_command, "scan", str(repo), "--format", "json"], capture_output=True, env=ENV)
    fail_if_leaked(tree, TOKEN)
    assert tree.returncode == 1, tree.stderr
    assert [f["rule_id"] for f in json.loads(tree.stdout)["findings"]] == ["gitlab-personal-access-token"]

    git = ["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    checked([*git, "init", "-q"])
    checked([*git, "add", "-A"])
    checked([*git, "commit", "-q", "-m", "add the token"])
    checked([*git, "rm", "-q", "deploy.env"])
    checked([*git, "commit", "-q", "-m", "remove it"])
    history = subprocess.run([radar_command, "scan", str(repo), "--history", "--format", "json"],
                             capture_output=True, env=ENV)
    fail_if_leaked(history, TOKEN)
    assert history.returncode == 1, history.stderr
    [finding] = json.loads(history.stdout)["findings"]
    assert (finding["rule_id"], finding["path"], finding["in_head"]) == ("gitlab-personal-access-token", "deploy.env", False)


def test_the_installed_radar_masks_a_bare_api_key(installed):
    value = "installed-api-key-1"
    result = subprocess.run([str(installed / "bin" / "radar"), "mask"], input=f"key={value} ok\n".encode(),
                            capture_output=True, env=clean_env(API_KEY=value))
    fail_if_leaked(result, value)
    assert (result.returncode, result.stdout) == (0, b"key=[MASKED] ok\n")


def test_the_image_build_context_makes_the_same_wheel(wheel, tmp_path):
    """The Dockerfile copies its whole context, which .dockerignore cuts down to what the wheel is
    made of, and runs `pip wheel` there: that must give the wheel built from the full tree."""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    context = tmp_path / "context"
    for name in exclude_paths(str(ROOT), patterns, dockerfile="Dockerfile"):
        origin = ROOT / name
        if origin.is_file():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            (context / name).write_bytes(origin.read_bytes())
    assert not (context / "tests").exists() and not (context / ".git").exists()
    checked([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"),
             str(context)])
    [built] = (tmp_path / "dist").glob("radar_ci-*.whl")

    def contents(path: Path) -> dict[str, int]:
        with zipfile.ZipFile(path) as archive:
            return {i.filename: i.CRC for i in archive.infolist() if not i.filename.endswith("/RECORD")}

    assert contents(built) == contents(wheel)


def test_the_image_warms_radar_s_cache_and_keeps_no_fingerprint_key(tmp_path):
    """The Dockerfile's warm-up step, run as the image runs it (radar on PATH, a fresh HOME): it
    leaves the compiled keyword databases and plan that a later scan loads instead of compiling,
    and no fingerprint key, which every container of the image would otherwise share."""
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    [step] = [line.removeprefix("RUN ") for line in lines if line.startswith("RUN ") and "radar scan" in line]
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(home),
           "LANG": "C.UTF-8"}
    checked(["sh", "-c", step.replace("/tmp/warm-up", str(tmp_path / "warm-up"))], env=env)
    cache = home / ".cache" / "radar"
    databases = sorted(cache.glob("*.hsdb"))
    assert [p.name.split("-")[0] for p in databases].count("patterns") == 1 and len(databases) >= 2
    assert list(cache.glob("plan-*.json")) and not (home / ".config").exists()
    assert not (tmp_path / "warm-up").exists()
    before = {p: p.stat().st_mtime_ns for p in databases}
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hello')\n")
    checked(["radar", "scan", str(tmp_path / "src")], env={**env, "RADAR_FINGERPRINT_KEY": "k"})
    assert {p: p.stat().st_mtime_ns for p in cache.glob("*.hsdb")} == before  # loaded, not compiled again
