"""Reading a job's `secrets:` the way GitLab does: YAML resolution, forms, tokens, variables.

No Vault here: these are the rules that decide what radar asks Vault for.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from radar.vault.ciyaml import job_definition, load_ci_file, secrets_file_definition
from radar.vault.errors import CIYamlError, VaultConfigError
from radar.vault.model import UnsupportedSecretSpec, VaultSecretSpec
from radar.vault.settings import vault_settings
from radar.vault.spec import secret_specs
from radar.vault.variables import JobVariables


def write(tmp_path: Path, text: str, name: str = ".gitlab-ci.yml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def job(tmp_path: Path, text: str, name: str = "deploy"):
    path = write(tmp_path, text)
    return job_definition(load_ci_file(path), name, path)


def specs(tmp_path: Path, text: str, name: str = "deploy", environ: dict[str, str] | None = None):
    definition = job(tmp_path, text, name)
    return secret_specs(definition, JobVariables(definition.variables, environ or {}))


def only(tmp_path: Path, secret: str, extra: str = "") -> VaultSecretSpec:
    """The single spec of a job with one ID token and one secret entry."""
    text = (
        "deploy:\n  id_tokens:\n    VAULT_ID_TOKEN:\n      aud: https://vault.example.com\n"
        f"{extra}  secrets:\n    DATABASE_PASSWORD:\n" + textwrap.indent(textwrap.dedent(secret), "      ")
    )
    (spec,) = specs(tmp_path, text)
    return spec


# --- the vault: forms --------------------------------------------------------------------------

def test_short_form_splits_path_field_and_mount(tmp_path):
    spec = only(tmp_path, "vault: production/db/password@ops\n")
    assert (spec.engine, spec.mount, spec.path, spec.field) == ("kv-v2", "ops", "production/db", "password")
    assert spec.read_path == "ops/data/production/db"


def test_short_form_without_mount_uses_the_kv_v2_mount_as_gitlab_documents(tmp_path):
    spec = only(tmp_path, "vault: production/db/password\n")
    assert spec.read_path == "kv-v2/data/production/db"


def test_short_form_mount_may_be_nested(tmp_path):
    spec = only(tmp_path, "vault: production/db/password@teams/ops\n")
    assert spec.read_path == "teams/ops/data/production/db"


@pytest.mark.parametrize("value", ["password", "production/db/password@", "/password@ops"])
def test_short_form_without_a_path_is_a_config_error(tmp_path, value):
    with pytest.raises(VaultConfigError, match="DATABASE_PASSWORD: vault:"):
        only(tmp_path, f"vault: {value!r}\n")


def test_long_form_kv_v2(tmp_path):
    spec = only(tmp_path, """\
        vault:
          engine: {name: kv-v2, path: ops}
          path: production/db
          field: password
    """)
    assert spec.read_path == "ops/data/production/db" and spec.field == "password"


@pytest.mark.parametrize("engine", ["kv-v1", "generic"])
def test_long_form_kv_v1_and_generic_read_the_mount_path_directly(tmp_path, engine):
    spec = only(tmp_path, f"""\
        vault:
          engine: {{name: {engine}, path: artifactory}}
          path: production/jfrog
          field: access_token
    """)
    assert spec.read_path == "artifactory/production/jfrog"


def test_file_defaults_to_true_and_can_be_turned_off(tmp_path):
    assert only(tmp_path, "vault: a/b@ops\n").file is True
    assert only(tmp_path, "vault: a/b@ops\nfile: false\n").file is False


@pytest.mark.parametrize("entry, message", [
    pytest.param("vault:\n  path: production/db\n", "missing engine, field",
                 id="long form needs engine, path and field"),
    pytest.param("vault:\n  engine: {name: kv-v3, path: ops}\n  path: a\n  field: b\n", "unknown engine 'kv-v3'",
                 id="unknown engine is named"),
    pytest.param("vault: a/b@ops\nfile: 'no'\n", "file: must be true or false", id="file must be a boolean"),
    pytest.param("vault: a/b@ops\nfiel: false\n", "unknown key.*fiel", id="unknown keys in an entry are named"),
])
def test_malformed_entry_is_a_config_error(tmp_path, entry, message):
    with pytest.raises(VaultConfigError, match=message):
        only(tmp_path, entry)


def test_path_field_and_mount_are_expanded_like_the_runner_does(tmp_path):
    extra = "  variables:\n    ENV_NAME: production\n    MOUNT: ops\n    FIELD: password\n"
    spec = only(tmp_path, "vault: ${ENV_NAME}/db/$FIELD@$MOUNT\n", extra=extra)
    assert spec.read_path == "ops/data/production/db" and spec.field == "password"


# --- other providers ---------------------------------------------------------------------------

@pytest.mark.parametrize("provider, entry, label", [
    ("aws_secrets_manager", "aws_secrets_manager: {name: test, version: '2'}", "AWS Secrets Manager secret test version 2"),
    ("akeyless", "akeyless: {name: /prod/db}", "Akeyless secret /prod/db"),
])
def test_other_providers_are_parsed_not_skipped(tmp_path, provider, entry, label):
    spec = only(tmp_path, entry + "\ntoken: $VAULT_ID_TOKEN\n")
    assert isinstance(spec, UnsupportedSecretSpec)
    assert spec.provider == provider and spec.description.startswith(label)


# --- which ID token ----------------------------------------------------------------------------

def test_token_names_the_id_token_variable(tmp_path):
    spec = only(tmp_path, "vault: a/b@ops\ntoken: $VAULT_ID_TOKEN\n")
    assert spec.token_var == "VAULT_ID_TOKEN"
    assert only(tmp_path, "vault: a/b@ops\ntoken: ${OTHER}\n").token_var == "OTHER"


def test_without_token_the_only_id_token_is_used(tmp_path):
    assert only(tmp_path, "vault: a/b@ops\n").token_var == "VAULT_ID_TOKEN"


def test_without_token_and_several_id_tokens_the_choices_are_named(tmp_path):
    text = """\
        deploy:
          id_tokens:
            AWS_TOKEN: {aud: https://aws.example.com}
            VAULT_TOKEN: {aud: https://vault.example.com}
          secrets:
            DB: {vault: a/b@ops}
    """
    with pytest.raises(VaultConfigError, match=r"several ID tokens are defined \(AWS_TOKEN, VAULT_TOKEN\)"):
        specs(tmp_path, text)


def test_without_token_and_without_id_tokens_the_fix_is_named(tmp_path):
    with pytest.raises(VaultConfigError, match="no token: and no id_tokens:"):
        specs(tmp_path, "deploy:\n  secrets:\n    DB: {vault: a/b@ops}\n")


# --- extends:, default:, !reference, inherit: ---------------------------------------------------

def test_extends_merges_hashes_and_the_job_wins(tmp_path):
    definition = job(tmp_path, """\
        .vault:
          id_tokens:
            VAULT_ID_TOKEN: {aud: https://vault.example.com}
          secrets:
            DB_PASSWORD: {vault: production/db/password@ops}
            API_TOKEN: {vault: production/api/token@ops, file: false}
        deploy:
          extends: .vault
          secrets:
            API_TOKEN: {vault: production/api/token@ops2}
    """)
    assert set(definition.secrets) == {"DB_PASSWORD", "API_TOKEN"}
    # hashes merge key by key: the job's API_TOKEN entry merges into the template's
    assert definition.secrets["API_TOKEN"] == {"vault": "production/api/token@ops2", "file": False}
    assert definition.id_tokens == ("VAULT_ID_TOKEN",)


def test_extends_replaces_arrays_and_follows_several_levels_and_lists(tmp_path):
    definition = job(tmp_path, """\
        .base:
          variables: {A: base, B: base}
          tags: [one, two]
        .middle:
          extends: .base
          variables: {B: middle}
        .other:
          variables: {C: other}
          tags: [three]
        deploy:
          extends: [.middle, .other]
          secrets: {}
    """)
    values = {v.name: v.value for v in definition.variables}
    assert values == {"A": "base", "B": "middle", "C": "other"}


def test_circular_extends_is_an_error(tmp_path):
    with pytest.raises(CIYamlError, match="circular extends: deploy -> a -> b -> a"):
        job(tmp_path, "a: {extends: b}\nb: {extends: a}\ndeploy: {extends: a}\n")


def test_extends_of_an_unknown_job_is_named(tmp_path):
    with pytest.raises(CIYamlError, match="extends unknown job '.nope'"):
        job(tmp_path, "deploy: {extends: .nope}\n")


def test_default_id_tokens_are_inherited_but_default_secrets_are_not(tmp_path):
    definition = job(tmp_path, """\
        default:
          id_tokens:
            VAULT_ID_TOKEN: {aud: https://vault.example.com}
          secrets:
            IGNORED: {vault: a/b@ops}
        deploy:
          secrets:
            DB: {vault: production/db/password@ops}
    """)
    assert definition.id_tokens == ("VAULT_ID_TOKEN",)
    assert set(definition.secrets) == {"DB"}


def test_job_id_tokens_replace_the_default_ones(tmp_path):
    definition = job(tmp_path, """\
        default:
          id_tokens: {DEFAULT_TOKEN: {aud: a}}
        deploy:
          id_tokens: {JOB_TOKEN: {aud: b}}
          secrets: {}
    """)
    assert definition.id_tokens == ("JOB_TOKEN",)


@pytest.mark.parametrize("inherit, expected", [("false", ()), ("[image]", ()), ("[id_tokens]", ("T",)), ("true", ("T",))])
def test_inherit_default_controls_id_tokens(tmp_path, inherit, expected):
    definition = job(tmp_path, f"default:\n  id_tokens: {{T: {{aud: a}}}}\ndeploy:\n  inherit: {{default: {inherit}}}\n  secrets: {{}}\n")
    assert definition.id_tokens == expected


def test_reference_tags_are_resolved_before_extends(tmp_path):
    definition = job(tmp_path, """\
        .vault-secrets:
          secrets:
            DB: {vault: production/db/password@ops}
          id_tokens:
            VAULT_ID_TOKEN: {aud: https://vault.example.com}
        .tokens:
          id_tokens: !reference [.vault-secrets, id_tokens]
        deploy:
          extends: .tokens
          secrets:
            DB: !reference [.vault-secrets, secrets, DB]
            API: {vault: production/api/token@ops}
    """)
    assert definition.secrets["DB"] == {"vault": "production/db/password@ops"}
    assert set(definition.secrets) == {"DB", "API"}
    assert definition.id_tokens == ("VAULT_ID_TOKEN",)


def test_nested_references_are_followed(tmp_path):
    definition = job(tmp_path, """\
        .a: {secrets: {DB: {vault: x/y@ops}}}
        .b: {secrets: !reference [.a, secrets]}
        deploy: {secrets: !reference [.b, secrets], id_tokens: {T: {aud: a}}}
    """)
    assert definition.secrets == {"DB": {"vault": "x/y@ops"}}


def test_a_reference_that_does_not_resolve_names_the_line(tmp_path):
    path = write(tmp_path, "deploy:\n  secrets: !reference [.vault, secrets]\n")
    with pytest.raises(CIYamlError, match=r"line 2: !reference \[.vault, secrets\] could not be found"):
        load_ci_file(path)


def test_yaml_anchors_and_merge_keys_work(tmp_path):
    definition = job(tmp_path, """\
        .tokens: &tokens
          VAULT_ID_TOKEN: {aud: a}
        deploy:
          id_tokens:
            <<: *tokens
          secrets: {}
    """)
    assert definition.id_tokens == ("VAULT_ID_TOKEN",)


def test_a_header_document_with_spec_inputs_is_skipped(tmp_path):
    definition = job(tmp_path, "spec:\n  inputs: {env: {default: x}}\n---\ndeploy:\n  secrets: {}\n")
    assert definition.secrets == {}


# --- variables ---------------------------------------------------------------------------------

def test_job_variables_override_global_ones_and_the_environment_overrides_both(tmp_path):
    definition = job(tmp_path, """\
        variables:
          VAULT_SERVER_URL: https://global.example.com
          VAULT_AUTH_PATH: global
          VAULT_NAMESPACE: {value: admin, description: HCP}
        deploy:
          variables:
            VAULT_AUTH_PATH: jwt-gitlab
          secrets: {}
    """)
    variables = JobVariables(definition.variables, {"VAULT_NAMESPACE": "from-env"})
    assert variables.get("VAULT_SERVER_URL") == "https://global.example.com"
    assert variables.get("VAULT_AUTH_PATH") == "jwt-gitlab"
    assert variables.get("VAULT_NAMESPACE") == "from-env"


def test_inherit_variables_false_or_a_list_limits_global_variables(tmp_path):
    text = "variables: {A: a, B: b}\ndeploy:\n  inherit: {variables: %s}\n  secrets: {}\n"
    assert [v.name for v in job(tmp_path, text % "false").variables] == []
    assert [v.name for v in job(tmp_path, text % "[B]").variables] == ["B"]


def test_expansion_follows_references_recursively_and_keeps_dollar_dollar(tmp_path):
    definition = job(tmp_path, """\
        variables:
          VAULT_HOST: vault.${DOMAIN}
          VAULT_SERVER_URL: https://$VAULT_HOST:8200
          PRICE: $$5
          RAW: {value: $VAULT_HOST, expand: false}
        deploy: {secrets: {}}
    """)
    variables = JobVariables(definition.variables, {"DOMAIN": "example.com"})
    assert variables.get("VAULT_SERVER_URL") == "https://vault.example.com:8200"
    assert variables.get("PRICE") == "$5"
    assert variables.get("RAW") == "$VAULT_HOST"
    assert variables.expand("$UNDEFINED-x") == "-x"


def test_circular_variable_references_are_an_error(tmp_path):
    definition = job(tmp_path, "variables: {A: $B, B: $A}\ndeploy: {secrets: {}}\n")
    with pytest.raises(VaultConfigError, match="circular variable reference: A -> B -> A"):
        JobVariables(definition.variables, {}).get("A")


def test_numbers_and_booleans_become_strings(tmp_path):
    definition = job(tmp_path, "variables: {PORT: 8200, DEBUG: true}\ndeploy: {secrets: {}}\n")
    assert {v.name: v.value for v in definition.variables} == {"PORT": "8200", "DEBUG": "true"}


# --- Vault settings ----------------------------------------------------------------------------

def test_settings_defaults_and_root_namespace_spellings():
    for namespace in ("", "/", "root"):
        settings = vault_settings(JobVariables((), {"VAULT_SERVER_URL": "https://v:8200/", "VAULT_NAMESPACE": namespace}))
        assert settings.namespace is None
    assert settings.server_url == "https://v:8200" and settings.auth_path == "jwt" and settings.auth_role is None


def test_missing_vault_server_url_says_what_to_set():
    with pytest.raises(VaultConfigError, match="VAULT_SERVER_URL is not set"):
        vault_settings(JobVariables((), {}))


def test_missing_vault_cacert_file_is_named(tmp_path):
    with pytest.raises(VaultConfigError, match="VAULT_CACERT=.*no such file"):
        vault_settings(JobVariables((), {"VAULT_SERVER_URL": "https://v", "VAULT_CACERT": str(tmp_path / "ca.pem")}))


# --- files and errors --------------------------------------------------------------------------

def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "deploy:\n  secrets:\n    DB: {vault: a/b@ops\n  script: [x]\n")
    with pytest.raises(CIYamlError, match=r"\.gitlab-ci\.yml:4:\d+: malformed YAML"):
        load_ci_file(path)


def test_malformed_yaml_message_does_not_quote_the_file(tmp_path):
    path = write(tmp_path, "deploy:\n  variables:\n    PASSWORD: hunter2-hunter2\n  x: : :\n")
    with pytest.raises(CIYamlError) as error:
        load_ci_file(path)
    assert "hunter2" not in str(error.value)


def test_unknown_tags_are_errors_with_a_line(tmp_path):
    path = write(tmp_path, "deploy:\n  secrets: !vault x\n")
    with pytest.raises(CIYamlError, match=":2:"):
        load_ci_file(path)


def test_missing_job_hints_at_include(tmp_path):
    with pytest.raises(CIYamlError, match="no job named 'deploy'.*include"):
        job(tmp_path, "include: {local: ci/deploy.yml}\nbuild: {script: [make]}\n")


@pytest.mark.parametrize("name, message", [(".hidden", "hidden job"), ("variables", "global keyword")])
def test_hidden_jobs_and_keywords_are_not_jobs(tmp_path, name, message):
    with pytest.raises(CIYamlError, match=message):
        job(tmp_path, "variables: {A: b}\n.hidden: {secrets: {}}\n", name)


def test_missing_ci_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(CIYamlError, match="no such file; pass --ci-file"):
        load_ci_file(str(tmp_path / "nope.yml"))


def test_secrets_file_takes_secrets_id_tokens_and_variables_only(tmp_path):
    path = write(tmp_path, "secrets: {DB: {vault: a/b@ops}}\nid_tokens: {T: {aud: a}}\nvariables: {X: y}\n", "s.yml")
    definition = secrets_file_definition(load_ci_file(path), path)
    assert definition.id_tokens == ("T",) and set(definition.secrets) == {"DB"}
    bad = write(tmp_path, "secrets: {}\nscript: [x]\n", "bad.yml")
    with pytest.raises(CIYamlError, match="unexpected key.*script"):
        secrets_file_definition(load_ci_file(bad), bad)
