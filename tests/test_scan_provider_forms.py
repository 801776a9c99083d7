"""Provider formats whose values are more than one run of word characters (`hex:hex`, a scheme and a
space, upper-case UUIDs, a dotted prefix) are read in every assignment form the named rules know,
alike by every engine, and named by their provider's rule rather than a generic one."""

from __future__ import annotations

import pytest

from radar.scan.examples import expand
from test_scan_syntax import ENGINES, FORMS

# (rule id, the variable's name as code writes it, as an environment variable, value template)
CASES = [
    ("sidekiq-secret", "BUNDLE_GEMS__CONTRIBSYS__COM", "BUNDLE_ENTERPRISE__CONTRIBSYS__COM", "{hex:8}:{hex:8}"),
    ("snyk-api-token", "snykToken", "SNYK_TOKEN", "{UUID}"),
    ("sonarqube-token-named", "sonarLogin", "SONAR_TOKEN", "{alnum:40}"),
    ("polymarket-api-key", "polyApiKey", "POLY_API_KEY", "{uuid}"),
    ("fly-io-access-token", "flyToken", "FLY_API_TOKEN", "FlyV1 fm2_{b64:120},fm2_{b64:60}"),
    ("gcp-gemini-auth-key", "geminiKey", "GEMINI_API_KEY", "AQ.Ab8RN6{b64url:44}"),
]


@pytest.mark.parametrize("rule_id, name, upper, template", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("path, form", FORMS, ids=[f"{p}:{f}" for p, f in FORMS])
def test_a_provider_value_is_read_in_every_form_by_its_own_rule(path, form, rule_id, name, upper, template):
    value = expand(template, f"{rule_id}-{form}")
    text = "x = 1\n" + form.format(n=name, N=upper, v=value) + "\n"
    results = [engine.scan(text, path).findings for engine in ENGINES]
    assert [f.rule_id for f in results[0]] == [rule_id], (path, form)
    assert results[0] == results[1] == results[2]
