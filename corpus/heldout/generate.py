"""Builds radar's held-out corpus: the newer credential types in everyday files radar was not tuned on.

Run `python corpus/heldout/generate.py` to rewrite `corpus/heldout/files/` and
`corpus/heldout/manifest.json` (or give a directory to write them there instead). The output is
deterministic (fixed seed) and committed. Formats come from each vendor's documentation (catalog.py,
one docs URL per type); values are synthetic, made with radar.scan.examples' template language.

Each type's secret sits in one of the contexts below, and every third type in a second, different
one. The contexts are the files teams really commit (compose files, Kubernetes Secrets, Helm values,
.tfvars and Terraform provider blocks, CI variables, notebooks, Spring config, settings modules, env
files, README curl lines, shell exports, logs, Ansible vars, pypirc-style INI), not the sample
contexts gitleaks tests its rules with. Hard negatives sit beside them: the same variables holding
placeholders and template references, and UUIDs, digests, identifiers and short values under
secret-looking names.

The manifest lists each true secret as `{"path", "line", "type"}` (line 1-based, where the secret
starts; `type` is the credential type in our words, one of catalog.py's). This set is a measurement
(recall and precision of radar and the peers), never tuned against.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE))

from catalog import NAMED, TYPES  # noqa: E402

from radar.scan.examples import expand  # noqa: E402

SEED = 20261204


def snake(name: str) -> str:
    return name.lower()


def camel(name: str) -> str:
    head, *rest = name.lower().split("_")
    return head + "".join(p.capitalize() for p in rest if p)


def kebab(name: str) -> str:
    return "-".join(p for p in name.lower().split("_") if p)


def dotted(name: str) -> str:
    return ".".join(p for p in name.lower().split("_") if p)


# A context: its file, its opening and closing lines, and how one variable is written in it.
Line = Callable[[str, str], str]
CONTEXTS: list[tuple[str, str, str, Line]] = [
    ("deploy/docker-compose.yml", "services:\n  api:\n    image: registry.example.com/shop/api:2.4.1\n    environment:",
     "    ports:\n      - \"8080:8080\"", lambda n, v: f'      {n}: "{v}"'),
    ("k8s/app-secrets.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\n  namespace: shop\ntype: Opaque\nstringData:",
     "", lambda n, v: f"  {kebab(n)}: {v}"),
    ("charts/shop/values.yaml", "replicaCount: 2\nimage:\n  repository: shop/api\n  tag: \"2.4.1\"\nsecrets:",
     "resources:\n  limits:\n    memory: 512Mi", lambda n, v: f'  {camel(n)}: "{v}"'),
    ("infra/prod.auto.tfvars", 'region      = "eu-central-1"\nenvironment = "prod"',
     'tags = {\n  team = "platform"\n}', lambda n, v: f'{snake(n)} = "{v}"'),
    (".gitlab-ci.yml", "stages: [test, deploy]\n\nvariables:\n  GIT_DEPTH: \"20\"",
     "\ndeploy:\n  stage: deploy\n  script:\n    - ./scripts/deploy.sh", lambda n, v: f'  {n}: "{v}"'),
    (".github/workflows/release.yml", "name: release\non:\n  push:\n    tags: ['v*']\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    env:",
     "    steps:\n      - uses: actions/checkout@v4\n      - run: make release", lambda n, v: f"      {n}: {v}"),
    ("notebooks/exploration.ipynb", '{\n "cells": [\n  {\n   "cell_type": "code",\n   "execution_count": 1,\n   "metadata": {},\n   "outputs": [],\n   "source": [\n    "import os\\n",',
     '    "client = connect()\\n"\n   ]\n  }\n ],\n "metadata": {"kernelspec": {"name": "python3"}},\n "nbformat": 4,\n "nbformat_minor": 5\n}',
     lambda n, v: f'    "os.environ[\\"{n}\\"] = \\"{v}\\"\\n",'),
    ("service/src/main/resources/application.yml", "server:\n  port: 8080\nintegrations:",
     "logging:\n  level:\n    root: INFO", lambda n, v: f"  {kebab(n)}: {v}"),
    ("service/src/main/resources/application-prod.properties", "spring.application.name=shop\nserver.port=8080",
     "management.endpoints.web.exposure.include=health", lambda n, v: f"integrations.{dotted(n)}={v}"),
    ("shop/settings.py", "import os\nfrom pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent\nDEBUG = False",
     "ALLOWED_HOSTS = [\"shop.example.com\"]", lambda n, v: f'{n} = "{v}"'),
    ("web/config.js", "module.exports = {\n  port: 3000,",
     "};", lambda n, v: f"  {camel(n)}: '{v}',"),
    (".env.production", "NODE_ENV=production\nPORT=3000", "LOG_LEVEL=info", lambda n, v: f"{n}={v}"),
    ("docs/API.md", "# Calling the providers by hand\n\nEach command below was copied from a debugging session.\n\n```sh",
     "```", lambda n, v: f'curl -s -H "Authorization: Bearer {v}" https://api.example.com/v1/{kebab(n)}'),
    ("scripts/bootstrap.sh", "#!/usr/bin/env bash\nset -euo pipefail", 'exec ./bin/server "$@"',
     lambda n, v: f'export {n}="{v}"'),
    ("logs/worker-2026-11-03.log", "2026-11-03T10:22:00Z INFO worker starting pid=4121",
     "2026-11-03T10:22:09Z INFO worker ready", lambda n, v: f"2026-11-03T10:22:01Z DEBUG config loaded {snake(n)}={v}"),
    ("ansible/group_vars/production.yml", "---\nnginx_worker_processes: 4\napp_user: shop",
     "app_restart_handler: restart shop", lambda n, v: f'{snake(n)}: "{v}"'),
    ("infra/providers.tf", 'terraform {\n  required_version = ">= 1.6"\n}\n\nprovider "restapi" {\n  uri = "https://api.example.com"',
     "}", lambda n, v: f'  {snake(n)} = "{v}"'),
    ("tools/.servicerc", "; credentials for the release tooling, pypirc-style\n[default]\nrepository = https://upload.example.com/legacy/",
     "timeout = 30", lambda n, v: f"{snake(n)} = {v}"),
]

PLACEHOLDERS = ["<your-key>", "${{{n}}}", "changeme", "{{{{ vault_{s} }}}}", "xxxxxxxx", "YOUR_API_KEY_HERE",
                "<{n}>", "${{env.{n}}}", "TODO", "${{{{ secrets.{n} }}}}"]


class HeldOut:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.counter = 0
        self.body: dict[int, list[tuple[str, str | None]]] = {i: [] for i in range(len(CONTEXTS))}

    def mint(self, template: str) -> str:
        self.counter += 1
        return expand(template, f"heldout-{SEED}-{self.counter}")

    def add(self, context: int, name: str, value: str, kind: str | None) -> None:
        self.body[context].append((CONTEXTS[context][3](name, value), kind))

    def hard_negatives(self) -> None:
        """Values under secret-looking names that are not secrets: UUIDs, digests, short values."""
        for i in range(len(CONTEXTS)):
            self.add(i, "REQUEST_TRACE_ID", self.mint("{uuid}"), None)
            self.add(i, "BUILD_SHA256", self.mint("{hex:64}"), None)
            self.add(i, "API_KEY_LENGTH", "32", None)
            self.add(i, "TOKEN_TTL", "3600s", None)
            self.add(i, "SECRET_NAME", "shop-api-secrets", None)
        # Code identifiers assigned to secret names, written as code is (unquoted).
        self.body[9].append(("API_KEY = ApiKeyProvider(settings_module=__name__)", None))
        self.body[9].append(("AUTH_TOKEN = TokenStore.from_env", None))
        self.body[10].append(("  apiKey: ApiKeyProvider(process.env),", None))
        self.body[10].append(("  sessionSecret: config.session.secret,", None))
        # The key Adafruit's own API docs show in their curl samples (io.adafruit.com/api/docs).
        self.add(12, "ADAFRUIT_IO_KEY", "b780002b85d6411ca0ad9f9c60195f72", None)
        # The key Paddle's authentication page shows (developer.paddle.com/api-reference/about/authentication).
        self.add(13, "PADDLE_API_KEY", "pdl_live_apikey_01gtgztp8f4kek3yd4g1wrksa3_q6TGTJyvoIz7LDtXT65bX7_AQO", None)

    def write(self, root: Path) -> tuple[int, int]:
        files = root / "files"
        if files.exists():
            shutil.rmtree(files)
        manifest = []
        for i, (path, head, tail, _) in enumerate(CONTEXTS):
            lines = head.split("\n")
            entries = self.body[i]
            self.rng.shuffle(entries)
            for text, kind in entries:
                lines.append(text)
                if kind is not None:
                    manifest.append({"path": path, "line": len(lines), "type": kind})
            if tail:
                lines.extend(tail.split("\n"))
            if path.endswith(".ipynb"):
                lines = fix_notebook(lines)
            target = files / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        manifest.sort(key=lambda e: (e["path"], e["line"]))
        (root / "manifest.json").write_text(json.dumps({"secrets": manifest}, indent=1) + "\n")
        return len(CONTEXTS), len(manifest)


def fix_notebook(lines: list[str]) -> list[str]:
    # JSON arrays take no trailing comma: the last source line before the closing bracket loses it.
    closing = lines.index("   ]")
    lines[closing - 1] = lines[closing - 1].rstrip(",")
    return lines


def build(h: HeldOut) -> None:
    rows = TYPES + NAMED
    n = len(CONTEXTS)
    for index, (kind, name, _docs, template) in enumerate(rows):
        first = index % n
        h.add(first, name, h.mint(template), kind)
        if index % 3 == 0:
            h.add((first + 5) % n, name, h.mint(template), kind)
        placeholder = PLACEHOLDERS[index % len(PLACEHOLDERS)].format(n=name, s=snake(name))
        h.add((first + 9) % n, name, placeholder, None)
    h.hard_negatives()


def main(argv: list[str] | None = None) -> None:
    """`generate.py [DIR]`: write files/ and manifest.json under DIR (default: this folder)."""
    args = sys.argv[1:] if argv is None else argv
    h = HeldOut()
    build(h)
    files, secrets = h.write(Path(args[0]) if args else HERE)
    print(f"{files} files, {secrets} secrets")


if __name__ == "__main__":
    main()
