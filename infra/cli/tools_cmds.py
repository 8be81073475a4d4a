"""Operator tools: ``summary``, ``select-fm``, ``provision``, ``projects``, ``bootstrap-commands``,
``docs`` and ``diagram``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from infra.cli.parser import add_command, is_assembly
from infra.config import Availability, load_config_or_exit
from infra.tools import bootstrap as bootstrap_tool
from infra.tools import docgen, fm_select, fm_select_command, provision


def _summary(args: argparse.Namespace) -> int:
    if not is_assembly(args.cdk_out):
        return 2
    from infra.tools.report import render  # imports the CDK constructs: only when run

    from infra.cli.compliance_cmds import config_organisation

    return render(Path(args.cdk_out), config_organisation(args.config))


def _select_fm(args: argparse.Namespace) -> int:
    request = fm_select_command.SelectRequest(
        priorities=args.priorities, priority=args.priority or (), scores=args.scores, models=args.models,
        catalog=args.catalog,
        model_filter=fm_select.CatalogFilter(
            commercial_only=args.commercial_only, fine_tunable=args.fine_tunable,
            available_on=Availability(args.available_on) if args.available_on else None,
            min_context=args.min_context, min_eu_ai_act=args.min_eu_ai_act,
            min_eu_requirements=dict(args.min_eu_requirement or ())))
    return fm_select_command.run_select_fm(request, as_json=args.json)


def _requirement_minimum(text: str) -> tuple[str, int]:
    """Parse ``REQUIREMENT=SCORE`` for --min-eu-requirement."""
    requirement, sep, score = text.partition("=")
    if not sep or not requirement or not score.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected REQUIREMENT=SCORE (e.g. data_governance=3), got '{text}'")
    return requirement.strip(), int(score)


def _non_negative_int(text: str) -> int:
    """Parse a non-negative integer for --min-context and --min-eu-ai-act."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _provision(args: argparse.Namespace, **services: Any) -> int:
    """``services``: a ``provisioner`` and a ``console`` instead of boto3's and the terminal (tests)."""
    return provision.provision_project(args.template, args.name, args.param, list_products=args.list,
                                       version=args.version, project_tag=args.project_tag, via=args.via,
                                       team=args.team, config=args.config, profile=args.profile,
                                       region=args.region, **services)


def _projects(args: argparse.Namespace, **services: Any) -> int:
    return provision.list_projects(args.team, as_json=args.json, profile=args.profile, region=args.region,
                                   **services)


