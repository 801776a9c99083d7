"""Rotation units: the halves of one credential found together are rotated together, shown as one
unit in every plan format; values that merely look alike, or sit apart, are never tied."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given, strategies as st

from radar.plan import render
from radar.plan.build import build_plan
from radar.plan.load import ScanInfo
from radar.plan.mapping import Mapping, ProjectInfo
from radar.plan.model import Entry, Place
from radar.plan.rotation import units
from radar.scan.findings import Finding, Origin

DIRECTORY = ScanInfo(kind="directory", target="app", root="/src/app")
GITLAB = ScanInfo(kind="gitlab", target="https://gitlab.example.com", root="https://gitlab.example.com")
KNOWN = Mapping().with_project("mygroup/app", ProjectInfo(project_id=42))


def finding(path: str, line: int, fingerprint: str, name: str, secret_type: str = "Password",
            **fields) -> Finding:
    return Finding(rule_id="some-rule", secret_type=secret_type, description=secret_type, severity="high",
                   confidence="high", path=path, line=line, column=1, end_line=line, end_column=20,
                   fingerprint=fingerprint, preview="[redacted]", name=name, **fields)


def key_id(path: str = "deploy/aws.env", line: int = 1, fingerprint: str = "1" * 64, **fields) -> Finding:
    return finding(path, line, fingerprint, "AWS_ACCESS_KEY_ID", "AWS access key", **fields)


def secret_key(path: str = "deploy/aws.env", line: int = 2, fingerprint: str = "2" * 64, **fields) -> Finding:
    return finding(path, line, fingerprint, "AWS_SECRET_ACCESS_KEY", "AWS secret key", **fields)


def validated(f: Finding) -> Finding:
    return replace(f, tags=("validated",))


def variable(key: str, fingerprint: str, scope: str = "production", secret_type: str = "Password") -> Finding:
    origin = Origin(variable_key=key, environment_scope=scope, project="mygroup/app", project_id=42)
    return finding(f"variables/{key}[{scope}]", 1, fingerprint, key, secret_type, origin=origin)


def by_name(plan, name: str):
    return next(e for e in plan.entries if e.field == name)


def test_an_aws_key_id_next_to_its_secret_key_is_one_unit_and_rotated_with_it():
    plan = build_plan([validated(key_id()), secret_key()], DIRECTORY, KNOWN)
    kid, secret = by_name(plan, "aws_access_key_id"), by_name(plan, "aws_secret_access_key")
    assert kid.rotate_with == (secret.short_form,) and secret.rotate_with == (kid.short_form,)
    assert kid.rotate_reasons and secret.rotate_reasons
    assert secret.rotate_reasons[0].startswith(f"its other half ({kid.short_form}) must be rotated first, because its")
    assert secret.steps[0].kind == "rotate"


def test_an_unmasked_key_id_variable_makes_its_masked_secret_key_variable_rotate_too():
    kid = variable("AWS_ACCESS_KEY_ID", "1" * 64, secret_type="AWS access key")
    unmasked = replace(kid, rule_id="gitlab-variable-unmasked", secret_type="gitlab-ci-variable")
    secret = variable("AWS_SECRET_ACCESS_KEY", "2" * 64, secret_type="AWS secret key")
    plan = build_plan([kid, unmasked, secret], GITLAB, Mapping())
    masked = by_name(plan, "aws_secret_access_key")
    assert by_name(plan, "aws_access_key_id").rotate_reasons[0].startswith("it was stored in an unmasked")
    assert masked.rotate_with and "unmasked CI/CD variable" in masked.rotate_reasons[0]


def test_a_unit_where_neither_half_must_be_rotated_first_stays_not_rotated_but_is_still_one_unit():
    plan = build_plan([key_id(), secret_key()], DIRECTORY, KNOWN)
    assert not any(e.rotate_reasons for e in plan.entries)
    assert all(len(e.rotate_with) == 1 for e in plan.entries)


def test_halves_far_apart_in_a_file_are_not_tied():
    plan = build_plan([validated(key_id(line=1)), secret_key(line=40)], DIRECTORY, KNOWN)
    assert not any(e.rotate_with for e in plan.entries)
    assert not by_name(plan, "aws_secret_access_key").rotate_reasons


def test_halves_in_different_files_are_not_tied():
    plan = build_plan([validated(key_id()), secret_key(path="deploy/other.env")], DIRECTORY, KNOWN)
    assert not any(e.rotate_with for e in plan.entries)


def test_each_key_id_pairs_with_its_nearest_secret_in_a_credentials_file_with_two_profiles():
    plan = build_plan([validated(key_id(line=2, fingerprint="1" * 64)), secret_key(line=3, fingerprint="2" * 64),
                       key_id(line=6, fingerprint="3" * 64), secret_key(line=7, fingerprint="4" * 64)],
                      DIRECTORY, KNOWN)
    first = next(e for e in plan.entries if e.fingerprint == "1" * 64)
    second_secret = next(e for e in plan.entries if e.fingerprint == "4" * 64)
    first_secret = next(e for e in plan.entries if e.fingerprint == "2" * 64)
    assert first.rotate_with == (first_secret.short_form,)
    assert first_secret.rotate_reasons and not second_secret.rotate_reasons


def test_a_key_id_between_two_equally_near_secrets_is_tied_to_neither():
    plan = build_plan([validated(key_id(line=5)), secret_key(line=4, fingerprint="2" * 64),
                       secret_key(line=6, fingerprint="3" * 64)], DIRECTORY, KNOWN)
    assert not any(e.rotate_with for e in plan.entries)


def test_a_client_id_and_secret_in_variables_of_one_scope_with_matching_names_are_one_unit():
    plan = build_plan([validated(variable("PROD_CLIENT_ID", "1" * 64)), variable("PROD_CLIENT_SECRET", "2" * 64),
                       variable("OTHER_CLIENT_SECRET", "3" * 64)], GITLAB, Mapping())
    client_id, secret = by_name(plan, "prod_client_id"), by_name(plan, "prod_client_secret")
    assert client_id.rotate_with == (secret.short_form,) and secret.rotate_reasons
    assert not by_name(plan, "other_client_secret").rotate_with


def test_variables_in_different_scopes_are_not_tied():
    plan = build_plan([validated(variable("DB_USER", "1" * 64, scope="production")),
                       variable("DB_PASSWORD", "2" * 64, scope="staging")], GITLAB, Mapping())
    assert not any(e.rotate_with for e in plan.entries)


def test_a_user_and_password_of_one_connection_are_one_unit():
    plan = build_plan([validated(finding("config/db.yml", 3, "1" * 64, "db_username")),
                       finding("config/db.yml", 4, "2" * 64, "db_password")], DIRECTORY, KNOWN)
    assert by_name(plan, "db_password").rotate_with == (by_name(plan, "db_username").short_form,)


def test_two_passwords_side_by_side_are_not_a_unit():
    plan = build_plan([validated(finding("config/db.yml", 3, "1" * 64, "db_password")),
                       finding("config/db.yml", 4, "2" * 64, "cache_password")], DIRECTORY, KNOWN)
    assert not any(e.rotate_with for e in plan.entries)


def test_every_format_shows_the_unit():
    plan = build_plan([validated(key_id()), secret_key()], DIRECTORY, KNOWN)
    kid, secret = by_name(plan, "aws_access_key_id"), by_name(plan, "aws_secret_access_key")
    document = json.loads(render(plan, "json"))
    assert {e["field"]: e["rotate_with"] for e in document["entries"]} == {
        "aws_access_key_id": [secret.short_form], "aws_secret_access_key": [kid.short_form]}
    assert all(e["rotate_first"] for e in document["entries"])
    markdown = render(plan, "markdown")
    assert f"| yes, with `{secret.short_form}` |" in markdown
    assert f"together with `{kid.short_form}` (one credential)" in markdown
    html = render(plan, "html")
    assert f"with <code>{secret.short_form}</code>" in html


# --- properties ---------------------------------------------------------------------------------

names = st.sampled_from(["aws_access_key_id", "aws_secret_access_key", "client_id", "app_client_id",
                         "client_secret", "app_client_secret", "db_user", "db_password", "token", "password"])
types = st.sampled_from(["AWS access key", "AWS secret key", "Password", "Generic"])


@st.composite
def entries(draw) -> list[Entry]:
    out = []
    for n in range(draw(st.integers(0, 12))):
        places = tuple(
            Place(path=draw(st.sampled_from(["a.env", "b.env", "variables"])), line=draw(st.integers(1, 20)),
                  project=draw(st.sampled_from(["g/a", "g/b"])), environment="production", environment_source="path",
                  rule_id="r", commit=draw(st.sampled_from([None, "c" * 40])),
                  variable_key=draw(st.sampled_from([None, "K"])), environment_scope=draw(st.sampled_from([None, "*"])))
            for _ in range(draw(st.integers(1, 3))))
        out.append(Entry(fingerprint=f"{n:064x}", secret_type=draw(types), severity="high", mount="secret",
                         path=f"ci/{n}", field=draw(names), project="g/a", environment="production",
                         environment_inferred=False, file=False, places=places,
                         rotate_reasons=draw(st.sampled_from([(), ("validated",)]))))
    return out


@given(entries())
def test_units_are_pairs_both_ways_of_halves_found_together(planned):
    result = units(planned)
    by_form = {e.short_form: e for e in result}
    assert [e.fingerprint for e in result] == [e.fingerprint for e in planned]
    for before, after in zip(planned, result):
        if before.rotate_reasons:
            assert after.rotate_reasons == before.rotate_reasons  # own reasons are never replaced
        assert len(after.rotate_with) <= 1
        if not after.rotate_with:
            assert after.rotate_reasons == before.rotate_reasons
            continue
        mate = by_form[after.rotate_with[0]]
        assert mate.rotate_with == (after.short_form,)
        assert bool(after.rotate_reasons) == bool(mate.rotate_reasons)  # rotated together, or neither
        assert together(after) & together(mate)


def together(e: Entry) -> set[tuple]:
    """Where an entry's places can meet a partner's: a file of a project and commit, or a variable group."""
    return {(p.project, p.path, p.commit) if p.variable_key is None else ("variables", p.project, p.environment_scope)
            for p in e.places}
