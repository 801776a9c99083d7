"""The plan as one self-contained HTML page, for people: the Markdown's content, plus a chart.

Built on `radar.report.page` (the shell every radar page shares: inline CSS, a
Content-Security-Policy that lets nothing load, no script): a summary (status, settings,
counts), a contents table across roles (role, project, environment, policy, secrets read, each
role and policy linking to its section), the Vault setup and the GitLab setup, a
severity-by-type chart of what the plan covers (values to move by secret type, configuration
fixes by rule), warnings, the values to move, the order of work, one section per
target (policy, role, commands, CI stanza as preformatted text), each value's steps, fixes and
skipped findings. Every piece of scanned text goes through `esc`.
"""

from __future__ import annotations

from collections import defaultdict

from radar.plan.artifacts import VALUES, grant_commands
from radar.plan.model import Entry, Plan, Target
from radar.plan.setup import gitlab_steps, vault_steps
from radar.plan.vault import role_json
from radar.report.page import esc, page, severity_badge, severity_chart, table

_PRE = 'style="background:#f3f4f6;border:1px solid #e5e7eb;border-radius:4px;padding:.5rem .75rem;' \
       'overflow-x:auto;font-size:.85rem;line-height:1.35"'
# Long one-line commands wrap (a screenshot or a print must show all of them), files do not.
_PRE_WRAP = _PRE[:-1] + ';white-space:pre-wrap;overflow-wrap:anywhere"'


def render(plan: Plan, files: bool = False) -> str:
    parts = [_summary(plan), _contents(plan), _vault_setup(plan, files), _gitlab_setup(plan), _chart(plan)]
    if plan.warnings:
        parts.append('<h2 id="warnings">Warnings</h2>\n<ul class="warnings">'
                     + "".join(f"<li>{esc(w)}</li>" for w in plan.warnings) + "</ul>")
    parts.append('<h2 id="values">Values to move</h2>')
    if plan.entries:
        # The short form on two lines (secret path, then field@mount) keeps the column narrow
        # enough for the others to stay readable.
        rows = [(f"<code>{esc(e.path)}/</code><br><code>{esc(e.field)}@{esc(e.mount)}</code>", esc(e.secret_type),
                 severity_badge(e.severity),
                 esc(e.environment + (" (inferred)" if e.environment_inferred else "")),
                 "<br>".join(esc(p.label) for p in e.places), _nowrap("file" if e.file else "variable"),
                 ("<strong>yes</strong>" if e.rotate_reasons else "no")
                 + "".join(f"<br>with <code>{esc(other)}</code>" for other in e.rotate_with))
                for e in plan.entries]
        parts.append(table(("Vault (path/field@mount)", "Type", "Severity", "Environment", "Found in", "In CI",
                            "Rotate first"), rows, raw_columns=frozenset(range(7)), table_class="entries"))
        parts.append(_order_of_work(plan, files))
    else:
        parts.append('<p class="empty">Nothing to move.</p>')
    parts += [_target(t, plan, files) for t in plan.targets]
    if plan.entries:
        parts.append('<h2 id="steps">Every value, step by step</h2>')
        parts += [_entry(e) for e in plan.entries]
    if plan.fixes:
        parts.append('<h2 id="fixes">Configuration fixes</h2>')
        parts.append(table(("Rule", "Where", "Severity", "What to do"),
                           [(esc(f.rule_id), esc(f.place), severity_badge(f.severity), esc(f.action)) for f in plan.fixes],
                           raw_columns=frozenset(range(4)), table_class="fixes"))
    if plan.skipped:
        parts.append('<h2 id="skipped">Skipped</h2>')
        parts.append(table(("Rule", "Where", "Why"), [(s.rule_id, s.place, s.reason) for s in plan.skipped],
                           table_class="skipped"))
    parts.append("<footer>Written by radar plan. It holds no secret value: values are identified by "
                 "fingerprints and the places they were found.</footer>")
    return page("Vault migration plan", "\n".join(parts))


def _nowrap(text: str) -> str:
    return f'<span style="white-space:nowrap">{esc(text)}</span>'


