"""Reading `azure_key_vault:` and `gcp_secret_manager:` entries, their variables, and the clouds'
answers: the rules that decide what radar asks for, and what it makes of what comes back.

No network here; `test_vault_cloud.py` runs radar against the fakes.
"""

from __future__ import annotations

import base64

import google_crc32c
import pytest
from hypothesis import given, settings, strategies as st

from radar.report.printable import printable
from radar.vault.azure import azure_settings
from radar.vault.cloud import Answer, error_text
from radar.vault.errors import CloudError, VaultConfigError
from radar.vault.gcp import SECRET_NAME as GCP_NAME, SECRET_VERSION as GCP_VERSION, crc32c, gcp_settings, payload_value
from radar.vault.azure import SECRET_NAME as AZURE_NAME, SECRET_VERSION as AZURE_VERSION
from radar.vault.model import AzureSecretSpec, GCPSecretSpec, JobDefinition, Variable
from radar.vault.spec import secret_specs
from radar.vault.variables import JobVariables

GCP_VARIABLES = {"GCP_PROJECT_NUMBER": "123456789012", "GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID": "gitlab-pool",
                 "GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID": "gitlab-provider"}
AZURE_VARIABLES = {"AZURE_KEY_VAULT_SERVER_URL": "https://myvault.vault.azure.net/", "AZURE_CLIENT_ID":
                   "0d5c7e1a-3b9f-4c2e-8a61-5f0e9d2b7c34", "AZURE_TENANT_ID": "contoso.onmicrosoft.com"}


def spec(entry: dict, variables: tuple[Variable, ...] = ()):
    definition = JobDefinition(origin="job deploy in .gitlab-ci.yml", secrets={"DB": entry},
                               id_tokens=("CLOUD_JWT",), variables=variables)
    (only,) = secret_specs(definition, JobVariables(definition.variables, {}))
    return only


# --- entries -----------------------------------------------------------------------------------

def test_azure_entry_as_gitlab_documents_it():
    got = spec({"token": "$AZURE_JWT", "azure_key_vault": {"name": "test", "version": "00000000000000000000000000000000"}})
    assert got == AzureSecretSpec(name="DB", secret_name="test", version="0" * 32, file=True, token_var="AZURE_JWT")


def test_azure_without_version_reads_the_latest_and_expands_variables():
    got = spec({"azure_key_vault": {"name": "db-$ENV_NAME"}, "file": False},
               variables=(Variable("ENV_NAME", "production"),))
    assert got == AzureSecretSpec(name="DB", secret_name="db-production", version=None, file=False, token_var="CLOUD_JWT")
    assert got.source == "azure key vault secret db-production version latest"


def test_gcp_entry_version_number_alias_and_default_latest():
    assert spec({"gcp_secret_manager": {"name": "my-project-secret", "version": 2}}) == GCPSecretSpec(
        name="DB", secret_name="my-project-secret", version="2", file=True, token_var="CLOUD_JWT")
    assert spec({"gcp_secret_manager": {"name": "s"}}).version == "latest"
    assert spec({"gcp_secret_manager": {"name": "s", "version": "prod-alias"}}).version == "prod-alias"


def test_a_cloud_entry_takes_the_id_token_when_vault_logs_in_without_one():
    """With AppRole, Kubernetes or cert login Vault entries need no ID token, but Azure and Google
    accept nothing else: the job's only ID token is still theirs, and none at all is an error."""
    entries = {"DB": {"azure_key_vault": {"name": "db"}}, "KEY": {"gcp_secret_manager": {"name": "key"}},
               "VAULTED": {"vault": "ops/db/password@secret"}}
    definition = JobDefinition(origin="job deploy in .gitlab-ci.yml", secrets=entries, id_tokens=("CLOUD_JWT",))
    azure, gcp, vault = secret_specs(definition, JobVariables((), {}), id_token_required=False)
    assert (azure.token_var, gcp.token_var, vault.token_var) == ("CLOUD_JWT", "CLOUD_JWT", "")
    bare = JobDefinition(origin="job deploy in .gitlab-ci.yml", secrets={"DB": entries["DB"]})
    with pytest.raises(VaultConfigError, match="no token: and no id_tokens: defined"):
        secret_specs(bare, JobVariables((), {}), id_token_required=False)


