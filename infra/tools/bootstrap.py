"""`fmops bootstrap-commands`: the CDK bootstrap (cross-account trust) and first-deploy commands, and
the CloudFormation execution policies the bootstrap gives each account's CDK execution role.

The policies come from a synthesized app: the resource types each account's stacks hold
(:func:`resource_types_by_account`), so an account's execution role can create what its stacks
declare and nothing else. Which pipeline deploys which account: ``infra/plan/delivery.py``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from infra import naming
from infra.assembly import read_stacks
from infra.config import Account, Mode, OrgConfig

EXECUTION_POLICY = "cdk-execution"
"""Infix of the managed policies the CDK execution role gets (``<org>-cdk-execution-<kind>-<n>``)."""
POLICIES_DIR = "execution-policies"
NOT_RESOURCES = ("AWS::CDK::Metadata",)


# -- the CloudFormation execution policies --------------------------------------------------

def account_kind(config: OrgConfig, account: Account) -> str:
    """Which execution policies an account gets: ``governance`` or ``workload`` (in
    single-account mode the only account is both)."""
    if config.organisation.mode is Mode.SINGLE_ACCOUNT:
        return "single-account"
    return "governance" if account.role == "governance" else "workload"


def resource_types_by_account(assembly: Path) -> dict[str, set[str]]:
    """Account id -> resource types of the stacks deployed there, from a synthesized cloud
    assembly (nested assemblies, the workload accounts' stages, included)."""
    found: dict[str, set[str]] = {}
    for stack in read_stacks(assembly):
        found.setdefault(stack.account, set()).update(r["Type"] for r in stack.resources.values())
    return found


def execution_policies(config: OrgConfig, assembly: Path) -> dict[str, list[dict[str, Any]]]:
    """Kind (see :func:`account_kind`) -> the policy documents of the CDK CloudFormation
    execution role of those accounts, each within IAM's 6,144 characters.

    The actions are those CloudFormation's resource handlers call for the resource types of the
    kind's stacks (create, read, update, delete; the provider schemas bundled with cfn-lint, as for
    the catalog launch roles), one statement per service, plus what CloudFormation itself does with
    the role in a CDK app: read the bootstrap version parameter and invoke the custom-resource
    handlers of the account. AWS-managed ``AdministratorAccess`` (CDK's default) is not needed.
    """
    from fmops_constructs.launch_role import handler_permissions, is_iam_action, split_statements

    types_by_account = resource_types_by_account(assembly)
    region = config.organisation.region
    policies: dict[str, list[dict[str, Any]]] = {}
    for kind in dict.fromkeys(account_kind(config, a) for a in config.accounts):
        accounts = [a for a in config.accounts if account_kind(config, a) == kind]
        types: set[str] = set().union(*(types_by_account.get(a.id, set()) for a in accounts))
        if not types:
            raise ValueError(f"{assembly} holds no stack of the {kind} accounts; synthesize this config first "
                             "(make synth CONFIG=...)")
        resource_types = sorted(t for t in types if t.startswith("AWS::") and t not in NOT_RESOURCES)
        statements: list[dict[str, Any]] = [
            {"Sid": "CdkBootstrapVersion", "Effect": "Allow", "Action": ["ssm:GetParameters"],
             "Resource": [f"arn:aws:ssm:{region}:*:parameter/cdk-bootstrap/{naming.CDK_QUALIFIER}/version"]},
        ]
        if any(t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource" for t in types):
            statements.append({"Sid": "CustomResourceHandlers", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                               "Resource": [f"arn:aws:lambda:{region}:*:function:*"]})
        by_service: dict[str, set[str]] = {}
        for resource_type in resource_types:
            for action in filter(is_iam_action, handler_permissions(resource_type)):
                by_service.setdefault(action.split(":")[0], set()).add(action)
        for service, actions in sorted(by_service.items()):
            statements.append({"Sid": "".join(p.capitalize() for p in re.split(r"[^a-z0-9]", service)),
                               "Effect": "Allow", "Action": sorted(actions), "Resource": ["*"]})
        policies[kind] = [{"Version": "2012-10-17", "Statement": group} for group in split_statements(statements)]
    return policies


def execution_policy_name(config: OrgConfig, kind: str, number: int) -> str:
    return f"{config.organisation.name}-{EXECUTION_POLICY}-{kind}-{number}"


def write_execution_policies(config: OrgConfig, policies: dict[str, list[dict[str, Any]]], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, documents in policies.items():
        for number, document in enumerate(documents, 1):
            path = folder / f"{execution_policy_name(config, kind, number)}.json"
            path.write_text(json.dumps(document, indent=1) + "\n")
            written.append(path)
    return written


# -- the bootstrap and first-deploy commands ------------------------------------------------

def execution_policy_arns(config: OrgConfig, account: Account, policies: dict[str, list[dict[str, Any]]]) -> str:
    kind = account_kind(config, account)
    return ",".join(f"arn:aws:iam::{account.id}:policy/{execution_policy_name(config, kind, n)}"
                    for n in range(1, len(policies[kind]) + 1))


def _create_policies(config: OrgConfig, account: Account, policies: dict[str, list[dict[str, Any]]]) -> list[str]:
    kind = account_kind(config, account)
    return [f"aws iam create-policy --policy-name {execution_policy_name(config, kind, n)} "
            f"--policy-document file://{POLICIES_DIR}/{execution_policy_name(config, kind, n)}.json"
            for n in range(1, len(policies[kind]) + 1)]


def bootstrap_commands(config: OrgConfig, *, config_path: str, policies: dict[str, list[dict[str, Any]]]) -> str:
    """The commands that prepare every account and deploy what the platform team deploys (see
    docs/delivery.md), for ``config``; ``policies`` from :func:`execution_policies`."""
    from infra.plan.delivery import delivers_with_pipelines, governance_account, pipeline_groups, pipeline_stack_name

    org = config.organisation
    region = org.region
    cdk = "npx --no-install cdk"
    header = [
        f"# FMOps Foundation {org.name}: bootstrap and first deploy, generated by "
        f"`fmops bootstrap-commands {config_path}`.",
        "# Run each command with credentials of the account it names (e.g. AWS_PROFILE). The execution policies",
        f"# are in {POLICIES_DIR}/ (`--write-policies {POLICIES_DIR}`): the actions CloudFormation needs for the",
        "# resource types of each account's stacks, instead of CDK's default AdministratorAccess.",
    ]
    if not delivers_with_pipelines(config):
        account = config.accounts[0]
        return "\n".join([
            *header, "",
            f"# Single-account mode ({account.name}, {account.id}): no pipelines; cdk deploy --all deploys every stack.",
            *_create_policies(config, account, policies),
            f"{cdk} bootstrap aws://{account.id}/{region} \\",
            f"    --cloudformation-execution-policies {execution_policy_arns(config, account, policies)}",
            f"{cdk} deploy --all -c config={config_path}",
        ]) + "\n"
    governance = governance_account(config)
    groups = pipeline_groups(config)
    lines = [
        *header, "",
        f"# 1. The governance account {governance.name} ({governance.id}): its own CDK toolkit, trusting no other account.",
        *_create_policies(config, governance, policies),
        f"{cdk} bootstrap aws://{governance.id}/{region} \\",
        f"    --cloudformation-execution-policies {execution_policy_arns(config, governance, policies)}",
        "",
        "# 2. Every workload account: its CDK toolkit trusts the governance account, where the pipelines run.",
    ]
    for group in groups:
        for account in group.all_accounts:
            lines += [
                f"# {account.name} ({account.stage}), deployed by {pipeline_stack_name(config, group)}",
                *_create_policies(config, account, policies),
                f"{cdk} bootstrap aws://{account.id}/{region} \\",
                f"    --trust {governance.id} --trust-for-lookup {governance.id} \\",
                f"    --cloudformation-execution-policies {execution_policy_arns(config, account, policies)}",
            ]
    pipelines = ", ".join(pipeline_stack_name(config, g) for g in groups)
    lines += [
        "",
        f"# 3. Once, with credentials of {governance.name}: the governance account's stacks and the pipelines",
        f"#    ({pipelines}). --all selects the top-level stacks only: the workload",
        "#    accounts' stacks are in stages, which only the pipelines deploy.",
        f"{cdk} deploy --all -c config={config_path} --require-approval broadening",
        "",
        "# 4. Start the pipelines: " + _source_step(config),
    ]
    return "\n".join(lines) + "\n"


def _source_step(config: OrgConfig) -> str:
    from infra.plan.delivery import delivery_bucket_name

    source = config.organisation.delivery.source
    if source.kind == "s3":
        return (f"upload a zip of this repository, from inside the governance account's VPC:\n"
                f"#    git archive --format zip -o fmops-foundation.zip HEAD\n"
                f"aws s3 cp fmops-foundation.zip s3://{delivery_bucket_name(config)}/{source.key}")
    if source.kind == "codecommit":
        return f"push branch {source.branch_name} to the CodeCommit repository {source.repository}."
    return f"push branch {source.branch_name} to {source.repository} (connection {source.connection_arn})."


def print_bootstrap_commands(config: OrgConfig, config_path: str, assembly: Path,
                             write_policies: Path | None = None) -> int:
    """`fmops bootstrap-commands`: print the bootstrap and first-deploy commands of ``config``; the
    execution policies are generated from ``assembly``, the app synthesized from it (and written to
    ``write_policies`` when given). Exit 2 when the policies cannot be generated."""
    try:
        policies = execution_policies(config, assembly)
    except ValueError as error:
        print(f"fmops: {error}", file=sys.stderr)
        return 2
    if write_policies:
        for path in write_execution_policies(config, policies, write_policies):
            print(f"# wrote {path}")
    print(bootstrap_commands(config, config_path=config_path, policies=policies), end="")
    return 0
