"""`radar audit ci`'s rules, one pipeline per case: the bad one fires the rule at the line that is
wrong, the fixed one does not. Plus how the configuration is assembled (includes, extends,
!reference, anchors) and the plan's own CI stanza, which must raise nothing."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from radar.audit.ci import RULES, audit_ci
from radar.plan.build import build_plan
from radar.plan.ci import project_file
from radar.plan.load import ScanInfo
from radar.plan.mapping import Mapping, ProjectInfo
from radar.scan.findings import Finding
from radar.vault.errors import CIYamlError

TOKEN = """\
  id_tokens:
    VAULT_ID_TOKEN:
      aud: https://vault.example.com
"""


def audit(tmp_path: Path, text: str, **files: str):
    (tmp_path / ".gitlab-ci.yml").write_text(textwrap.dedent(text))
    for name, content in files.items():
        path = tmp_path / name.replace("__", "/").replace("_yml", ".yml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    return audit_ci(str(tmp_path))


def fired(result, rule_id: str) -> list[tuple[str, int, str]]:
    return [(i.path, i.line, i.subject) for i in result.issues if i.rule_id == rule_id]


def job(body: str, secrets: str = "DB_PASSWORD:\n      vault: ci/app/db/password@secret\n      file: false\n",
        tokens: str = TOKEN, extra: str = "") -> str:
    """A job `build` that receives secrets, with `body` as its script lines (each `    - ...`)."""
    return f"build:\n{tokens}  secrets:\n    {secrets}{extra}  script:\n{body}"


# (case, rule, bad pipeline, the line it fires at, the fixed pipeline)
CASES = [
    ("no id_tokens at all", "ci-secrets-without-id-token",
     job("    - make\n", tokens=""), 1, job("    - make\n")),
    ("token: names an ID token the job lacks", "ci-secrets-without-id-token",
     job("    - make\n", secrets="DB_PASSWORD:\n      vault: ci/app/db/password@secret\n      token: $OTHER_TOKEN\n"), 8,
     job("    - make\n", secrets="DB_PASSWORD:\n      vault: ci/app/db/password@secret\n      token: $VAULT_ID_TOKEN\n")),
    ("an ID token without aud", "ci-secrets-without-id-token",
     job("    - make\n", tokens="  id_tokens:\n    VAULT_ID_TOKEN:\n      foo: bar\n",
         secrets="DB_PASSWORD:\n      vault: ci/app/db/password@secret\n      token: $VAULT_ID_TOKEN\n"), 8,
     job("    - make\n", secrets="DB_PASSWORD:\n      vault: ci/app/db/password@secret\n      token: ${VAULT_ID_TOKEN}\n")),
    ("CI_JOB_JWT", "gitlab-ci-job-jwt",
     "login:\n  script:\n    - vault write auth/jwt/login role=app jwt=$CI_JOB_JWT_V2\n", 3,
     "login:\n" + TOKEN + "  script:\n    - vault write auth/jwt/login role=app jwt=$VAULT_ID_TOKEN\n"),
    ("VAULT_SKIP_VERIFY", "gitlab-ci-vault-skip-verify",
     "variables:\n  VAULT_SKIP_VERIFY: \"true\"\nbuild:\n  script: make\n", 2,
     "variables:\n  VAULT_CACERT: /etc/ssl/vault-ca.pem\nbuild:\n  script: make\n"),
    ("curl -k towards $VAULT_ADDR", "ci-vault-tls-unverified",
     "read:\n  script:\n    - curl -sSk -H \"X-Vault-Token: $T\" $VAULT_ADDR/v1/secret/data/app\n", 3,
     "read:\n  script:\n    - curl -sS --cacert $VAULT_CACERT -H \"X-Vault-Token: $T\" $VAULT_ADDR/v1/secret/data/app\n"),
    ("curl --insecure towards a /v1/ URL", "ci-vault-tls-unverified",
     "read:\n  script: curl --insecure https://vault.example.com/v1/sys/health\n", 2,
     "read:\n  script: curl --insecure https://example.com/health\n"),
    ("wget --no-check-certificate", "ci-vault-tls-unverified",
     "read:\n  script:\n    - wget --no-check-certificate -O- ${VAULT_ADDR}/v1/sys/health\n", 3,
     "read:\n  script:\n    - wget -O- ${VAULT_ADDR}/v1/sys/health\n"),
    ("vault -tls-skip-verify", "ci-vault-tls-unverified",
     "read:\n  script:\n    - vault kv get -tls-skip-verify secret/app\n", 3,
     "read:\n  script:\n    - vault kv get secret/app\n"),
    ("curl --location with the job token", "ci-token-header-redirected",
     "fetch:\n  script:\n    - curl --location --output a.zip --header \"JOB-TOKEN: $CI_JOB_TOKEN\" "
     "\"$CI_API_V4_URL/projects/1/jobs/artifacts/main/download?job=build\"\n", 3,
     "fetch:\n  script:\n    - curl --output a.zip --header \"JOB-TOKEN: $CI_JOB_TOKEN\" "
     "\"$CI_API_V4_URL/projects/1/jobs/artifacts/main/download?job=build\"\n"),
    ("curl -fsSL with a private token, in a substitution", "ci-token-header-redirected",
     "fetch:\n  script:\n    - 'status=$(curl -fsSL -H\"PRIVATE-TOKEN: $API_TOKEN\" $CI_API_V4_URL/version)'\n", 3,
     "fetch:\n  script:\n    - 'status=$(curl -fsS -H\"PRIVATE-TOKEN: $API_TOKEN\" $CI_API_V4_URL/version)'\n"),
    ("echo of a variable secret", "ci-secret-echoed",
     job("    - echo \"password is ${DB_PASSWORD}\"\n"), 10,
     job("    - echo \"$DB_PASSWORD\" | docker login -u ci --password-stdin registry.example.com\n")),
    ("printf of a variable secret", "ci-secret-echoed",
     job("    - printf '%s\\n' $DB_PASSWORD\n"), 10,
     job("    - printf '%s' $DB_PASSWORD > .db-password\n")),
    ("cat of a file secret", "ci-secret-echoed",
     job("    - cat $SSH_KEY\n", secrets="SSH_KEY:\n      vault: ci/app/ssh/key@secret\n"), 9,
     job("    - cat $SSH_KEY | ssh-add -\n", secrets="SSH_KEY:\n      vault: ci/app/ssh/key@secret\n")),
    ("env alone", "ci-environment-dumped",
     job("    - env\n"), 10, job("    - env GOFLAGS=-mod=mod go build ./...\n")),
    ("printenv piped to sort", "ci-environment-dumped",
     job("    - printenv | sort\n"), 10, job("    - printenv HOME\n")),
    ("printenv of a secret", "ci-environment-dumped",
     job("    - printenv DB_PASSWORD\n"), 10, job("    - printenv > /dev/null\n")),
    ("set -x", "ci-shell-trace",
     job("    - set -euxo pipefail\n"), 10, job("    - set -euo pipefail\n")),
    ("set -o xtrace", "ci-shell-trace",
     job("    - set -o xtrace\n"), 10, job("    - set +x\n")),
    ("bash -x", "ci-shell-trace",
     job("    - bash -x ./deploy.sh\n"), 10, job("    - bash ./deploy.sh\n")),
    ("a TLS key as a variable", "ci-key-not-file",
     job("    - make\n", secrets="TLS_KEY:\n      vault: ci/app/tls/key@secret\n      file: false\n"), 6,
     job("    - make\n", secrets="TLS_KEY:\n      vault: ci/app/tls/key@secret\n      file: true\n")),
    ("a certificate field as a variable", "ci-key-not-file",
     job("    - make\n", secrets="CLIENT:\n      vault: ci/app/mtls/client_cert@secret\n      file: false\n"), 6,
     job("    - make\n", secrets="CLIENT:\n      vault: ci/app/mtls/client_cert@secret\n")),
    ("production job without rules", "ci-secrets-unprotected-ref",
     job("    - ./deploy\n", extra="  environment: production\n"), 1,
     job("    - ./deploy\n", extra="  environment: production\n  rules:\n    - if: $CI_COMMIT_REF_PROTECTED == \"true\"\n")),
    ("production read from any branch or a merge request", "ci-secrets-unprotected-ref",
     job("    - ./deploy\n", secrets="DB_PASSWORD:\n      vault: ci/app/production/db/password@secret\n",
         extra="  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"),
     1,
     job("    - ./deploy\n", secrets="DB_PASSWORD:\n      vault: ci/app/production/db/password@secret\n",
         extra="  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n    - if: $CI_COMMIT_TAG\n")),
    ("production with only: branches", "ci-secrets-unprotected-ref",
     job("    - ./deploy\n", extra="  environment:\n    name: prod-eu\n  only:\n    - branches\n"), 1,
     job("    - ./deploy\n", extra="  environment:\n    name: prod-eu\n  only:\n    - main\n    - tags\n")),
    ("production guarded by a when: never rule", "ci-secrets-unprotected-ref",
     job("    - ./deploy\n", extra="  environment: live\n  rules:\n    - if: $CI_COMMIT_REF_NAME == \"dev\"\n"
                                   "      when: never\n    - when: manual\n"), 1,
     job("    - ./deploy\n", extra="  environment: live\n  rules:\n    - if: $CI_COMMIT_REF_PROTECTED != \"true\"\n"
                                   "      when: never\n    - when: manual\n")),
    ("scheduled pipelines", "ci-secrets-untrusted-source",
     job("    - ./sync\n", extra="  rules:\n    - if: $CI_PIPELINE_SOURCE == \"schedule\"\n"), 1,
     job("    - ./sync\n", extra="  rules:\n    - if: $CI_PIPELINE_SOURCE == \"push\"\n")),
    ("triggered pipelines under only:", "ci-secrets-untrusted-source",
     job("    - ./sync\n", extra="  only:\n    - triggers\n    - main\n"), 1,
     job("    - ./sync\n", extra="  only:\n    - main\n")),
    ("web pipelines in a regex", "ci-secrets-untrusted-source",
     job("    - ./sync\n", extra="  rules:\n    - if: $CI_PIPELINE_SOURCE =~ /^(push|web)$/\n"), 1,
     job("    - ./sync\n", extra="  rules:\n    - if: $CI_PIPELINE_SOURCE == \"web\"\n      when: never\n    - when: always\n")),
]


@pytest.mark.parametrize("case, rule_id, bad, line, fixed", CASES, ids=[c[0] for c in CASES])
def test_the_bad_pipeline_fires_the_rule_at_its_line_and_the_fixed_one_does_not(tmp_path, case, rule_id, bad, line,
                                                                                  fixed):
    (tmp_path / "bad").mkdir()
    (tmp_path / "fixed").mkdir()
    found = fired(audit(tmp_path / "bad", bad), rule_id)
    assert [(path, n) for path, n, _ in found] == [(".gitlab-ci.yml", line)]
    assert fired(audit(tmp_path / "fixed", fixed), rule_id) == []


def test_every_rule_has_a_case():
    assert {c[1] for c in CASES} == set(RULES)


def test_each_finding_says_the_risk_and_the_fix_of_its_rule(tmp_path):
    issues = audit(tmp_path, job("    - set -x\n", tokens="")).issues
    assert {i.rule_id for i in issues} == {"ci-secrets-without-id-token", "ci-shell-trace"}
    for issue in issues:
        assert (issue.risk, issue.fix, issue.severity) == (RULES[issue.rule_id].risk, RULES[issue.rule_id].fix,
                                                           RULES[issue.rule_id].severity)
        assert issue.kind == "gitlab-ci-config" and issue.subject == "build"


def test_script_rules_apply_only_to_jobs_that_receive_secrets(tmp_path):
    result = audit(tmp_path, "lint:\n  script:\n    - set -x\n    - env\n    - echo $DB_PASSWORD\n")
    assert result.issues == () and result.jobs == 1


def test_echo_of_a_file_secret_prints_its_path_only_and_is_not_reported(tmp_path):
    result = audit(tmp_path, job("    - echo $SSH_KEY\n", secrets="SSH_KEY:\n      vault: ci/app/ssh/key@secret\n"))
    assert fired(result, "ci-secret-echoed") == []


def test_a_bare_key_name_is_a_token_not_a_key_file(tmp_path):
    result = audit(tmp_path, job("    - make\n", secrets="API_KEY:\n      vault: ci/app/api/key@secret\n      file: false\n"))
    assert fired(result, "ci-key-not-file") == []


def test_non_production_jobs_without_rules_are_not_reported(tmp_path):
    # A documented false negative: the role decides whether a branch may read staging secrets.
    result = audit(tmp_path, job("    - ./deploy\n", extra="  environment: staging\n"))
    assert fired(result, "ci-secrets-unprotected-ref") == []


def test_workflow_rules_that_keep_pipelines_to_protected_refs_protect_every_job(tmp_path):
    text = "workflow:\n  rules:\n    - if: $CI_COMMIT_REF_PROTECTED == \"true\"\n" + job(
        "    - ./deploy\n", extra="  environment: production\n")
    assert fired(audit(tmp_path, text), "ci-secrets-unprotected-ref") == []


# --- how the configuration is assembled ------------------------------------------------------

def test_a_job_from_a_local_include_extending_a_template_of_the_main_file_is_audited_in_its_file(tmp_path):
    main = f"include:\n  - local: ci/deploy.yml\n.vault:\n{TOKEN}"
    deploy = ("deploy:\n  extends: .vault\n  environment: production\n  secrets:\n    DB_PASSWORD:\n"
              "      vault: ci/app/production/db/password@secret\n      file: false\n  script:\n"
              "    - make\n    - echo $DB_PASSWORD\n")
    result = audit(tmp_path, main, ci__deploy_yml=deploy)
    assert fired(result, "ci-secret-echoed") == [("ci/deploy.yml", 10, "deploy: DB_PASSWORD")]
    assert fired(result, "ci-secrets-unprotected-ref") == [("ci/deploy.yml", 1, "deploy")]
    assert fired(result, "ci-secrets-without-id-token") == []  # the template's id_tokens came through
    assert result.files == 2


def test_a_reference_into_an_included_file_is_resolved(tmp_path):
    main = "include: /ci/common.yml\n" + job("    - !reference [.debug, script]\n")
    result = audit(tmp_path, main, ci__common_yml=".debug:\n  script:\n    - set -x\n")
    assert fired(result, "ci-shell-trace") == [("ci/common.yml", 3, "build")]


def test_the_main_file_wins_over_an_include_key_by_key(tmp_path):
    included = "build:\n  environment: production\n  script: make\n"
    main = "include: common.yml\n" + job("    - make\n", extra="  rules:\n    - if: $CI_COMMIT_TAG\n")
    result = audit(tmp_path, main, common_yml=included)
    assert fired(result, "ci-secrets-unprotected-ref") == []  # production from the include, rules from main


def test_anchors_are_expanded(tmp_path):
    text = ("x-debug: &debug\n  - set -x\n" + job("    - make\n").replace("  script:\n    - make\n", "  script: *debug\n"))
    assert fired(audit(tmp_path, text), "ci-shell-trace") == [(".gitlab-ci.yml", 2, "build")]


def test_remote_and_template_includes_are_not_followed_and_say_so(tmp_path):
    text = ("include:\n  - remote: https://example.com/ci.yml\n  - template: Jobs/SAST.gitlab-ci.yml\n"
            "  - local: 'ci/*.yml'\nbuild:\n  script: make\n")
    result = audit(tmp_path, text)
    assert len(result.warnings) == 3 and all("is not followed" in w for w in result.warnings)


def test_an_include_outside_the_repository_is_refused(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "outside.yml").write_text("build:\n  script: make\n")
    with pytest.raises(CIYamlError, match="outside the repository"):
        audit(tmp_path / "repo", "include: ../outside.yml\n")


def test_files_including_each_other_are_read_once(tmp_path):
    result = audit(tmp_path, "include: a.yml\nbuild:\n  script: make\n", a_yml="include: .gitlab-ci.yml\n")
    assert result.files == 2 and result.jobs == 1


def test_a_missing_local_include_is_an_error_naming_it(tmp_path):
    with pytest.raises(CIYamlError, match="ci/missing.yml: no such file"):
        audit(tmp_path, "include:\n  local: ci/missing.yml\n")


# --- the plan's own stanza -------------------------------------------------------------------

def _finding(path: str, fingerprint: str, name: str, secret_type: str = "Password") -> Finding:
    return Finding(rule_id="generic-password", secret_type=secret_type, description="Password", severity="high",
                   confidence="high", path=path, line=1, column=1, end_line=1, end_column=20,
                   fingerprint=fingerprint, preview="[redacted]", name=name)


def test_the_ci_stanza_radar_plan_generates_raises_nothing(tmp_path):
    findings = [
        _finding("config/production.yml", "1" * 64, "DATABASE_PASSWORD"),
        _finding("deploy/prod/tls.pem", "2" * 64, "TLS_PRIVATE_KEY", "Private Key"),
        _finding(".env.staging", "3" * 64, "DATABASE_PASSWORD"),
        _finding("src/app.py", "4" * 64, "API_TOKEN"),
        _finding("review/settings.py", "5" * 64, "SSH_KEY", "SSH key"),
    ]
    plan = build_plan(findings, ScanInfo(kind="directory", target="app", root="/src/app"),
                      Mapping().with_project("mygroup/app", ProjectInfo(project_id=42)))
    assert len(plan.targets) >= 3 and any(t.production for t in plan.targets)
    result = audit(tmp_path, project_file(plan.targets))
    assert result.issues == () and result.jobs == len(plan.targets)


def test_radars_own_ci_template_raises_nothing():
    template = Path(__file__).resolve().parent.parent / "templates" / "radar.gitlab-ci.yml"
    result = audit_ci(str(template))
    assert result.issues == () and result.jobs >= 4


def test_id_tokens_from_default_count_unless_the_job_does_not_inherit_them(tmp_path):
    default = "default:\n" + TOKEN
    (tmp_path / "inherits").mkdir()
    (tmp_path / "opts-out").mkdir()
    assert fired(audit(tmp_path / "inherits", default + job("    - make\n", tokens="")),
                 "ci-secrets-without-id-token") == []
    opted_out = default + job("    - make\n", tokens="", extra="  inherit:\n    default: [before_script]\n")
    assert fired(audit(tmp_path / "opts-out", opted_out), "ci-secrets-without-id-token") == [
        (".gitlab-ci.yml", 5, "build")]


def test_env_in_a_job_whose_secrets_are_all_files_prints_paths_only_and_is_not_reported(tmp_path):
    result = audit(tmp_path, job("    - env\n    - printenv SSH_KEY\n", secrets="SSH_KEY:\n      vault: ci/app/ssh/key@secret\n"))
    assert fired(result, "ci-environment-dumped") == []


def test_an_include_that_is_a_fifo_is_refused_without_reading_it(tmp_path):
    os.mkfifo(tmp_path / "pipe.yml")
    with pytest.raises(CIYamlError, match="'pipe.yml' is not a regular file"):
        audit(tmp_path, "include: pipe.yml\nbuild:\n  script: make\n")