@pytest.mark.parametrize("entry, message", [
    pytest.param({"azure_key_vault": "test"}, "azure_key_vault: must be a mapping", id="azure not a mapping"),
    pytest.param({"azure_key_vault": {"version": "ab"}}, "name: must be the secret's name", id="azure name missing"),
    pytest.param({"azure_key_vault": {"name": "../keys/k"}}, "name: must be the secret's name", id="azure name with a path"),
    pytest.param({"azure_key_vault": {"name": "k", "version": 0}}, "quote it", id="azure unquoted version"),
    pytest.param({"azure_key_vault": {"name": "k", "version": "1?api-version=1"}}, "version's id", id="azure version with a query"),
    pytest.param({"azure_key_vault": {"name": "k", "vault": "x"}}, "unknown key.*vault", id="azure unknown key"),
    pytest.param({"gcp_secret_manager": {"name": "a" * 256}}, "secret's id in Secret Manager", id="gcp name too long"),
    pytest.param({"gcp_secret_manager": {"name": "s", "version": True}}, "version number, an alias or latest", id="gcp boolean version"),
    pytest.param({"gcp_secret_manager": {"name": "s", "version": 0}}, "version number, an alias or latest", id="gcp version 0"),
    pytest.param({"gcp_secret_manager": {"name": "s", "version": "1:access"}}, "version number", id="gcp version with a colon"),
    pytest.param({"gcp_secret_manager": {"name": "s"}, "vault": "a/b"}, "exactly one provider", id="two providers"),
])
def test_malformed_cloud_entry_is_a_config_error(entry, message):
    with pytest.raises(VaultConfigError, match=message):
        spec(entry)


VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=300), st.lists(st.text(max_size=5), max_size=2),
                   st.sampled_from(["latest", "$ENV_NAME", "a" * 127, "a" * 128, "0" * 32, "-", "a/b", "a%2Fb"]))


@settings(max_examples=300, deadline=None)
@given(provider=st.sampled_from(["azure_key_vault", "gcp_secret_manager"]),
       raw=st.one_of(VALUES, st.dictionaries(st.sampled_from(["name", "version", "path", "field"]), VALUES, max_size=3)))
def test_any_cloud_entry_is_a_safe_spec_or_a_config_error(provider, raw):
    try:
        got = spec({provider: raw}, variables=(Variable("ENV_NAME", "production"),))
    except VaultConfigError:
        return
    # What reaches a URL that carries an access token is only ever the providers' own alphabets.
    if provider == "azure_key_vault":
        assert AZURE_NAME.fullmatch(got.secret_name) and (got.version is None or AZURE_VERSION.fullmatch(got.version))
    else:
        assert GCP_NAME.fullmatch(got.secret_name) and GCP_VERSION.fullmatch(got.version)


# --- settings ----------------------------------------------------------------------------------

def test_azure_settings_from_gitlab_variables():
    got = azure_settings(JobVariables((), AZURE_VARIABLES))
    assert (got.server_url, got.tenant_id) == ("https://myvault.vault.azure.net", "contoso.onmicrosoft.com")


@pytest.mark.parametrize("changes, message", [
    ({"AZURE_CLIENT_ID": ""}, "AZURE_CLIENT_ID not set"),
    ({"AZURE_KEY_VAULT_SERVER_URL": "myvault.vault.azure.net"}, "is not an https:// URL"),
    ({"AZURE_KEY_VAULT_SERVER_URL": "https://v.example/?x=1"}, "is not an https:// URL"),
    ({"AZURE_CLIENT_ID": "id&scope=x"}, "AZURE_CLIENT_ID must be the application"),
    ({"AZURE_KEY_VAULT_SERVER_URL": "https://v.example:99999"}, "has an invalid port"),
    ({"AZURE_KEY_VAULT_SERVER_URL": "https://me:hunter2@v.example"}, "must not hold a user name or password$"),
])
def test_azure_settings_errors(changes, message):
    with pytest.raises(VaultConfigError, match=message):
        azure_settings(JobVariables((), {**AZURE_VARIABLES, **changes}))


