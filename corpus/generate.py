"""Builds radar's labelled scanning corpus: realistic files with planted credentials and hard negatives.

Run `python corpus/generate.py` to rewrite `corpus/files/` and `corpus/manifest.json` (or give a
directory to write them there instead). The output
is deterministic (fixed seed) and committed, so tests and benchmarks see the same bytes.

Every planted credential is synthetic: random characters in the provider's documented format,
made with radar.scan.examples' template language but with this file's own templates and
surroundings (not the rule files' examples). The manifest lists each true secret as
`{"path", "line", "type"}` (line 1-based, the line where the secret starts); any finding on a
line not in the manifest is a false positive. Hard negatives sit beside the secrets: template
references, placeholders, documented example keys, hashes, UUIDs, integrity digests in lock files,
base64 images, commit ids, minified code without secrets.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from radar.scan.examples import expand  # noqa: E402

SEED = 20241121


class Corpus:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counter = 0
        self.files: dict[str, list[str]] = {}
        self.manifest: list[dict] = []

    def mint(self, template: str) -> str:
        self.counter += 1
        return expand(template, f"{SEED}-{self.counter}")

    def random_b64(self, size: int, prefix: bytes = b"") -> str:
        """Base64 of `prefix` and `size` random bytes: keys, digests, images."""
        return base64.b64encode(prefix + self.rng.randbytes(size)).decode()

    def file(self, path: str) -> CorpusFile:
        self.files.setdefault(path, [])
        return CorpusFile(self, path)

    def write(self, root: Path = HERE) -> None:
        files = root / "files"
        if files.exists():
            shutil.rmtree(files)
        for path, lines in self.files.items():
            target = files / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        manifest = sorted(self.manifest, key=lambda e: (e["path"], e["line"]))
        (root / "manifest.json").write_text(json.dumps({"secrets": manifest}, indent=1) + "\n")


class CorpusFile:
    def __init__(self, corpus: Corpus, path: str) -> None:
        self.corpus = corpus
        self.path = path
        self.lines = corpus.files[path]

    def text(self, block: str) -> CorpusFile:
        self.lines.extend(block.split("\n"))
        return self

    def secret(self, block: str, kind: str, at: int = 0) -> CorpusFile:
        """Add `block`; the secret of type `kind` starts on its line `at` (0-based)."""
        line = len(self.lines) + 1 + at
        self.lines.extend(block.split("\n"))
        self.corpus.manifest.append({"path": self.path, "line": line, "type": kind})
        return self


# --- credential makers: the provider formats ---------------------------------------------------

def make(c: Corpus) -> dict[str, callable]:
    m = c.mint
    return {
        "aws-access-key-id": lambda: m("AKIA{awskeyid}"),
        "aws-secret-access-key": lambda: m("{b64:40}"),
        "github-personal-access-token": lambda: m("ghp_{ghcrc:30}"),
        "github-fine-grained-pat": lambda: m("github_pat_11{uppernum:20}_{alnum:59}"),
        "github-server-to-server-token": lambda: m("ghs_{ghcrc:30}"),
        "gitlab-personal-access-token": lambda: m("glpat-{b64url:20}"),
        "gitlab-deploy-token": lambda: m("gldt-{b64url:20}"),
        "gitlab-runner-authentication-token": lambda: m("glrt-{b64url:20}"),
        "gitlab-pipeline-trigger-token": lambda: m("glptt-{hex:40}"),
        "gitlab-runner-registration-token": lambda: m("GR1348941{b64url:20}"),
        "vault-service-token": lambda: m("hvs.CAESI{b64url:86}"),
        "vault-batch-token": lambda: m("hvb.AAAAAQ{b64url:130}"),
        "slack-bot-token": lambda: m("xoxb-{digits:11}-{digits:13}-{alnum:24}"),
        "slack-webhook-url": lambda: m("https://hooks.slack.com/services/T{uppernum:8}/B{uppernum:10}/{alnum:24}"),
        "stripe-secret-key": lambda: m("sk_live_51{alnum:22}{alnum:75}"),
        "stripe-webhook-secret": lambda: m("whsec_{alnum:32}"),
        "sendgrid-api-key": lambda: m("SG.{b64url:22}.{b64url:43}"),
        "openai-api-key": lambda: m("sk-proj-{b64url:58}T3BlbkFJ{b64url:58}"),
        "anthropic-api-key": lambda: m("sk-ant-api03-{b64url:93}AA"),
        "huggingface-access-token": lambda: m("hf_{alpha:34}"),
        "gcp-api-key": lambda: m("AIza{b64url:35}"),
        "npm-access-token": lambda: m("npm_{ghcrc:30}"),
        "pypi-upload-token": lambda: m("pypi-{pypi}"),
        "docker-hub-personal-access-token": lambda: m("dckr_pat_{b64url:27}"),
        "digitalocean-personal-access-token": lambda: m("dop_v1_{hex:64}"),
        "twilio-api-key": lambda: m("{hex:32}"),
        "datadog-api-key": lambda: m("{hex:32}"),
        "new-relic-user-api-key": lambda: m("NRAK-{uppernum:27}"),
        "sentry-user-token": lambda: m("sntryu_{hex:64}"),
        "shopify-access-token": lambda: m("shpat_{hex:32}"),
        "square-access-token": lambda: m("EAAA{b64url:60}"),
        "telegram-bot-token": lambda: m("{digits:10}:AA{b64url:33}"),
        "discord-webhook-url": lambda: m("https://discord.com/api/webhooks/{digits:19}/{b64url:68}"),
        "databricks-access-token": lambda: m("dapi{hex:32}"),
        "terraform-cloud-api-token": lambda: m("{alnum:14}.atlasv1.{b64url:67}"),
        "linear-api-key": lambda: m("lin_api_{alnum:40}"),
        "grafana-service-account-token": lambda: m("glsa_{alnum:32}_{hex:8}"),
        "pulumi-access-token": lambda: m("pul-{hex:40}"),
        "azure-entra-client-secret": lambda: m("{alnum:3}7Q~{b64url:34}").replace("-", "x"),
        "age-secret-key": lambda: m("{age}"),
        "mailchimp-api-key": lambda: m("{hex:32}-us14"),
        "postman-api-key": lambda: m("PMAK-{hex:24}-{hex:34}"),
        "jwt": lambda: m("{jwt}"),
        "password": lambda: _password(c),
        "random-secret": lambda: m("{alnum:40}"),
        "django-secret": lambda: m("{lowernum:20}!{lowernum:10}#{lowernum:12}"),
    }


_WORDS = ["harbor", "granite", "velvet", "orbit", "cobalt", "juniper", "falcon", "meadow", "quartz", "ember"]
_SYMBOLS = "!#%&*+-=?@^_"


def _password(c: Corpus) -> str:
    rng = c.rng
    style = rng.randrange(3)
    if style == 0:
        return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(rng.randrange(14, 24)))
    if style == 1:
        return (rng.choice(_WORDS).capitalize() + str(rng.randrange(10, 9999)) + rng.choice(_SYMBOLS)
                + rng.choice(_WORDS) + rng.choice(_SYMBOLS) + str(rng.randrange(10, 99)))
    return c.mint("{alnum:12}{digits:3}") + rng.choice(_SYMBOLS) + c.mint("{alnum:5}")


# --- the files ------------------------------------------------------------------------------

def build(c: Corpus) -> None:
    s = make(c)
    rng = c.rng

    # Python / Django settings
    f = c.file("webapp/settings.py")
    f.text('"""Django settings for the billing web app."""\nimport os\nfrom pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent\n')
    f.secret(f'SECRET_KEY = "{s["django-secret"]()}"', "generic-secret")
    f.text('DEBUG = False\nALLOWED_HOSTS = ["billing.example.com"]\nTOKEN_LENGTH = 32\nPASSWORD_RESET_TIMEOUT = 259200\n')
    f.text('DATABASES = {\n    "default": {\n        "ENGINE": "django.db.backends.postgresql",\n        "NAME": "billing",\n        "USER": "billing",')
    f.secret(f'        "PASSWORD": "{s["password"]()}",', "generic-password")
    f.text('        "HOST": "db.internal",\n    }\n}\n')
    f.secret(f'STRIPE_SECRET_KEY = "{s["stripe-secret-key"]()}"', "stripe-secret-key")
    f.text('STRIPE_PUBLISHABLE_KEY = "pk_live_' + c.mint("{alnum:99}") + '"')
    f.secret(f'STRIPE_WEBHOOK_SECRET = "{s["stripe-webhook-secret"]()}"', "stripe-webhook-secret")
    f.text('EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")\nAUTH_PASSWORD_VALIDATORS = []\n')
    f.text('PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]\nCSRF_COOKIE_NAME = "csrftoken"\n')
    f.text(f'STATIC_VERSION_HASH = "{c.mint("{hex:40}")}"\nCACHE_KEY_PREFIX = "billing"\n')

    f = c.file("webapp/integrations/aws_client.py")
    f.text('import boto3\n\n\ndef client():\n    return boto3.client(\n        "s3",')
    f.secret(f'        aws_access_key_id="{s["aws-access-key-id"]()}",', "aws-access-key-id")
    f.secret(f'        aws_secret_access_key="{s["aws-secret-access-key"]()}",', "aws-secret-access-key")
    f.text('        region_name="eu-west-1",\n    )\n\n\n# From the AWS documentation, not a real key:\nEXAMPLE_ID = "AKIAIOSFODNN7EXAMPLE"\nEXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n')

    f = c.file("webapp/integrations/notify.py")
    f.text('import requests\n\n')
    f.secret(f'SLACK_WEBHOOK = "{s["slack-webhook-url"]()}"', "slack-webhook-url")
    f.secret(f'SLACK_BOT_TOKEN = "{s["slack-bot-token"]()}"', "slack-bot-token")
    f.secret(f'TELEGRAM_TOKEN = "{s["telegram-bot-token"]()}"', "telegram-bot-token")
    f.text('\n\ndef notify(text, token=None):\n    token = token or get_token()\n    requests.post(SLACK_WEBHOOK, json={"text": text}, timeout=5)\n')
    f.text(f'MESSAGE_ID = "{c.mint("{uuid}")}"\n')

    f = c.file("webapp/ai/llm.py")
    f.text('from openai import OpenAI\nimport anthropic\n')
    f.secret(f'client = OpenAI(api_key="{s["openai-api-key"]()}")', "openai-api-key")
    f.secret(f'claude = anthropic.Anthropic(api_key="{s["anthropic-api-key"]()}")', "anthropic-api-key")
    f.secret(f'HF_TOKEN = "{s["huggingface-access-token"]()}"', "huggingface-access-token")
    f.text('max_tokens = 4096\ntokenizer = AutoTokenizer.from_pretrained("gpt2")\napi_key = os.getenv("OPENAI_API_KEY")\n')
    f.text('MODEL_SHA256 = "' + c.mint("{hex:64}") + '"\n')

    # JavaScript / TypeScript
    f = c.file("frontend/src/config.ts")
    f.text('export const config = {\n  apiBase: "https://api.example.com",')
    f.secret(f'  mapsKey: "{s["gcp-api-key"]()}",', "gcp-api-key")
    f.secret(f'  sendgridKey: "{s["sendgrid-api-key"]()}",', "sendgrid-api-key")
    f.text('  sentryDsn: process.env.SENTRY_DSN,\n  apiKey: "<your-api-key>",\n  authToken: "${AUTH_TOKEN}",\n  buildId: "' + c.mint("{uuid}") + '",\n};\n')
    f.secret(f'const apiSecret = "{s["random-secret"]()}";', "generic-secret")
    f.text('export function authHeader(token: string) {\n  return { Authorization: `Bearer ${token}` };\n}\n')

    f = c.file("frontend/src/services/payments.js")
    f.text("import Stripe from 'stripe';\n")
    f.secret(f"const stripe = new Stripe('{s['stripe-secret-key']()}');", "stripe-secret-key")
    f.secret(f"const shopifyToken = '{s['shopify-access-token']()}';", "shopify-access-token")
    f.text("const currency = 'eur';\nconst password = document.getElementById('password').value;\nconst tokenKey = 'session-token';\n")

    # .env files
    f = c.file("services/api/.env")
    f.text("# local overrides\nNODE_ENV=production\nPORT=8080")
    f.secret(f"DATABASE_URL=postgres://api:{s['password']()}@db.internal:5432/api", "postgres-connection-uri")
    f.secret(f"REDIS_URL=rediss://default:{c.mint('{alnum:32}')}@cache.internal:6380/0", "redis-connection-uri")
    f.secret(f"GITHUB_TOKEN={s['github-personal-access-token']()}", "github-personal-access-token")
    f.secret(f"GITLAB_TOKEN={s['gitlab-personal-access-token']()}", "gitlab-personal-access-token")
    f.secret(f"OPENAI_API_KEY={s['openai-api-key']()}", "openai-api-key")
    f.secret(f"JWT_SECRET={s['random-secret']()}", "generic-secret")
    f.secret(f"DD_API_KEY={s['datadog-api-key']()}", "datadog-api-key")
    f.text("LOG_LEVEL=info\nFEATURE_FLAGS=beta,dark-mode\nSESSION_TTL=3600")

    f = c.file("services/api/.env.example")
    f.text("DATABASE_URL=postgres://api:changeme@localhost:5432/api\nGITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
           "OPENAI_API_KEY=sk-...\nJWT_SECRET=your_jwt_secret_here\nDD_API_KEY=<datadog api key>\nSTRIPE_SECRET_KEY=sk_live_XXXXXXXXXXXXXXXXXXXXXXXX\n"
           "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nPASSWORD=\nAPI_TOKEN=${API_TOKEN}\n")

    f = c.file("services/worker/.env.production")
    f.secret(f"CELERY_BROKER_URL=amqp://worker:{s['password']()}@rabbit.internal:5672/jobs", "amqp-connection-uri")
    f.secret(f"AWS_ACCESS_KEY_ID={s['aws-access-key-id']()}", "aws-access-key-id")
    f.secret(f"AWS_SECRET_ACCESS_KEY={s['aws-secret-access-key']()}", "aws-secret-access-key")
    f.secret(f"SENTRY_AUTH_TOKEN={s['sentry-user-token']()}", "sentry-user-token")
    f.secret(f"NEW_RELIC_API_KEY={s['new-relic-user-api-key']()}", "new-relic-user-api-key")
    f.secret(f"SMTP_PASSWORD={s['password']()}", "generic-password")
    f.text("SMTP_USER=mailer\nSMTP_HOST=smtp.example.com\nWORKER_CONCURRENCY=8")

    # GitLab CI
    f = c.file("deploy/.gitlab-ci.yml")
    f.text("stages: [build, deploy]\n\nvariables:\n  DOCKER_DRIVER: overlay2\n  VAULT_SERVER_URL: https://vault.example.com")
    f.secret(f"  VAULT_TOKEN: {s['vault-service-token']()}", "vault-service-token")
    f.secret(f"  DEPLOY_TOKEN: {s['gitlab-deploy-token']()}", "gitlab-deploy-token")
    f.text("\nbuild:\n  stage: build\n  script:\n    - docker login -u $CI_REGISTRY_USER -p $CI_REGISTRY_PASSWORD $CI_REGISTRY")
    f.secret(f"    - docker login -u deployer -p {s['password']()} registry.example.com", "docker-login-password")
    f.secret(f"    - curl --fail --form token={s['gitlab-pipeline-trigger-token']()} --form ref=main https://gitlab.example.com/api/v4/projects/42/trigger/pipeline", "gitlab-pipeline-trigger-token")
    f.text("\ndeploy:\n  stage: deploy\n  id_tokens:\n    VAULT_ID_TOKEN:\n      aud: https://vault.example.com\n  secrets:\n    DATABASE_PASSWORD:\n      vault: production/db/password@ops\n      token: $VAULT_ID_TOKEN\n  script:\n    - ./deploy.sh")

    f = c.file("deploy/runner/config.toml")
    f.text('concurrent = 4\n\n[[runners]]\n  name = "shared-runner-1"\n  url = "https://gitlab.example.com"')
    f.secret(f'  token = "{s["gitlab-runner-authentication-token"]()}"', "gitlab-runner-authentication-token")
    f.text('  executor = "docker"\n  [runners.docker]\n    image = "alpine:3.20"\n')
    f.secret(f'# legacy registration: gitlab-runner register --registration-token {s["gitlab-runner-registration-token"]()}', "gitlab-runner-registration-token")

    # Terraform
    f = c.file("infra/main.tf")
    f.text('terraform {\n  required_version = ">= 1.5"\n}\n\nprovider "aws" {\n  region     = "eu-west-1"')
    f.secret(f'  access_key = "{s["aws-access-key-id"]()}"', "aws-access-key-id")
    f.secret(f'  secret_key = "{s["aws-secret-access-key"]()}"', "generic-api-key")
    f.text('}\n\nresource "aws_db_instance" "main" {\n  engine   = "postgres"\n  username = "app"')
    f.secret(f'  password = "{s["password"]()}"', "generic-password")
    f.text('}\n\nresource "aws_db_instance" "replica" {\n  password = var.replica_password\n}\n\nresource "random_password" "db" {\n  length = 24\n}\n')
    f.secret(f'provider "digitalocean" {{\n  token = "{s["digitalocean-personal-access-token"]()}"\n}}', "digitalocean-personal-access-token", at=1)
    f.secret(f'provider "azurerm" {{\n  client_secret = "{s["azure-entra-client-secret"]()}"\n}}', "azure-entra-client-secret", at=1)
    f.text('variable "db_password" {\n  type      = string\n  sensitive = true\n}\n')

    f = c.file("infra/backend.tfrc")
    f.secret(f'credentials "app.terraform.io" {{\n  token = "{s["terraform-cloud-api-token"]()}"\n}}', "terraform-cloud-api-token", at=1)

    f = c.file("infra/storage.tf")
    key = c.random_b64(64)
    f.secret(f'locals {{\n  storage_conn = "DefaultEndpointsProtocol=https;AccountName=billingexports;AccountKey={key};EndpointSuffix=core.windows.net"\n}}', "azure-storage-connection-string", at=1)
    sb = c.random_b64(32)
    f.secret(f'  # Endpoint=sb://orders-prod.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={sb}', "azure-service-bus-connection-string")

    # Docker
    f = c.file("docker/api.Dockerfile")
    f.text("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .")
    f.secret(f"ENV NPM_TOKEN={s['npm-access-token']()}", "npm-access-token")
    f.secret(f"ENV DB_PASSWORD {s['password']()}", "generic-password")
    f.text("ENV PASSWORD_FILE=/run/secrets/db_password\nARG BUILD_TOKEN\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"gunicorn\", \"app:app\"]")

    f = c.file("docker/compose.yml")
    f.text("services:\n  db:\n    image: postgres:16\n    environment:")
    f.secret(f"      POSTGRES_PASSWORD: {s['password']()}", "generic-password")
    f.text("      POSTGRES_USER: app\n  app:\n    image: registry.example.com/app:1.4.2\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n      API_TOKEN_FILE: /run/secrets/api_token\n")
    f.secret(f"      MONGO_URI: mongodb+srv://app:{s['password']()}@cluster0.a1b2c.mongodb.net/prod", "mongodb-connection-uri")

    # Shell
    f = c.file("scripts/deploy.sh")
    f.text("#!/usr/bin/env bash\nset -euo pipefail\n")
    f.secret(f"export VAULT_TOKEN={s['vault-service-token']()}", "vault-service-token")
    f.secret(f"export PULUMI_ACCESS_TOKEN={s['pulumi-access-token']()}", "pulumi-access-token")
    f.secret(f'curl -sf -H "Authorization: Bearer {s["jwt"]()}" https://api.example.com/v1/deploy', "json-web-token")
    f.text('TOKEN="$(vault kv get -field=token secret/ci)"\ncurl -H "PRIVATE-TOKEN: $TOKEN" https://gitlab.example.com/api/v4/projects\n')
    f.secret(f"git clone https://deploy:{s['password']()}@git.example.com/platform/infra.git", "url-credentials")
    f.text('echo "deploying $(git rev-parse HEAD)"\n')

    f = c.file("scripts/backup.sh")
    f.text("#!/bin/sh\n")
    f.secret(f"mysqldump --user=backup --password={s['password']()} --all-databases > /backups/all.sql", "generic-password")
    f.secret(f"export DATABRICKS_TOKEN={s['databricks-access-token']()}", "databricks-access-token")
    f.text("sha256sum /backups/all.sql > /backups/all.sql.sha256\n# checksum: " + c.mint("{hex:64}"))

    # Java properties, XML
    f = c.file("billing-service/src/main/resources/application.properties")
    f.text("server.port=8080\nspring.application.name=billing\nspring.datasource.username=billing")
    f.secret(f"spring.datasource.password={s['password']()}", "generic-password")
    f.secret(f"spring.datasource.url=jdbc:postgresql://db.internal:5432/billing?user=billing&password={s['password']()}", "jdbc-connection-password")
    f.text("spring.mail.password=${MAIL_PASSWORD}\nmanagement.endpoints.web.exposure.include=health\njwt.expiration=86400")
    f.secret(f"twilio.auth.token={s['twilio-api-key']()}", "twilio-api-key")

    f = c.file("billing-service/settings.xml")
    f.text("<settings>\n  <servers>\n    <server>\n      <id>releases</id>\n      <username>deployer</username>")
    f.secret(f"      <password>{s['password']()}</password>", "generic-password")
    f.text("    </server>\n    <server>\n      <id>snapshots</id>\n      <password>${env.NEXUS_PASSWORD}</password>\n    </server>\n  </servers>\n</settings>")

    f = c.file("billing-service/src/main/java/com/example/billing/Gateway.java")
    f.text("package com.example.billing;\n\npublic final class Gateway {")
    f.secret(f'    private static final String API_KEY = "{s["random-secret"]()}";', "generic-api-key")
    f.text('    private static final String PASSWORD_FIELD = "password";\n    private final String token;\n\n    Gateway(String token) {\n        this.token = token;\n    }\n}')

    # JSON, INI, YAML
    f = c.file("config/production.json")
    f.text('{\n  "service": "orders",\n  "database": {\n    "host": "orders-db.internal",\n    "user": "orders",')
    f.secret(f'    "password": "{s["password"]()}"', "generic-password")
    f.text('  },\n  "integrations": {')
    f.secret(f'    "postmanApiKey": "{s["postman-api-key"]()}",', "postman-api-key")
    f.secret(f'    "linearKey": "{s["linear-api-key"]()}",', "linear-api-key")
    f.secret(f'    "mailchimp": "{s["mailchimp-api-key"]()}",', "mailchimp-api-key")
    f.text('    "webhookId": "' + c.mint("{uuid}") + '",\n    "schemaHash": "' + c.mint("{hex:32}") + '"\n  }\n}')

    f = c.file("config/legacy.ini")
    f.text("[server]\nhost = 0.0.0.0\nport = 8000\n\n[database]\nuser = legacy")
    f.secret(f"password = {s['password']()}", "generic-password")
    f.text("password_policy = strict\n\n[ldap]\nbind_dn = cn=admin,dc=example,dc=com")
    f.secret(f"bind_password = {s['password']()}", "generic-password")
    f.text("\n[cache]\nkey_prefix = legacy\n")

    f = c.file("config/monitoring.yaml")
    f.text("grafana:\n  url: https://grafana.example.com")
    f.secret(f"  token: {s['grafana-service-account-token']()}", "grafana-service-account-token")
    f.text("alerting:\n  discord:")
    f.secret(f"    webhook: {s['discord-webhook-url']()}", "discord-webhook-url")
    f.text("  pagerduty:\n    service: PX0RTY1\nlogging:\n  level: info\n  format: json\n")

    f = c.file("config/age-keys.txt")
    f.text("# created: 2024-06-01T10:00:00Z\n# public key: age1" + c.mint("{lowerbase32:58}"))
    f.secret(s["age-secret-key"](), "age-secret-key")

    # Keys
    f = c.file("keys/deploy_rsa")
    f.secret(c.mint("{pem:RSA PRIVATE KEY}"), "pem-private-key")
    f = c.file("keys/deploy_ed25519")
    f.secret(c.mint("{openssh}"), "openssh-private-key")
    f = c.file("keys/jenkins.ppk")
    f.secret(c.mint("{ppk}"), "putty-private-key")
    f = c.file("keys/signing.asc")
    f.secret(c.mint("{pgp}"), "pgp-private-key-block")
    f = c.file("keys/server.crt")
    f.text("-----BEGIN CERTIFICATE-----\n" + "\n".join(c.mint("{b64:64}") for _ in range(12)) + "\n-----END CERTIFICATE-----")
    f = c.file("keys/id_rsa.pub")
    f.text("ssh-rsa " + c.mint("{b64:372}") + " deploy@ci")
    f = c.file("keys/gcp-billing-sa.json")
    f.text('{\n  "type": "service_account",\n  "project_id": "billing-prod-4821",\n  "private_key_id": "' + c.mint("{hex:40}") + '",')
    f.secret('  "private_key": "' + c.mint("{pemjson:PRIVATE KEY}") + '\\n",', "gcp-service-account-key")
    f.text('  "client_email": "exporter@billing-prod-4821.iam.gserviceaccount.com",\n  "client_id": "' + c.mint("{digits:21}") + '",\n  "token_uri": "https://oauth2.googleapis.com/token"\n}')

    # Kubernetes: base64-encoded values
    f = c.file("k8s/secrets.yaml")
    gh = s["github-server-to-server-token"]()
    f.text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci-credentials\ntype: Opaque\ndata:")
    f.secret(f"  github-token: {base64.b64encode(gh.encode()).decode()}", "github-server-to-server-token")
    env_blob = f"HF_TOKEN={s['huggingface-access-token']()}\nLOG_LEVEL=debug\n"
    f.secret(f"  app.env: {base64.b64encode(env_blob.encode()).decode()}", "huggingface-access-token")
    f.text("  username: " + base64.b64encode(b"ci-bot").decode() + "\n  replicas: " + base64.b64encode(b"3").decode())

    f = c.file("k8s/kubeconfig")
    pem = c.mint("{pem:EC PRIVATE KEY}") + "\n"
    f.text("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: " + base64.b64encode(
        ("-----BEGIN CERTIFICATE-----\n" + c.mint("{b64:64}") + "\n-----END CERTIFICATE-----\n").encode()).decode()
           + "\n    server: https://k8s.example.com:6443\n  name: prod\nusers:\n- name: admin\n  user:\n    client-certificate-data: "
           + base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode())
    f.secret("    client-key-data: " + base64.b64encode(pem.encode()).decode(), "pem-private-key")

    f = c.file("ci/.npmrc")
    f.text("registry=https://registry.npmjs.org/\nalways-auth=true")
    f.secret(f"//registry.npmjs.org/:_authToken={s['npm-access-token']()}", "npm-access-token")
    f.text("//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}\n")

    f = c.file("ci/.pypirc")
    f.text("[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__")
    f.secret(f"password = {s['pypi-upload-token']()}", "pypi-upload-token")

    f = c.file("ci/docker-config.json")
    auth = base64.b64encode(f"deployer:{s['password']()}".encode()).decode()
    f.text('{\n  "auths": {')
    f.secret(f'    "registry.example.com": {{"auth": "{auth}"}},', "docker-config-auth")
    f.text('    "https://index.docker.io/v1/": {}\n  },\n  "credsStore": "desktop"\n}')

    f = c.file("ci/github-actions.yml")
    f.text("name: release\non: [push]\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo ${{ secrets.GITHUB_TOKEN }}")
    f.secret(f"      - run: echo {s['docker-hub-personal-access-token']()} | docker login -u ci --password-stdin", "docker-hub-personal-access-token")
    f.text("        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n      - uses: actions/setup-node@" + c.mint("{hex:40}"))

    # Go, Ruby
    f = c.file("tools/sync/main.go")
    f.text('package main\n\nimport "fmt"\n\nconst (\n\tdefaultRegion = "eu-west-1"')
    f.secret(f'\tsquareToken   = "{s["square-access-token"]()}"', "square-access-token")
    f.secret(f'\tgithubPAT     = "{s["github-fine-grained-pat"]()}"', "github-fine-grained-pat")
    f.text(')\n\nfunc main() {\n\tpassword := readPassword()\n\tfmt.Println(len(password))\n}')

    f = c.file("tools/report/client.rb")
    f.text("require 'net/http'\n\nclass ReportClient")
    f.secret(f"  API_TOKEN = '{s['random-secret']()}'.freeze", "generic-token")
    f.text("  def initialize(token: ENV['REPORT_TOKEN'])\n    @token = token\n  end\nend")

    # Markdown docs: placeholders and documented examples, and one real leak.
    f = c.file("docs/setup.md")
    f.text("# Setting up\n\nCreate a token and export it:\n\n```sh\nexport GITLAB_TOKEN=glpat-<your token>\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
           "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nexport VAULT_TOKEN=hvs.XXXXXXXXXXXXXXXXXXXXXXXX\n```\n\n"
           "The password must be at least 12 characters. Set `password: ${DB_PASSWORD}` in values.yaml.\n")
    f.text("For the staging cluster, the on-call engineer used this token during the incident:\n")
    f.secret(f"    {s['gitlab-personal-access-token']()}", "gitlab-personal-access-token")
    f.text("\nRotate it after reading. Commit " + c.mint("{hex:40}") + " removed the old config.\n")

    f = c.file("docs/api.md")
    f.text("## Authentication\n\nSend `Authorization: Bearer <token>` with every request. Tokens look like\n`sk_live_...` and are shown once. Example request:\n\n"
           "```\ncurl -H 'Authorization: Bearer YOUR_API_TOKEN' https://api.example.com/v1/items\n```\n\n"
           "Webhook signatures use HMAC-SHA256; the header `X-Signature` holds `sha256=" + c.mint("{hex:64}") + "`.\n")

    # Test fixtures: real-format credentials, kept but ranked low.
    f = c.file("tests/fixtures/credentials.json")
    f.text('{\n  "fixtures": [')
    f.secret(f'    {{"name": "github", "token": "{s["github-personal-access-token"]()}"}},', "github-personal-access-token")
    f.secret(f'    {{"name": "slack", "token": "{s["slack-bot-token"]()}"}},', "slack-bot-token")
    f.text('    {"name": "placeholder", "token": "REPLACE_ME"}\n  ]\n}')

    f = c.file("tests/test_login.py")
    f.text("import pytest\n\n\ndef test_login(client):")
    f.secret(f'    client.login(username="alice", password="{s["password"]()}")', "generic-password")
    f.text('    assert client.get("/me").status_code == 200\n\n\ndef test_hash():\n    assert sha1(b"x") == "' + c.mint("{hex:40}") + '"\n')

    # Minified bundle with a key inside.
    f = c.file("frontend/public/js/app.min.js")
    parts = []
    for i in range(120):
        parts.append(f"function {c.mint('{lower:2}')}{i}(e,t){{return e.{c.mint('{lower:6}')}(t,{rng.randrange(1000)})}}")
    parts.insert(60, f'var cfg={{algoliaAppId:"{c.mint("{uppernum:10}")}",firebase:"{s["gcp-api-key"]()}"}};')
    f.secret(";".join(parts[:61]), "gcp-api-key")
    f.text(";".join(parts[61:]))

    # Negative-only files.
    f = c.file("frontend/package-lock.json")
    f.text('{\n  "name": "frontend",\n  "lockfileVersion": 3,\n  "packages": {')
    for name in ("react", "react-dom", "scheduler", "loose-envify", "js-tokens", "token-stream", "secret-handshake", "password-validator"):
        sha = c.random_b64(64)
        f.text(f'    "node_modules/{name}": {{\n      "version": "{rng.randrange(1, 19)}.{rng.randrange(10)}.{rng.randrange(10)}",\n'
               f'      "resolved": "https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz",\n      "integrity": "sha512-{sha}"\n    }},')
    f.text('    "": {}\n  }\n}')

    f = c.file("frontend/yarn.lock")
    for name in ("lodash", "tokenizer", "auth-header"):
        f.text(f'{name}@^4.0.0:\n  version "4.17.21"\n  resolved "https://registry.yarnpkg.com/{name}/-/{name}-4.17.21.tgz#{c.mint("{hex:40}")}"\n'
               f'  integrity sha512-{c.random_b64(64)}\n')

    f = c.file("tools/sync/go.sum")
    for mod in ("golang.org/x/crypto", "github.com/google/uuid", "github.com/hashicorp/vault/api"):
        f.text(f"{mod} v0.{rng.randrange(30)}.0 h1:{c.random_b64(32)}\n{mod} v0.{rng.randrange(30)}.0/go.mod h1:{c.random_b64(32)}")

    f = c.file("frontend/src/styles/icons.css")
    png_header = b"\x89PNG\r\n\x1a\n"
    for name in ("logo", "spinner", "token-icon"):
        image = c.random_b64(300, png_header)
        f.text(f".{name} {{\n  background-image: url(data:image/png;base64,{image});\n}}")

    f = c.file("data/checksums.sha256")
    for name in ("release.tar.gz", "secrets-tool-linux-amd64", "password-manager.deb"):
        f.text(f"{c.mint('{hex:64}')}  {name}")

    f = c.file("data/accounts.csv")
    f.text("id,account_id,api_key_id,token_type,created")
    for _ in range(8):
        f.text(f"{c.mint('{uuid}')},{c.mint('{digits:12}')},{c.mint('{uuid}')},bearer,2024-0{rng.randrange(1, 9)}-1{rng.randrange(10)}")

    f = c.file("webapp/crypto_constants.py")
    f.text('"""Known-answer test vectors (public)."""\n')
    f.text(f'SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\nMD5_ABC = "900150983cd24fb0d6963f7d28e17f72"\n'
           f'password_hash = "$argon2id$v=19$m=65536,t=3,p=4${c.mint("{b64:22}")}${c.mint("{b64:43}")}"\n'
           f'token_sha256 = "{c.mint("{hex:64}")}"\nsecret_digest = "{c.mint("{hex:40}")}"\nAPI_KEY_HEADER = "X-Api-Key"\n'
           f'PASSWORD_MIN_LENGTH = 12\nSECRET_NAME = "prod/billing/stripe"\nTOKEN_URL = "https://oauth2.example.com/token"\n')

    f = c.file("webapp/templates/login.html")
    f.text('<form method="post">\n  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">\n  <input type="password" name="password" placeholder="Password">\n'
           '  <input type="text" name="token" value="{{ request.args.get(\'token\', \'\') }}">\n</form>')

    f = c.file("helm/values.yaml")
    f.text("image:\n  repository: registry.example.com/billing\n  tag: 1.4.2\ndb:\n  password: \"{{ .Values.global.dbPassword }}\"\n  existingSecret: billing-db\n"
           "auth:\n  token: \"\"\n  tokenSecretRef: billing-token\nredis:\n  password: changeme\n  auth:\n    enabled: true\n")

    f = c.file("ansible/group_vars/all.yml")
    f.text("db_password: \"{{ vault_db_password }}\"\napi_key: \"{{ lookup('env', 'API_KEY') }}\"\nadmin_password: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          "
           + c.mint("{hex:64}") + "\n          " + c.mint("{hex:64}") + "\nssh_key_path: ~/.ssh/id_ed25519\n")


def build_more(c: Corpus) -> None:
    """More providers in more file kinds, and negatives that look like them."""
    m = c.mint

    f = c.file("services/payments/gateways.yaml")
    f.text("gateways:\n  braintree:\n    environment: production\n    merchant_id: " + m("{lowernum:16}"))
    f.secret("    access_token: access_token$production$" + m("{lowernum:16}") + "$" + m("{hex:32}"), "braintree-access-token")
    f.text("  square:\n    application_id: sq0idp-" + m("{b64url:22}"))
    f.secret("    application_secret: sq0csp-" + m("{b64url:43}"), "square-oauth-secret")
    f.text("  plaid:\n    client_id: " + m("{hex:24}"))
    f.secret("    access_token: access-production-" + m("{uuid}"), "plaid-access-token")
    f.secret("  flutterwave_secret: FLWSECK-" + m("{hex:32}") + "-X", "flutterwave-secret-key")
    f.secret("  easypost_key: EZAK" + m("{alnum:54}"), "easypost-api-key")
    f.secret("  shippo: shippo_live_" + m("{hex:40}"), "shippo-api-token")
    f.text("  stripe:\n    publishable_key: pk_live_" + m("{alnum:99}") + "\n    currency: eur")

    f = c.file("services/ml/.env")
    f.secret("GROQ_API_KEY=gsk_" + m("{alnum:52}"), "groq-api-key")
    f.secret("PPLX_API_KEY=pplx-" + m("{alnum:48}"), "perplexity-api-key")
    f.secret("REPLICATE_API_TOKEN=r8_" + m("{alnum:37}"), "replicate-api-token")
    f.secret("LANGSMITH_API_KEY=lsv2_pt_" + m("{hex:32}") + "_" + m("{hex:10}"), "langsmith-api-key")
    f.secret("PINECONE_API_KEY=pcsk_" + m("{alnum:6}") + "_" + m("{alnum:63}"), "pinecone-api-key")
    f.secret("MISTRAL_API_KEY=" + m("{alnum:32}"), "mistral-api-key")
    f.secret("NVIDIA_API_KEY=nvapi-" + m("{b64url:64}"), "nvidia-api-key")
    f.secret("OPENROUTER_API_KEY=sk-or-v1-" + m("{hex:64}"), "openrouter-api-key")
    f.text("MODEL_NAME=llama-3.1-70b\nMAX_TOKENS=2048\nEMBEDDING_DIM=1536\nWANDB_PROJECT=ranker")

    f = c.file("services/ops/alerting.toml")
    f.text('[pagerduty]\nservice = "P0X1Y2Z"')
    f.secret('routing_key = "' + m("{hex:32}") + '"', "generic-api-key")
    f.text("[newrelic]")
    f.secret('license_key = "' + m("{hex:36}") + 'NRAL"', "new-relic-license-key")
    f.text("[dynatrace]")
    f.secret('api_token = "dt0c01.' + m("{uppernum:24}") + "." + m("{uppernum:64}") + '"', "dynatrace-api-token")
    f.text("[sentry]")
    f.secret("dsn = \"https://" + m("{hex:32}") + "@o" + m("{digits:6}") + ".ingest.sentry.io/" + m("{digits:7}") + "\"", "sentry-dsn")
    f.secret('auth_token = "sntrys_eyJ' + m("{b64:150}") + '"', "sentry-organization-token")
    f.text("[posthog]\nproject_api_key = \"phc_" + m("{alnum:43}") + "\"")
    f.secret('personal_api_key = "phx_' + m("{alnum:43}") + '"', "posthog-personal-api-key")

    f = c.file("services/saas/integrations.json")
    f.text('{\n  "notion": {')
    f.secret('    "token": "ntn_' + m("{digits:11}") + m("{alnum:35}") + '"', "notion-integration-token")
    f.text('  },\n  "airtable": {')
    f.secret('    "pat": "pat' + m("{alnum:14}") + "." + m("{hex:64}") + '",', "airtable-personal-access-token")
    f.text('    "base": "app' + m("{alnum:14}") + '"\n  },\n  "hubspot": {')
    f.secret('    "privateAppToken": "pat-eu1-' + m("{uuid}") + '"', "hubspot-private-app-token")
    f.text('  },\n  "figma": {')
    f.secret('    "token": "figd_' + m("{b64url:40}") + '"', "figma-personal-access-token")
    f.text('  },\n  "google": {\n    "clientId": "' + m("{digits:12}") + "-" + m("{lowernum:32}") + '.apps.googleusercontent.com",')
    f.secret('    "clientSecret": "GOCSPX-' + m("{b64url:28}") + '"', "gcp-oauth-client-secret")
    f.text('  },\n  "tailscale": {')
    f.secret('    "authKey": "tskey-auth-k' + m("{alnum:11}") + "CNTRL-" + m("{alnum:33}") + '"', "tailscale-key")
    f.text('  },\n  "doppler": {')
    f.secret('    "serviceToken": "dp.st.prd.' + m("{alnum:43}") + '"', "doppler-token")
    f.text('  }\n}')

    f = c.file("deploy/k8s/gitlab-agent.yaml")
    f.text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: gitlab-agent-token\nstringData:")
    f.secret("  token: glagent-" + m("{b64url:50}"), "gitlab-agent-token")
    f.text("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: feeds\ndata:")
    f.secret("  issues_feed: https://gitlab.example.com/dashboard/issues.atom?feed_token=glft-" + m("{b64url:20}") + "&state=opened", "gitlab-feed-token")
    f.secret("  scim_token: glsoat-" + m("{b64url:20}"), "gitlab-scim-token")
    f.secret("  unleash_instance_id: glffct-" + m("{b64url:20}"), "gitlab-feature-flags-client-token")

    f = c.file("scripts/vault-init.log")
    f.text("$ vault operator init -key-shares=3 -key-threshold=2")
    for i in range(1, 4):
        f.secret(f"Unseal Key {i}: " + c.random_b64(33), "vault-unseal-key")
    f.text("")
    f.secret("Initial Root Token: hvs." + m("{alnum:24}"), "vault-service-token")
    f.text("\nVault initialized with 3 key shares and a key threshold of 2.")

    f = c.file("scripts/debug-session.sh")
    f.text("# reproduce the 500 on the project page")
    f.secret("curl -b '_gitlab_session=" + m("{hex:32}") + "' https://gitlab.example.com/group/project/-/settings/ci_cd", "gitlab-session-cookie")
    f.secret("curl -H 'X-Vault-Token: hvb.AAAAAQ" + m("{b64url:140}") + "' https://vault.example.com/v1/secret/data/app", "vault-batch-token")
    f.text("curl -H 'X-Vault-Token: $VAULT_TOKEN' https://vault.example.com/v1/sys/health")

    f = c.file("registry/.cargo/credentials.toml")
    f.text("[registry]")
    f.secret('token = "cio' + m("{alnum:32}") + '"', "crates-io-api-token")
    f = c.file("registry/.gem/credentials")
    f.text("---")
    f.secret(":rubygems_api_key: rubygems_" + m("{hex:48}"), "rubygems-api-key")
    f = c.file("registry/NuGet.Config")
    f.text('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <apikeys>')
    f.secret('    <add key="https://www.nuget.org/api/v2/package" value="oy2' + m("{lowernum:43}") + '" />', "nuget-api-key")
    f.text("  </apikeys>\n</configuration>")
    f = c.file("registry/gradle.properties")
    f.text("org.gradle.jvmargs=-Xmx2g\ngradle.publish.key=" + m("{alnum:32}"))
    f.secret("gradle.publish.secret=" + m("{alnum:32}"), "gradle-publish-secret")
    f.secret("sonatypePassword=" + _password(c), "generic-password")
    f.text("signing.keyId=" + m("{HEX:8}") + "\nsigning.secretKeyRingFile=/home/ci/.gnupg/secring.gpg")

    # Negatives that look like secrets to a pattern, not to a reader.
    f = c.file("docs/token-formats.md")
    f.text("| token | format |\n| --- | --- |\n| GitHub classic | `ghp_` + 36 characters, e.g. `ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX` |\n"
           "| GitLab | `glpat-` + 20 characters, e.g. `glpat-xxxxxxxxxxxxxxxxxxxx` |\n| Slack | `xoxb-<workspace>-<bot>-<secret>` |\n"
           "| Stripe | `sk_live_...`, never commit it |\n| AWS | `AKIAIOSFODNN7EXAMPLE` / `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` |\n")
    f = c.file("webapp/tracing.py")
    f.text('"""Identifiers that are random but public."""\n')
    f.text(f'REQUEST_ID = "{m("{uuid}")}"\ntrace_id = "{m("{hex:32}")}"\nspan_id = "{m("{hex:16}")}"\ncommit_sha = "{m("{hex:40}")}"\n'
           f'client_id = "{m("{alnum:32}")}"\npublic_key = "{m("{b64:44}")}"\nnonce = "{m("{b64:24}")}"\nsalt = "{m("{b64:22}")}"\n'
           f'etag = "W/\\"{m("{hex:32}")}\\""\nsession_cookie_name = "__Host-session"\nkey_id = "{m("{uuid}")}"\n'
           f'ssh_host_fingerprint = "SHA256:{m("{b64:43}")}"\ntoken_type = "Bearer"\npassword_reset_url = "https://example.com/reset"\n')
    f = c.file("frontend/src/firebase-public.ts")
    f.text('// Publishable identifiers: safe in client code by design.\nexport const posthog = "phc_' + m("{alnum:43}") + '";\n'
           'export const stripePk = "pk_test_' + m("{alnum:99}") + '";\nexport const mapbox = "pk.eyJ' + m("{b64url:60}") + "." + m("{b64url:22}") + '";\n'
           "// A Sentry DSN carries the project's client key: anyone holding it can send events.")
    f.secret('export const sentryDsn = "https://' + m("{hex:32}") + "@o" + m("{digits:6}") + '.ingest.sentry.io/42";\n', "sentry-dsn")
    build_identifiers_and_dsns(c)


def build_identifiers_and_dsns(c: Corpus) -> None:
    """Code identifiers assigned to secret names (never secrets) and Sentry DSNs in the forms
    Sentry documents (https://docs.sentry.io/concepts/key-terms/dsn-explainer/)."""
    m = c.mint
    f = c.file("docs/user/authentication.rst")
    f.text("Authentication\n==============\n\nBasic and digest authentication::\n\n"
           "    >>> from requests.auth import HTTPBasicAuth, HTTPDigestAuth\n"
           "    >>> auth = HTTPBasicAuth('user', 'pass')\n    >>> auth = HTTPDigestAuth('user', 'pass')\n"
           "    >>> session.auth = OAuth2Session(client_id, token=token)\n\nSettings read elsewhere::\n\n"
           "    password = getpass()\n    token = os.environ.get\n    SECRET_KEY = settings.SECRET_KEY\n"
           "    auth: HTTPBasicAuth\n    password = self.password\n")
    f.text("A deploy token pasted into the docs by mistake::\n")
    f.secret("    token = " + m("{alpha:4}") + "9" + m("{alpha:3}") + "2" + m("{alpha:4}") + "7" + m("{alpha:3}") + "4" + m("{alpha:2}"), "generic-token")
    f = c.file("deploy/monitoring.env")
    f.secret("SENTRY_DSN=https://" + m("{hex:32}") + "@o" + m("{digits:6}") + ".ingest.us.sentry.io/" + m("{digits:7}"), "sentry-dsn")
    f.secret("LEGACY_SENTRY_DSN=https://" + m("{hex:32}") + ":" + m("{hex:32}") + "@sentry.io/" + m("{digits:6}"), "sentry-dsn")
    f.secret('SENTRY_DSN_SELF_HOSTED="https://' + m("{hex:32}") + '@sentry.ops.internal/7"', "sentry-dsn")
    f.text("SENTRY_ENVELOPE_URL=https://o" + m("{digits:6}") + ".ingest.sentry.io/api/" + m("{digits:7}") + "/envelope/")
    f.text("SENTRY_DSN_EXAMPLE=https://examplePublicKey@o0.ingest.sentry.io/0")


def main(argv: list[str] | None = None) -> None:
    """`generate.py [DIR]`: write files/ and manifest.json under DIR (default: this folder)."""
    args = sys.argv[1:] if argv is None else argv
    corpus = Corpus(SEED)
    build(corpus)
    build_more(corpus)
    corpus.write(Path(args[0]) if args else HERE)
    print(f"{len(corpus.files)} files, {len(corpus.manifest)} secrets")


if __name__ == "__main__":
    main()