def _bootstrap_commands(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    if not is_assembly(Path(args.cdk_out), f"make synth CONFIG={args.config}"):
        return 2
    policies = Path(args.write_policies) if args.write_policies else None
    return bootstrap_tool.print_bootstrap_commands(config, args.config, Path(args.cdk_out), policies)


def _docs(args: argparse.Namespace) -> int:
    return docgen.write_docs(args.check, args.assembly)


def _diagram(args: argparse.Namespace) -> int:
    return docgen.write_diagram(args.check, args.assembly)


def _generator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    parser.add_argument("--assembly", metavar="CDK_OUT",
                        help="a synthesized default app (e.g. cdk.out after `make synth`); default: synthesize one")


def register(commands: argparse._SubParsersAction) -> None:
    summary = add_command(commands, "summary", _summary,
                          "the summary `make synth` prints: stacks, resources, limits, estimated cost")
    summary.add_argument("cdk_out", nargs="?", default="cdk.out", metavar="CDK_OUT", help="default cdk.out")
    summary.add_argument("--config", default=None,
                         help="the config synthesized (its accounts and organisation are inside the perimeters; "
                         "default: the embedded default)")

    select = add_command(commands, "select-fm", _select_fm, "rank foundation models by your priorities (P0 first)",
                         description="Rank foundation models by priorities (P0 first), as in the seed deck's Step 3.",
                         one_line_errors=True)
    order = select.add_mutually_exclusive_group()
    order.add_argument("--priorities", help=f"comma-separated, P0 first; allowed: {fm_select.ALLOWED_PRIORITIES}")
    order.add_argument("--priority", action="append", help="one priority; repeat in order (P0 first)")
    select.add_argument("--scores", type=Path, help="evaluation-scores file (YAML or JSON)")
    select.add_argument("--models", help="comma-separated model ids (catalog ids or ids in --scores)")
    select.add_argument("--catalog", type=Path, help="catalog file (default: config/fm-catalog.yaml)")
    select.add_argument("--commercial-only", action="store_true", help="only models usable commercially")
    select.add_argument("--fine-tunable", action="store_true", help="only fine-tunable models")
    select.add_argument("--available-on", choices=[a.value for a in Availability], help="only models available there")
    select.add_argument("--min-context", type=_non_negative_int, metavar="N", help="minimum context window (tokens)")
    select.add_argument("--min-eu-ai-act", type=_non_negative_int, metavar="TOTAL",
                        help="only models whose provider's EU AI Act grading totals at least TOTAL (of 48)")
    select.add_argument("--min-eu-requirement", type=_requirement_minimum, action="append", metavar="REQ=SCORE",
                        help="only models graded at least SCORE (of 4) on EU AI Act requirement REQ; repeatable "
                        "(requirements: the ids of eu_ai_act.requirements in the catalog)")
    select.add_argument("--json", action="store_true", help="print the result as JSON")

    launch = add_command(commands, "provision", _provision,
                         "launch a project template of the team (or --list them), wait, show its outputs",
                         description=provision.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    launch.add_argument("template", nargs="?", help="registry id (e.g. genai-app) or product name")
    launch.add_argument("--list", action="store_true", help="list the products your role may launch")
    launch.add_argument("--name", help="project name (SageMakerProjectName)")
    launch.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    launch.add_argument("--version", help="product version (default: the newest)")
    launch.add_argument("--project-tag", help="value of the fmops:project TagOption")
    launch.add_argument("--via", choices=["catalog", "project"], default="catalog",
                        help="catalog: the team's Service Catalog product; project: its SageMaker project template "
                        "(S3 URL, no Service Catalog), for teams with catalog.project_path project (default: catalog)")
    launch.add_argument("--team", help="--via project: the team whose templates to launch")
    launch.add_argument("--config", default=None, help="--via project: the platform config (default: the embedded one)")
    _aws_arguments(launch)

    projects = add_command(commands, "projects", _projects, "list the team's provisioned projects",
                           description="List the team's provisioned projects")
    projects.add_argument("--team", help="only projects tagged fmops:team=TEAM")
    projects.add_argument("--json", action="store_true")
    _aws_arguments(projects)

    bootstrap = add_command(
        commands, "bootstrap-commands", _bootstrap_commands,
        "print the cdk bootstrap (cross-account trust) and first-deploy commands of a config",
        description="Print the bootstrap and first-deploy commands of CONFIG; the execution policies are "
        "generated from the app synthesized from CONFIG in --cdk-out (`make synth CONFIG=...` first).")
    bootstrap.add_argument("config", nargs="?", default="config/default.yaml")
    bootstrap.add_argument("--cdk-out", default="cdk.out", help="the app synthesized from CONFIG (default cdk.out)")
    bootstrap.add_argument("--write-policies", metavar="DIR", help=f"write the execution policies there ({bootstrap_tool.POLICIES_DIR})")

    docs = add_command(commands, "docs", _docs,
                       "write the generated docs: config and templates reference, architecture diagram",
                       description="Write the generated docs: config reference, project templates reference, "
                       "architecture diagram (docs/).")
    _generator_arguments(docs)

    diagram = add_command(commands, "diagram", _diagram, "write docs/architecture.dot and .svg from a synthesized app",
                          description="Write docs/architecture.dot and docs/architecture.svg from a synthesized app.")
    _generator_arguments(diagram)


def _aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    parser.add_argument("--region", help="AWS Region (default: the profile's)")
