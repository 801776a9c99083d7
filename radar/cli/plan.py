"""`radar plan`: a JSON findings report -> the Vault migration plan; the plan options that
`radar scan --plan` shares."""

from __future__ import annotations

import argparse
import sys

from radar.cli.common import UsageError, non_empty, positive_int


EXIT_PLAN_INCOMPLETE = 3  # the plan was written, but a role binds a placeholder project id


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        usage="radar plan FINDINGS.json [--format markdown|html|json] [--output FILE] [--mapping FILE] "
              "[--project PATH] [--project-id N | --namespace-id N] [--public] [--mount NAME] "
              "[--path-template TEMPLATE] [--audience URL] [--default-branch NAME] [--gitlab-url URL] "
              "[--output-dir DIR]",
        help="turn a JSON findings report into a Vault migration plan",
        description=(
            "Read the report of `radar scan --format json` and plan the move of each credential to "
            "Vault: KV v2 path and field, the `vault kv put` command (value left out), the policy and "
            "JWT role (bound to the GitLab project and protected refs, and for production to the "
            "default branch, push pipelines and the protected environment), the .gitlab-ci.yml stanza with "
            "id_tokens: and secrets:, and the order of work (rotate first where the value is in history, job "
            "logs or public), after the Vault setup (JWT auth and its config, KV v2 mount, audit device) and "
            "what to protect in GitLab. "
            "--output-dir DIR also writes the policies, roles, auth config, CI snippet and apply.sh. Never contains a "
            "value. Exit 0 when the plan is complete, 3 when a role still binds a placeholder project "
            "id (the plan is written, with a warning), 2 on errors."
        ),
    )
    p.add_argument("findings", metavar="FINDINGS.json", help="radar's JSON report (radar scan ... --format json)")
    p.add_argument("--format", choices=("markdown", "html", "json"), default="markdown",
                   help="markdown (default) and html for people, json for tools")
    p.add_argument("--output", metavar="FILE", help="write the plan to FILE instead of standard output")
    p.add_argument("--output-dir", type=non_empty, metavar="DIR",
                   help="also write policies/, roles/, auth-config.json, gitlab-ci.yml and apply.sh into DIR "
                        "(new, empty, or written by radar before); the plan then names those files")
    add_plan_options(p)
    p.set_defaults(run=_run_plan, takes_command=False)


def add_plan_options(p: argparse.ArgumentParser, *, project_option: bool = True) -> None:
    g = p.add_argument_group("migration plan")
    g.add_argument("--mapping", metavar="FILE", help="TOML file with defaults, project ids and mapping rules")
    if project_option:  # `radar scan gitlab` has its own --project; its findings name their projects
        g.add_argument("--project", dest="plan_project", type=non_empty, metavar="PATH",
                       help="the GitLab project a directory or history scan belongs to (default: the directory's name)")
    p.set_defaults(plan_project=None)
    ids = g.add_mutually_exclusive_group()
    ids.add_argument("--project-id", type=positive_int, metavar="N", help="its numeric id: roles bind project_id N")
    ids.add_argument("--namespace-id", type=positive_int, metavar="N",
                     help="or its group's numeric id: roles bind namespace_id N")
    g.add_argument("--public", action="store_true", help="the project is or was public: rotate every value first")
    g.add_argument("--mount", type=non_empty, metavar="NAME", help="KV v2 mount (default secret)")
    g.add_argument("--path-template", type=non_empty, metavar="TEMPLATE",
                   help="secret path, with {project}, {environment}, {type} (default ci/{project}/{environment})")
    g.add_argument("--audience", type=non_empty, metavar="URL",
                   help="the ID token's aud and the role's bound_audiences (default https://vault.example.com)")
    g.add_argument("--gitlab-url", type=non_empty, metavar="URL",
                   help="GitLab's address, its ID tokens' iss: the JWT auth config's bound_issuer and JWKS "
                        "(default: a GitLab scan's --url; else the plan says what to fill in)")
    g.add_argument("--default-branch", type=non_empty, metavar="NAME",
                   help="the branch production roles bind as ref (default main, or [roles] default_branch)")


