"""Builds radar's held-out scanning set: credentials of the newer provider rules in contexts no rule was tuned on.

Run `python corpus/heldout/generate.py` to rewrite `corpus/heldout/files/` and
`corpus/heldout/manifest.json` (or give a directory to write them there instead). Deterministic
(fixed seed) and committed, like `corpus/generate.py`, whose manifest shape this keeps:
`{"secrets": [{"path", "line", "type"}]}` (line 1-based, where the secret starts; `type` the
credential type in our words). Any finding on a line the manifest does not list is a false positive.

Why held out: the rules' own examples, the labelled corpus and the peers' sample contexts
(`NAME = "value"` in a dozen languages) are what the rules were written and tuned against. This
set puts the same credential types where teams actually leave them, in files of the kinds below,
beside the hard negatives those files hold (placeholders, references, ids, hashes, example keys);
the formats are the vendors' documented ones (prefix, length, alphabet; `DOCS` per type). It is a
measurement (benchmarks/scan_benchmark.py reports it for radar and the peers), not a test gate.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from radar.scan.examples import expand  # noqa: E402

SEED = 20261204


@dataclass(frozen=True)
class Kind:
    type: str  # the credential type, in our words
    env: str  # the variable a team would keep it in
    template: str  # the value, in radar.scan.examples' template language
    docs: str  # where the vendor documents the format


# The vendors' documented formats. Types with no documented format (a bare 32-character key whose
# length the vendor never states) are left out rather than guessed.
KINDS = [
    Kind("Vercel token", "VERCEL_TOKEN", "vcp_{b64url:56}", "https://vercel.com/docs/rest-api/reference/welcome#authentication"),
    Kind("Vercel AI Gateway key", "AI_GATEWAY_API_KEY", "vck_{b64url:56}", "https://vercel.com/docs/ai-gateway/authentication"),
    Kind("Rootly API key", "ROOTLY_API_TOKEN", "rootly_{hex:64}", "https://docs.rootly.com/api-reference/overview"),
    Kind("RunPod API key", "RUNPOD_API_KEY", "rpa_{uppernum:40}{alnum:6}", "https://docs.runpod.io/get-started/api-keys"),
    Kind("Segment API token", "SEGMENT_TOKEN", "sgp_{alnum:64}", "https://docs.segmentapis.com/tag/Getting-Started"),
    Kind("Unkey root key", "UNKEY_ROOT_KEY", "unkey_{alnum:24}", "https://www.unkey.com/docs/security/root-keys"),
    Kind("UpCloud API token", "UPCLOUD_TOKEN", "ucat_{alnum:28}", "https://upcloud.com/docs/guides/getting-started-upcloud-api/"),
    Kind("Xendit API key", "XENDIT_SECRET_KEY", "xnd_production_{alnum:64}", "https://docs.xendit.co/docs/api-keys"),
    Kind("Zuplo API key", "ZUPLO_API_KEY", "zpka_{lowernum:32}_{hex:8}", "https://zuplo.com/docs/articles/api-key-management"),
    Kind("Paddle API key", "PADDLE_API_KEY", "pdl_live_apikey_{lowernum:26}_{alnum:22}_{alnum:3}", "https://developer.paddle.com/api-reference/about/authentication"),
    Kind("Pinterest access token", "PINTEREST_ACCESS_TOKEN", "pina_{b64url:96}", "https://developers.pinterest.com/docs/getting-started/authentication-and-scopes/"),
    Kind("Polar access token", "POLAR_ACCESS_TOKEN", "polar_pat_{b64url:43}", "https://docs.polar.sh/api-reference/introduction"),
    Kind("OneSignal API key", "ONESIGNAL_REST_API_KEY", "os_v2_app_{lowerbase32:103}", "https://documentation.onesignal.com/docs/keys-and-ids"),
    Kind("OpenShift token", "OPENSHIFT_TOKEN", "sha256~{b64url:43}", "https://docs.openshift.com/container-platform/latest/authentication/configuring-oauth-clients.html"),
    Kind("Nylas API key", "NYLAS_API_KEY", "nyk_v0_{alnum:60}", "https://developer.nylas.com/docs/v3/auth/"),
    Kind("MaxMind license key", "MAXMIND_LICENSE_KEY", "{alnum:6}_{alnum:29}_mmk", "https://dev.maxmind.com/geoip/updating-databases/"),
    Kind("LlamaCloud API key", "LLAMA_CLOUD_API_KEY", "llx-{alnum:48}", "https://docs.cloud.llamaindex.ai/api_key"),
    Kind("Lichess token", "LICHESS_TOKEN", "lip_{alnum:20}", "https://lichess.org/api#section/Introduction/Authentication"),
    Kind("Mergify application key", "MERGIFY_TOKEN", "mergify_application_key_{b64url:64}", "https://docs.mergify.com/api/"),
    Kind("Onfido API token", "ONFIDO_API_TOKEN", "api_live.{b64url:11}.{b64url:32}", "https://documentation.onfido.com/api/latest/#authentication"),
    Kind("Together AI API key", "TOGETHER_API_KEY", "tgp_v1_{b64url:43}", "https://docs.together.ai/reference/authentication-1"),
    Kind("Thunderstore token", "TCLI_AUTH_TOKEN", "tss_{alnum:40}", "https://thunderstore.io/api/docs/"),
    Kind("Val Town API token", "VALTOWN_TOKEN", "vtwn_{alnum:32}", "https://docs.val.town/api/authentication/"),
    Kind("WakaTime API key", "WAKATIME_API_KEY", "waka_{uuid}", "https://wakatime.com/developers#authentication"),
    Kind("Ramp client secret", "RAMP_CLIENT_SECRET", "ramp_sec_{alnum:48}", "https://docs.ramp.com/developer-api/v1/authorization"),
    Kind("Samsara API token", "SAMSARA_API_TOKEN", "samsara_api_{alnum:30}", "https://developers.samsara.com/docs/authentication"),
    Kind("Proof API key", "PROOF_API_KEY", "prf_{alnum:40}", "https://dev.proof.com/docs/authentication"),
    Kind("Docker Hub access token", "DOCKERHUB_TOKEN", "dckr_pat_{b64url:27}", "https://docs.docker.com/security/for-developers/access-tokens/"),
    Kind("Deno Deploy token", "DENO_DEPLOY_TOKEN", "ddp_{alnum:36}", "https://docs.deno.com/deploy/manual/api/"),
    Kind("DevCycle server SDK key", "DEVCYCLE_SERVER_SDK_KEY", "dvc_server_{alnum:32}", "https://docs.devcycle.com/sdk/"),
    Kind("Apify API token", "APIFY_TOKEN", "apify_api_{alnum:36}", "https://docs.apify.com/platform/integrations/api"),
    Kind("Brave Search API key", "BRAVE_API_KEY", "BSA{alnum:27}", "https://api-dashboard.search.brave.com/app/documentation"),
    Kind("Canva client secret", "CANVA_CLIENT_SECRET", "cnvca{b64url:51}", "https://www.canva.dev/docs/connect/authentication/"),
    Kind("Cartesia API key", "CARTESIA_API_KEY", "sk_car_{alnum:20}", "https://docs.cartesia.ai/get-started/make-an-api-request"),
    Kind("CockroachDB Cloud API key", "COCKROACH_API_KEY", "CCDB1_{alnum:22}_{alnum:40}", "https://www.cockroachlabs.com/docs/cockroachcloud/managing-access"),
    Kind("ConfigCat SDK key", "CONFIGCAT_SDK_KEY", "configcat-sdk-1/{b64url:22}/{b64url:22}", "https://configcat.com/docs/sdk-reference/overview/"),
    Kind("DataStax Astra token", "ASTRA_DB_APPLICATION_TOKEN", "AstraCS:{alnum:24}:{hex:64}", "https://docs.datastax.com/en/astra-db-serverless/administration/manage-application-tokens.html"),
    Kind("Aikido CI token", "AIKIDO_CLIENT_API_KEY", "AIK_CI_{alnum:40}", "https://help.aikido.dev/"),
    Kind("Adobe client secret", "ADOBE_CLIENT_SECRET", "p8e-{alnum:32}", "https://developer.adobe.com/developer-console/docs/guides/authentication/"),
    Kind("Artifactory access token", "ARTIFACTORY_ACCESS_TOKEN", "cmVmd{alnum:59}", "https://jfrog.com/help/r/jfrog-platform-administration-documentation/access-tokens"),
    Kind("Exoscale API key", "EXOSCALE_API_KEY", "EXO{alnum:24}", "https://community.exoscale.com/documentation/iam/quick-start/"),
    Kind("Sidekiq license key", "BUNDLE_GEMS__CONTRIBSYS__COM", "{hex:8}:{hex:8}", "https://github.com/sidekiq/sidekiq/wiki/Sidekiq-Pro"),
    Kind("Brevo API key", "BREVO_API_KEY", "xkeysib-{hex:64}-{alnum:16}", "https://developers.brevo.com/docs/getting-started"),
    Kind("Zoho OAuth token", "ZOHO_REFRESH_TOKEN", "1000.{hex:32}.{hex:32}", "https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html"),
    Kind("Workato API token", "WORKATO_API_TOKEN", "wrkaus-{jwt}{b64url:40}", "https://docs.workato.com/workato-api.html#authentication"),
    Kind("42 Intra client secret", "FT_CLIENT_SECRET", "s-s4t2ud-{hex:64}", "https://api.intra.42.fr/apidoc/guides/getting_started"),
    Kind("MiniMax API key", "MINIMAX_API_KEY", "sk-api-{b64url:119}", "https://platform.minimax.io/docs/guides/quickstart-preparation"),
    Kind("Bitwarden access token", "BWS_ACCESS_TOKEN", "0.{uuid}.{alnum:30}:{b64:22}==", "https://bitwarden.com/help/access-tokens/"),
    # Keys only their variable's name tells apart: the name is part of the case.
    Kind("VirusTotal API key", "VT_API_KEY", "{hex:64}", "https://docs.virustotal.com/reference/authentication"),
    Kind("Sendbird API token", "SENDBIRD_API_TOKEN", "{hex:40}", "https://sendbird.com/docs/chat/platform-api/v3/prepare-to-use-api"),
    Kind("Hunter API key", "HUNTER_API_KEY", "{hex:40}", "https://hunter.io/api-documentation/v2#authentication"),
    Kind("Deepgram API key", "DEEPGRAM_API_KEY", "{hex:40}", "https://developers.deepgram.com/docs/authenticating"),
    Kind("AbuseIPDB API key", "ABUSEIPDB_API_KEY", "{hex:80}", "https://docs.abuseipdb.com/#authentication"),
    Kind("Cisco Meraki API key", "MERAKI_DASHBOARD_API_KEY", "{hex:40}", "https://developer.cisco.com/meraki/api-v1/authorization/"),
    Kind("OpenWeather API key", "OPENWEATHER_API_KEY", "{hex:32}", "https://openweathermap.org/appid"),
    Kind("Stability AI API key", "STABILITY_API_KEY", "sk-{alnum:48}", "https://platform.stability.ai/docs/getting-started/authentication"),
    Kind("Moonshot API key", "MOONSHOT_API_KEY", "sk-{alnum:48}", "https://platform.moonshot.ai/docs/api/chat"),
    Kind("Voyage AI API key", "VOYAGE_API_KEY", "pa-{b64url:43}", "https://docs.voyageai.com/docs/api-key-and-installation"),
    Kind("Ollama API key", "OLLAMA_API_KEY", "{hex:32}.{b64url:24}", "https://docs.ollama.com/api/authentication"),
    Kind("Mem0 API key", "MEM0_API_KEY", "m0-{alnum:40}", "https://docs.mem0.ai/platform/quickstart"),
    Kind("Retell AI API key", "RETELL_API_KEY", "key_{hex:28}", "https://docs.retellai.com/accounts/api-keys-overview"),
    Kind("Telnyx API key", "TELNYX_API_KEY", "KEY{alnum:55}", "https://developers.telnyx.com/docs/overview/authentication"),
    Kind("Lob API key", "LOB_API_KEY", "live_{hex:35}", "https://docs.lob.com/#tag/Authentication"),
    Kind("Kucoin API secret", "KUCOIN_API_SECRET", "{uuid}", "https://www.kucoin.com/docs/basic-info/connection-method/authentication/creating-a-request"),
    Kind("Plivo auth token", "PLIVO_AUTH_TOKEN", "{alnum:40}", "https://www.plivo.com/docs/messaging/api/overview/authentication"),
    Kind("MessageBird API key", "MESSAGEBIRD_ACCESS_KEY", "{alnum:25}", "https://developers.messagebird.com/api/#authentication"),
    Kind("InfluxDB token", "INFLUX_TOKEN", "{b64url:86}==", "https://docs.influxdata.com/influxdb/v2/admin/tokens/"),
]

# Values that are not credentials, beside the real ones: what the same variables hold in the
# files teams commit (references, placeholders, ids, digests, example values).
# ENV and env stand for the variable's name; the rest is radar.scan.examples' template language.
NEGATIVES = [
    "${{ENV}}", "$(env_from_vault)", "<your-env>", "changeme", "REPLACE_ME",
    "{{{{ .Values.env }}}}", "${{{{ secrets.ENV }}}}", "%ENV%", "{uuid}", "sha256:{hex:64}",
]


def _lower(env: str) -> str:
    return env.lower()


def _camel(env: str) -> str:
    parts = [p for p in env.lower().split("_") if p]
    return parts[0] + "".join(p.title() for p in parts[1:])


# Each context: file name, then a function (env, value) -> lines, with the secret on the line that
# holds the marker "\0" (removed when written). Kinds whose format has no prefix need their name
# near the value, which every context keeps.
Context = Callable[[str, str], list[str]]
CONTEXTS: dict[str, tuple[str, Context]] = {
    "compose": ("docker-compose.yml", lambda e, v: [
        "services:", "  worker:", "    image: registry.example.com/worker:1.4", "    environment:",
        f"      - {e}=\0{v}", "      - LOG_LEVEL=info"]),
    "k8s": ("k8s/secret.yaml", lambda e, v: [
        "apiVersion: v1", "kind: Secret", "metadata:", "  name: worker-env", "type: Opaque", "stringData:",
        f"  {e}: \"\0{v}\""]),
    "helm": ("charts/worker/values-prod.yaml", lambda e, v: [
        "worker:", "  replicas: 3", "  env:", f"    {_camel(e)}: \0{v}", "  resources: {}"]),
    "tfvars": ("infra/prod.auto.tfvars", lambda e, v: [
        "region = \"eu-west-1\"", f"{_lower(e)} = \"\0{v}\"", "instance_count = 2"]),
    "terraform": ("infra/providers.tf", lambda e, v: [
        "provider \"restapi\" {", "  uri = \"https://api.example.com\"", "  headers = {",
        f"    {_lower(e)} = \"\0{v}\"", "  }", "}"]),
    "gitlab-ci": (".gitlab-ci.yml", lambda e, v: [
        "variables:", f"  {e}: \"\0{v}\"", "deploy:", "  script:", "    - ./deploy.sh"]),
    "github": (".github/workflows/release.yml", lambda e, v: [
        "jobs:", "  release:", "    runs-on: ubuntu-latest", "    env:", f"      {e}: \0{v}",
        "    steps:", "      - run: make release"]),
    "notebook": ("notebooks/explore.ipynb", lambda e, v: [
        "{\"cells\": [{\"cell_type\": \"code\", \"source\": [", "    \"import os\\n\",",
        f"    \"os.environ['{e}'] = '\0{v}'\\n\"", "]}]}"]),
    "spring": ("src/main/resources/application-prod.yml", lambda e, v: [
        "app:", "  integration:", f"    {_lower(e).replace('_', '-')}: \0{v}", "    timeout: 30s"]),
    "properties": ("src/main/resources/integration.properties", lambda e, v: [
        "integration.enabled=true", f"integration.{_lower(e).replace('_', '.')}=\0{v}"]),
    "django": ("app/settings/production.py", lambda e, v: [
        "DEBUG = False", f"{e} = os.environ.get(\"{e}\", \"\0{v}\")", "ALLOWED_HOSTS = [\"app.example.com\"]"]),
    "node": ("src/config.js", lambda e, v: [
        "module.exports = {", f"  {_camel(e)}: process.env.{e} || '\0{v}',", "  port: 8080,", "};"]),
    "dotenv": (".env.production", lambda e, v: ["NODE_ENV=production", f"{e}=\0{v}", "PORT=8080"]),
    "shell": ("scripts/sync.sh", lambda e, v: [
        "#!/bin/sh", "set -eu", f"export {e}='\0{v}'", "./bin/sync --all"]),
    "ansible": ("ansible/group_vars/prod.yml", lambda e, v: [
        "app_user: deploy", f"{_lower(e)}: \"\0{v}\"", "app_port: 8080"]),
    "log": ("logs/worker.log", lambda e, v: [
        "2026-11-30T10:00:01Z INFO starting worker",
        f"2026-11-30T10:00:02Z DEBUG env {e}=\0{v}", "2026-11-30T10:00:03Z INFO ready"]),
}


class Heldout:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counter = 0
        self.files: dict[str, list[str]] = {}
        self.manifest: list[dict[str, object]] = []

    def mint(self, template: str) -> str:
        self.counter += 1
        return expand(template, f"heldout/{SEED}/{self.counter}")

    def add(self, directory: str, name: str, lines: list[str], kind: Kind | None) -> None:
        path = f"{directory}/{name}"
        body = self.files.setdefault(path, [])
        for line in lines:
            if "\0" in line and kind is not None:
                self.manifest.append({"path": path, "line": len(body) + 1, "type": kind.type})
            body.append(line.replace("\0", ""))

    def build(self) -> None:
        names = sorted(CONTEXTS)
        for i, kind in enumerate(KINDS):
            # One context for every type, a second for every third, each in its own service's tree.
            chosen = self.rng.sample(names, 2 if i % 3 == 0 else 1)
            for context in chosen:
                file_name, render = CONTEXTS[context]
                directory = f"{kind.env.lower().replace('_', '-')}-{context}"
                negative = self.rng.choice(NEGATIVES).replace("ENV", kind.env).replace("env", _lower(kind.env))
                # The hard negative (same variable and file kind, a value that is not a credential)
                # in the service's defaults, the secret in its live file.
                self.add(f"{directory}/defaults", file_name, render(kind.env, self.mint(negative)), None)
                self.add(directory, file_name, render(kind.env, self.mint(kind.template)), kind)

    def write(self, root: Path) -> None:
        files = root / "files"
        if files.exists():
            shutil.rmtree(files)
        for path, lines in sorted(self.files.items()):
            target = files / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        manifest = sorted(self.manifest, key=lambda e: (str(e["path"]), int(str(e["line"]))))
        (root / "manifest.json").write_text(json.dumps({"secrets": manifest}, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else HERE
    heldout = Heldout(SEED)
    heldout.build()
    heldout.write(root)
    print(f"{len(heldout.manifest)} secrets of {len(KINDS)} types in {len(heldout.files)} files under {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