def _summary(plan: Plan) -> str:
    s = plan.settings
    status = ("complete" if plan.complete else
              "INCOMPLETE: some roles bind a placeholder project id, which no token carries (see warnings)")
    rotate = sum(1 for e in plan.entries if e.rotate_reasons)
    items = [("Source", plan.source), ("Status", status),
             ("Plan", f"{len(plan.entries)} value(s) to move, {rotate} to rotate first, {len(plan.targets)} role(s), "
                      f"{len(plan.fixes)} configuration fix(es), {len(plan.skipped)} skipped"),
             ("Vault", f"KV v2 mount {s.mount}, path {s.path_template}, JWT auth at {s.auth_path}"),
             ("ID tokens", f"aud {s.audience}; Vault tokens live at most {s.token_ttl} s")]
    css = ' class="meta incomplete"' if not plan.complete else ' class="meta"'
    return f"<dl{css}>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items) + "</dl>"


def _contents(plan: Plan) -> str:
    if not plan.targets:
        return ""
    rows = [(f'<a href="#{esc(t.role_name)}"><code>{esc(t.role_name)}</code></a>', esc(t.project), esc(t.environment),
             f'<a href="#{esc(t.role_name)}-policy"><code>{esc(t.policy_name)}</code></a>',
             "<br>".join(f"<code>{esc(u.entry.short_form)}</code>" for u in t.uses))
            for t in plan.targets]
    return '<h2 id="contents">Roles</h2>\n' + table(("Role", "Project", "Environment", "Policy", "Secrets read"), rows,
                                                     raw_columns=frozenset(range(5)), table_class="contents")


def _vault_setup(plan: Plan, files: bool) -> str:
    intro = ("Once, before the roles, with a token that may manage auth methods, mounts, audit devices and policies. "
             "Each command is a no-op when already done."
             + (" The commands name files in the output directory: run them there; <code>bash apply.sh</code> "
                "runs them all, then the policies, roles and values." if files else ""))
    steps = "".join(
        f"<li><strong>{esc(s.title)}</strong>: {esc(s.why)}"
        + (f" If it fails: {esc(s.if_fails)}." if s.if_fails else "")
        + f'<pre class="setup" {_PRE_WRAP}><code>{esc(s.shell(files))}</code></pre></li>'
        for s in vault_steps(plan))
    return f'<h2 id="vault-setup">Vault setup</h2>\n<p>{intro}</p><ol class="vault-setup">{steps}</ol>'


def _gitlab_setup(plan: Plan) -> str:
    protect = gitlab_steps(plan)
    if not protect:
        return ('<h2 id="gitlab-setup">GitLab setup</h2>\n<p class="empty">Nothing to protect: no role binds a '
                "production environment or protected refs.</p>")
    items = "".join(
        f"<li><strong>{esc(p.owner)}: {esc(p.kind)} <code>{esc(p.name)}</code></strong> "
        f"(roles {', '.join(f'<code>{esc(r)}</code>' for r in p.roles)}): {esc(p.why)}.<br>In GitLab: {esc(p.ui)}."
        + (f'<pre class="gitlab-api" {_PRE_WRAP}><code>{esc(p.api)}</code></pre>' if p.api else "") + "</li>"
        for p in protect)
    return ('<h2 id="gitlab-setup">GitLab setup</h2>\n<p>The roles trust what GitLab puts in the ID token; '
            "protect what they rely on (the API calls take a token with the api scope in "
            "<code>$GITLAB_TOKEN</code>):</p>"
            f'<ul class="gitlab-setup">{items}</ul>')


def _chart(plan: Plan) -> str:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in plan.entries:
        counts[e.secret_type][e.severity] += 1
    for f in plan.fixes:
        counts[f.rule_id][f.severity] += 1
    return '<h2 id="chart">What the plan covers</h2>\n' + severity_chart(
        {k: dict(v) for k, v in counts.items()}, title="Values to move and fixes, by type and severity")