def refuse_plan_options_without_plan(args: argparse.Namespace) -> None:
    """`radar scan` without --plan makes no plan: the options that shape one would be ignored in silence."""
    given = [flag for flag, value in (("--mapping", args.mapping), ("--project", args.plan_project),
                                      ("--project-id", args.project_id), ("--namespace-id", args.namespace_id),
                                      ("--public", args.public), ("--mount", args.mount),
                                      ("--path-template", args.path_template), ("--audience", args.audience),
                                      ("--gitlab-url", args.gitlab_url), ("--default-branch", args.default_branch))
             if value not in (None, False)]
    if given and not args.plan:
        named = given[0] if len(given) == 1 else ", ".join(given[:-1]) + " and " + given[-1]
        raise UsageError(f"{named} appl{'ies' if len(given) == 1 else 'y'} to the migration plan only: "
                         f"add --plan FILE, or drop {'it' if len(given) == 1 else 'them'}")


def _plan_mapping(args: argparse.Namespace, scan):  # (args, radar.plan.load.ScanInfo) -> radar.plan.mapping.Mapping
    from dataclasses import replace

    from radar.plan.mapping import (
        MappingError, ProjectInfo, check_ref, checked_gitlab_url, checked_settings, load_mapping,
    )

    mapping = load_mapping(args.mapping)
    overrides = {name: value for name, value in (("mount", args.mount), ("path_template", args.path_template),
                                                 ("audience", args.audience), ("gitlab_url", args.gitlab_url))
                 if value is not None}
    if overrides:
        settings = checked_settings(replace(mapping.settings, **overrides), "command line")
        mapping = replace(mapping, settings=settings)
    if mapping.settings.gitlab_url is None and scan.kind == "gitlab" and scan.root:
        # A GitLab scan names the instance it read: its address is the tokens' issuer. Given
        # explicitly (command line, mapping), another address wins: the scan may have used an
        # internal one.
        try:
            mapping = replace(mapping, settings=replace(
                mapping.settings, gitlab_url=checked_gitlab_url(scan.root, "the scan report")))
        except MappingError:
            pass  # not an address the plan can use: the plan says what to fill in instead
    if args.default_branch is not None:
        roles = replace(mapping.settings.roles, default_branch=check_ref(args.default_branch, "--default-branch"),
                        default_branch_source="command line")
        mapping = replace(mapping, settings=replace(mapping.settings, roles=roles))
    if args.plan_project or args.project_id or args.namespace_id or args.public:
        from radar.plan.build import project_from_scan

        # Without --project, the ids belong to the scanned directory's project (for a GitLab
        # scan, whose findings name their projects, that is only a fallback).
        mapping = mapping.with_project(args.plan_project or mapping.default_project or project_from_scan(scan),
                                       ProjectInfo(args.project_id, args.namespace_id, args.public))
    return mapping


def _run_plan(args: argparse.Namespace) -> int:
    from radar.files import check_writable, write_file
    from radar.plan import render
    from radar.plan.artifacts import check_dir, write_dir
    from radar.plan.load import load_report

    if args.output:
        check_writable(args.output, "plan")
    if args.output_dir:
        check_dir(args.output_dir)
    report = load_report(args.findings)
    plan = built_plan(args, report.findings, report.scan)
    if args.output_dir:
        write_dir(plan, args.output_dir)
    text = render(plan, args.format, files=bool(args.output_dir))
    if args.output:
        write_file(args.output, text, "plan")
    else:
        sys.stdout.write(text)
    return 0 if plan.complete else EXIT_PLAN_INCOMPLETE


def built_plan(args: argparse.Namespace, findings, scan):  # -> radar.plan.model.Plan
    """The plan of `findings` under the command line's mapping options, its warnings said on stderr."""
    from radar.plan.build import build_plan

    from radar.cli.terminal import Terminal  # radar scan --plan --quiet says no warning

    plan = build_plan(findings, scan, _plan_mapping(args, scan))
    for warning in plan.warnings:
        Terminal.of(args).warning(warning)
    return plan


def plan_file(text: str) -> str:
    from radar.plan import PLAN_SUFFIXES

    if not text.lower().endswith(PLAN_SUFFIXES):
        raise argparse.ArgumentTypeError(f"{text}: end it with .md, .html or .json (the plan's format follows the suffix)")
    return text