def test_gcp_settings_make_the_workload_identity_audience():
    assert gcp_settings(JobVariables((), GCP_VARIABLES)).audience == (
        "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/gitlab-pool/providers/gitlab-provider")


@pytest.mark.parametrize("changes, message", [
    ({"GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID": ""}, "GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID not set"),
    ({"GCP_PROJECT_NUMBER": "my-project"}, "project's number"),
    ({"GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID": "pool/../x"}, "POOL_ID must be an id"),
])
def test_gcp_settings_errors(changes, message):
    with pytest.raises(VaultConfigError, match=message):
        gcp_settings(JobVariables((), {**GCP_VARIABLES, **changes}))


# --- answers -----------------------------------------------------------------------------------

def test_error_text_reads_both_documented_shapes():
    oauth = Answer(400, {"error": "invalid_client", "error_description": "AADSTS700212: No match.\r\nTrace ID: 1\r\nCorrelation ID: 2"})
    assert error_text(oauth) == "invalid_client: AADSTS700212: No match."
    key_vault = Answer(403, {"error": {"code": "Forbidden", "message": "Caller is not authorized.", "innererror": {"code": "ForbiddenByRbac"}}})
    assert error_text(key_vault) == "Forbidden (ForbiddenByRbac): Caller is not authorized."
    google = Answer(404, {"error": {"code": 404, "message": "Secret [x] not found.", "status": "NOT_FOUND"}})
    assert error_text(google) == "NOT_FOUND: Secret [x] not found."
    assert error_text(Answer(502, {})) == "HTTP 502"


JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=400)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=3)),
                    max_leaves=12)
CREDENTIAL = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWNyZWRlbnRpYWw.c2ln"


@settings(max_examples=300, deadline=None)
@given(status=st.integers(100, 599), payload=st.dictionaries(st.sampled_from(["error", "error_description", "x"]), JSON, max_size=3),
       echo=st.sampled_from(["error_description", "message", None]))
def test_error_text_is_one_short_line_without_the_credential(status, payload, echo):
    if echo == "error_description":
        payload["error_description"] = f"bad token {CREDENTIAL}\n\x1b[2J"
    elif echo == "message":
        payload["error"] = {"code": "Unauthorized", "message": f"token {CREDENTIAL} rejected\u202e"}
    text = error_text(Answer(status, payload), CREDENTIAL)
    assert CREDENTIAL not in text
    # printable()'s escaped form, which it leaves as it is: no line break, tab, escape or bidi control.
    assert len(text) <= 300 and printable(text) == text and "\n" not in text


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2048), urlsafe=st.booleans(), padded=st.booleans())
def test_payload_round_trips_any_bytes_in_either_base64_alphabet(data, urlsafe, padded):
    text = (base64.urlsafe_b64encode(data) if urlsafe else base64.b64encode(data)).decode()
    if not padded:
        text = text.rstrip("=")
    answer = {"payload": {"data": text, "dataCrc32c": str(google_crc32c.value(data))}}
    assert payload_value(answer, "secret s version 1") == data


@settings(max_examples=300, deadline=None)
@given(answer=st.dictionaries(st.sampled_from(["payload", "name"]), st.one_of(
    JSON, st.fixed_dictionaries({}, optional={"data": st.one_of(JSON, st.text(alphabet="QUJD=+/-_", max_size=20)),
                                             "dataCrc32c": st.one_of(JSON, st.integers(0, 2**32))}))))
def test_any_access_answer_is_bytes_or_a_cloud_error(answer):
    try:
        assert isinstance(payload_value(answer, "secret s version 1"), bytes)
    except CloudError as exc:
        assert str(exc).startswith("GCP Secret Manager answered secret s version 1 ")


def test_an_empty_secret_has_no_data_field():
    assert payload_value({"payload": {"dataCrc32c": "0"}}, "secret s version 1") == b""


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=4096))
def test_crc32c_agrees_with_googles(data):
    assert crc32c(data) == google_crc32c.value(data)