def _order_of_work(plan: Plan, files: bool) -> str:
    rotate = [e for e in plan.entries if e.rotate_reasons]
    if rotate:
        first = ("<strong>Rotate first</strong>, the old values must be considered known:<ul>"
                 + "".join(f"<li><code>{esc(e.short_form)}</code>: {esc('; '.join(e.rotate_reasons))}"
                           + "".join(f"; together with <code>{esc(other)}</code> (one credential)" for other in e.rotate_with)
                           + "</li>" for e in rotate)
                 + "</ul>")
    else:
        first = "Rotation: no value is known to be in history, logs or a public place; rotating anyway is cheap."
    writes = "\n".join(w.command for w in plan.writes)
    return ('<h2 id="order">Order of work</h2>\n<ol class="order">'
            f"<li>{first}</li>"
            "<li><strong>Store</strong> each value: write it to the <code>.secret</code> file the command names (mode 0600), run, delete "
            f"the file; never put a value on the command line.<pre class=\"writes\" {_PRE_WRAP}><code>{esc(writes)}</code></pre>"
            + (f"Or write each of those files into <code>{VALUES}/</code> in the output directory and run "
               "<code>bash apply.sh</code>: it stores each value (and does the setup and the next step) and stops, "
               "changing nothing, while one that Vault does not hold yet is missing." if files else "") + "</li>"
            "<li><strong>Grant</strong>: write each role's policy and JWT role (below).</li>"
            "<li><strong>Switch CI</strong>: add each stanza and let the jobs that need the values "
            "<code>extends:</code> it; set <code>VAULT_SERVER_URL</code> as a CI/CD variable.</li>"
            "<li><strong>Remove</strong> the hardcoded values and the old CI/CD variables.</li></ol>")


def _target(t: Target, plan: Plan, files: bool) -> str:
    binding = f"{t.binding.claim} = {t.binding.value}" + ("" if t.binding.known else " (placeholder: fails closed)")
    extra = ", protected refs, the deploying ref and pipeline source, and the environment" if t.production else ""
    apply = "\n".join(c.shell(files) for c in grant_commands(plan, t))
    return "\n".join([
        f'<section class="target" id="{esc(t.role_name)}">',
        f"<h2>{esc(t.project)}: {esc(t.environment)}</h2>",
        f'<dl class="meta"><dt>Role and policy</dt><dd><code>{esc(t.role_name)}</code></dd>'
        f"<dt>Bound to</dt><dd>{esc(binding + extra)}</dd>"
        f"<dt>Reads</dt><dd>{len(t.read_paths)} path(s); denies {len(t.deny_paths)}</dd></dl>",
        '<h3>Why the role binds what it binds</h3><ul class="reasons">'
        + "".join(f"<li>{esc(why)}</li>" for why in t.reasons) + "</ul>",
        f'<h3 id="{esc(t.role_name)}-policy">Policy</h3>'
        f'<pre class="policy" {_PRE}><code>{esc(t.policy_hcl)}</code></pre>',
        f'<h3>JWT role</h3><pre class="role" {_PRE}><code>{esc(role_json(t.role))}</code></pre>',
        f'<h3>Apply</h3><pre class="commands" {_PRE}><code>{esc(apply)}</code></pre>',
        f'<h3>.gitlab-ci.yml</h3><pre class="ci" {_PRE}><code>{esc(t.ci_yaml)}</code></pre>',
        "</section>",
    ])


def _entry(e: Entry) -> str:
    notes = "".join(f'<p class="note">Note: {esc(n)}</p>' for n in e.notes)
    steps = "".join(f'<li class="step {esc(s.kind)}"><strong>{esc(s.kind)}</strong>: {esc(s.text)}</li>' for s in e.steps)
    return (f'<section class="entry"><h3><code>{esc(e.short_form)}</code></h3>'
            f"<p>{esc(e.secret_type)} {severity_badge(e.severity)}, fingerprint <code>{esc(e.fingerprint[:16])}</code>, "
            f"delivered {'as a file' if e.file else 'as a variable'}.</p>{notes}<ol>{steps}</ol></section>")
