"""The launch role of a team's portfolio: what Service Catalog provisions the team's products with.

Its policy is generated, not written by hand: for every resource type in the portfolio's product
templates, the actions CloudFormation's resource handler calls (``handlers.*.permissions`` of the
resource provider schemas that cfn-lint ships, so offline and versioned with the lock file),
minus the actions no product needs (:data:`NEVER`), each service narrowed to the team's
resources (:data:`SCOPES`): the ``<team>-`` name prefix, the project IAM path, the team tag,
the team's log group and SSM prefixes, or the ``SC-<account>-pp-`` names CloudFormation gives the
resources of a provisioned product. The names are the app's, given in a :class:`LaunchScope`. A service without a scope is an error at synth, so a new resource type in a
template is reviewed before its launch role can create it.

Roles can only be created with the team's permission boundary (``iam:PermissionsBoundary``),
only under the project path, and only project policies can be attached to them; the launch role
itself carries the launch boundary (``own_boundary_name``), under which a role can only be created
with the team's boundary, only under the project path, and no boundary can be edited.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge_wildcards
from fmops_constructs.cfn_text import nag_document, policy_document

SCHEMA_REGION = "us-east-1"
STACKS = "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/SC-${AWS::AccountId}-pp-*"
# CloudFormation names unnamed resources <stack>-<logical id>-<suffix>; a provisioned product's
# stack is SC-<account>-pp-<id>, so generated names share that prefix (lower case for buckets).
GENERATED = "SC-${AWS::AccountId}-pp-*"
GENERATED_BUCKETS = "sc-${AWS::AccountId}-pp-*"

# Actions that appear in resource handler permissions but that no product of ours needs, with why.
NEVER: dict[str, str] = {
    "iam:*User*": "projects create no IAM users",
    "iam:*Group*": "projects create no IAM groups",
    "iam:DeleteRolePermissionsBoundary": "the team boundary is never removed",
    "iam:CreateServiceLinkedRole": "service-linked roles are the platform team's (account-wide)",
    "elasticfilesystem:*": "no product mounts a file system",
    "s3files:*": "no product mounts a file system",
    "s3tables:*": "no product creates S3 table buckets",
    "firehose:*": "no product delivers logs to Firehose",
    "s3:PutBucketAcl": "buckets are owner-enforced; ACLs are never set",
    "s3:PutObjectAcl": "buckets are owner-enforced; ACLs are never set",
    "s3:PutBucketWebsite": "no website hosting (internet-free)",
    "s3:*MetadataTable*": "no S3 metadata tables",
    "s3:*Abac": "no attribute-based bucket access",
    "lambda:*ProvisionedConcurrencyConfig": "no provisioned concurrency",
    "lambda:PassCapacityProvider": "no Lambda capacity providers",
    "logs:PutBearerTokenAuthentication": "no bearer-token log ingestion",
    "logs:*ResourcePolicy": "log resource policies are account-wide (they admit services to every group); no product sets one",
    "logs:CreateLogDelivery": "no product delivers vended logs",
}


@dataclass(frozen=True)
class LaunchScope:
    """The team a launch role is held to, and the names of what belongs to it (the app's).

    :param team: the team; its products name their resources ``<team>-...``.
    :param boundary_name: the team's permission boundary (a customer-managed policy in each
        account): the launch role's own, and the only one it may create roles with.
    :param role_path: IAM path of the roles and policies the products create.
    :param parameter_prefix: SSM prefix of the platform values the products read.
    :param log_group_prefix: prefix of the team's log groups.
    :param team_tag: key of the tag, valued ``team``, on what the products create (ABAC).
    :param connection_arn: the CodeConnections connection the team's pipelines may use.
        Default: none.
    :param own_boundary_name: the launch role's own permission boundary. Default:
        ``boundary_name``.
    :param service_catalog: the role launches Service Catalog products (the stacks are
        ``SC-<account>-pp-*``, and so are the names CloudFormation generates). Otherwise it is the
        CloudFormation role of SageMaker template-provider projects: SageMaker creates and names
        the stack (not documented), so the role manages no stack and no generated name, only
        resources the templates name ``<team>-...``. Default: true.
    """

    team: str
    boundary_name: str
    role_path: str
    parameter_prefix: str
    log_group_prefix: str
    team_tag: str
    connection_arn: str | None = None
    own_boundary_name: str = ""
    service_catalog: bool = True

    @property
    def fill(self) -> dict[str, str]:
        """The values of the placeholders of :data:`SCOPES`; ``{generated}`` and
        ``{generated_buckets}`` only for Service Catalog (see :attr:`service_catalog`)."""
        values = {"team": self.team, "log_group_prefix": self.log_group_prefix,
                  "parameter_prefix": self.parameter_prefix, "connection": self.connection_arn or ""}
        if self.service_catalog:
            values.update(generated=GENERATED, generated_buckets=GENERATED_BUCKETS)
        return values


@dataclass(frozen=True)
class Scope:
    """Where one service's actions may act.

    ``resources``: ``Fn::Sub`` templates with ``{team}``, ``{log_group_prefix}``,
    ``{parameter_prefix}`` and ``{connection}`` filled in (:attr:`LaunchScope.fill`).
    ``create_tag``/``resource_tag``: require the team tag on the request (Create*, Tag*) or on
    the resource (everything else except Describe/List/Get).
    """

    resources: tuple[str, ...]
    create_tag: bool = False
    resource_tag: bool = False
    action_conditions: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None


def _arn(service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
    return (f"arn:${{AWS::Partition}}:{service}:{'${AWS::Region}' if region else ''}:"
            f"{'${AWS::AccountId}' if account else ''}:{resource}")


SCOPES: dict[str, Scope] = {
    "lambda": Scope((_arn("lambda", "function:{team}-*"),)),
    "sagemaker": Scope((_arn("sagemaker", "*"),), create_tag=True, resource_tag=True),
    # Prompts and the projects' application inference profiles (created only with the team tag,
    # changed only when tagged so); CreateInferenceProfile is also authorized on what the profile
    # copies, the Region's foundation models or a system-defined cross-Region profile, whose
    # foundation models sit in the geography's Regions (the Bedrock user guide's resource list for
    # it). Invocation stays held to the team's models by the boundary: a profile of another model
    # routes to a foundation model outside its allow-list.
    "bedrock": Scope((_arn("bedrock", "prompt/*"), _arn("bedrock", "application-inference-profile/*"),
                      _arn("bedrock", "inference-profile/*"), "arn:${AWS::Partition}:bedrock:*::foundation-model/*"),
                     create_tag=True, resource_tag=True),
    "apigateway": Scope((_arn("apigateway", "/restapis", account=False), _arn("apigateway", "/restapis/*", account=False),
                         _arn("apigateway", "/tags/*", account=False))),
    "logs": Scope((_arn("logs", "log-group:{log_group_prefix}*"),
                   _arn("logs", "log-group:/aws/sagemaker/Endpoints/{team}-*"))),
    "kms": Scope((_arn("kms", "key/*"),), resource_tag=True,
                 action_conditions={"kms:CreateGrant": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}),
    "sns": Scope((_arn("sns", "{team}-*"),)),
    "events": Scope((_arn("events", "rule/{team}-*"), _arn("events", "rule/{generated}"))),
    "codepipeline": Scope((_arn("codepipeline", "{team}-*"),)),
    "codecommit": Scope((_arn("codecommit", "{team}-*"),)),
    "cloudwatch": Scope((_arn("cloudwatch", "alarm:{team}-*"), _arn("cloudwatch", "alarm:{generated}"))),
    "application-autoscaling": Scope((_arn("application-autoscaling", "scalable-target/*"),)),
    "ec2": Scope((_arn("ec2", "security-group/*"), _arn("ec2", "vpc/*"))),
    "cognito-idp": Scope((_arn("cognito-idp", "userpool/*"),)),
    "s3": Scope(("arn:${AWS::Partition}:s3:::{generated_buckets}", "arn:${AWS::Partition}:s3:::{generated_buckets}/*",
                 "arn:${AWS::Partition}:s3:::cdk-*-assets-${AWS::AccountId}-${AWS::Region}/*")),
    "ssm": Scope((_arn("ssm", "parameter{parameter_prefix}/*"),)),
    "codestar-connections": Scope(("{connection}",)),
    "codeconnections": Scope(("{connection}",)),
}
# Read-only calls that AWS authorizes only on "*" (no resource types in the service
# authorization reference); they return configuration, never data.
UNSCOPED_READS = ("ec2:Describe*", "cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate",
                  "sagemaker:ListWorkforces", "apigateway:GET", "codecommit:ListRepositories",
                  "lambda:GetLayerVersion", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
                  "logs:DescribeIndexPolicies", "cloudwatch:DescribeAlarms", "kms:DescribeKey",
                  "application-autoscaling:Describe*", "sagemaker:ListTags", "lambda:GetRuntimeManagementConfig")
# The one service-linked role a product may need: SageMaker endpoint autoscaling's, created on
# the first scalable target of an account.
SERVICE_LINKED_ROLES = {"AWS::ApplicationAutoScaling::ScalableTarget": "sagemaker.application-autoscaling.amazonaws.com"}
CLOUDFORMATION = ("cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
                  "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
                  "cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources",
                  "cloudformation:GetTemplate", "cloudformation:SetStackPolicy", "cloudformation:CreateChangeSet",
                  "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
                  "cloudformation:DeleteChangeSet", "cloudformation:TagResource", "cloudformation:UntagResource")
ROLE_CREATION = ("iam:CreateRole", "iam:PutRolePermissionsBoundary")
_READ_PREFIXES = ("Describe", "List", "Get")


@cache
def handler_permissions(resource_type: str) -> frozenset[str]:
    """Every action CloudFormation's handlers for ``resource_type`` may call (create, read,
    update, delete), from the provider schema bundled with cfn-lint."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    handlers = schema.get("handlers", {})
    return frozenset(action for kind in ("create", "read", "update", "delete")
                     for action in handlers.get(kind, {}).get("permissions", []))


@cache
def _iam_actions() -> dict[str, frozenset[str]]:
    """Service prefix -> its IAM actions (lower case), from the service authorization data that
    cfn-lint ships."""
    from cfnlint.data import AdditionalSpecs
    from cfnlint.helpers import load_resource

    return {service: frozenset(a.lower() for a in spec.get("Actions", {}))
            for service, spec in load_resource(AdditionalSpecs, "Policies.json").items()}


def is_iam_action(action: str) -> bool:
    """Whether IAM knows ``action`` (some handler schemas list API names that are not IAM
    actions, such as s3:DeleteBucketCors, authorized as s3:PutBucketCORS)."""
    service, _, name = action.partition(":")
    known = _iam_actions().get(service)
    return known is None or name.lower() in known


def needed_actions(resource_types: Iterable[str]) -> dict[str, set[str]]:
    """Service prefix -> actions, for the given resource types, without :data:`NEVER` and
    without names that are not IAM actions."""
    by_service: dict[str, set[str]] = {}
    for resource_type in resource_types:
        for action in handler_permissions(resource_type):
            if any(fnmatch.fnmatchcase(action, pattern) for pattern in NEVER) or not is_iam_action(action):
                continue
            by_service.setdefault(action.split(":")[0], set()).add(action)
    return by_service


def launch_statements(scope: LaunchScope, resource_types: Iterable[str]) -> list[dict[str, Any]]:
    """The launch role's policy statements as ``Fn::Sub`` templates (see the module docstring)."""
    boundary = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{scope.boundary_name}"
    statements: list[dict[str, Any]] = [
        {"Sid": "ProvisionedProductStacks", "Action": list(CLOUDFORMATION), "Resource": [STACKS + "/*"]},
        {"Sid": "ReadProductTemplates", "Action": ["s3:GetObject"], "Resource": ["*"],
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}}},
    ] if scope.service_catalog else []
    statements.append({"Sid": "ReadPlatformParameters", "Action": ["ssm:GetParameters", "ssm:GetParameter"],
                       "Resource": [_arn("ssm", f"parameter{scope.parameter_prefix}/*")]})
    resource_types = list(resource_types)
    for resource_type, service in SERVICE_LINKED_ROLES.items():
        if resource_type in resource_types:
            statements.append({
                "Sid": "ServiceLinkedRole" + "".join(filter(str.isalnum, service.split(".amazonaws")[0].title())),
                "Action": ["iam:CreateServiceLinkedRole"],
                "Resource": [f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/aws-service-role/{service}/*"],
                "Condition": {"StringEquals": {"iam:AWSServiceName": service}}})
    needed = needed_actions(resource_types)
    reads = [a for actions in needed.values() for a in actions
             if any(fnmatch.fnmatchcase(a, pattern) for pattern in UNSCOPED_READS)]
    iam_actions = needed.pop("iam", set())
    statements += _iam_statements(iam_actions, scope.role_path, boundary)
    for service in sorted(needed):
        if service not in SCOPES:
            raise ValueError(f"launch role: no scope for service {service!r} (actions {sorted(needed[service])}); "
                             "add it to fmops_constructs.launch_role.SCOPES after review")
        actions = sorted(a for a in needed[service] if a not in reads)
        if service in ("codestar-connections", "codeconnections") and not scope.connection_arn:
            continue
        statements += _scoped_statements(service, actions, SCOPES[service], scope)
    if reads:
        statements.append({"Sid": "ReadConfiguration", "Action": sorted(set(reads)), "Resource": ["*"]})
    return [{"Effect": "Allow", **s} for s in statements if s["Action"]]


def _iam_statements(actions: set[str], path: str, boundary: str) -> list[dict[str, Any]]:
    roles = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{path}*"
    policies = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy{path}*"
    attach = {"iam:AttachRolePolicy", "iam:DetachRolePolicy"}
    role_actions = sorted(a for a in actions if "Role" in a and a not in ROLE_CREATION and a not in attach)
    return [
        {"Sid": "CreateRolesWithTheTeamBoundary", "Action": sorted(set(ROLE_CREATION) & actions or ROLE_CREATION),
         "Resource": [roles], "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}},
        {"Sid": "ManageProjectRoles", "Action": sorted(set(role_actions) | {"iam:PassRole"}), "Resource": [roles]},
        {"Sid": "AttachOnlyProjectPolicies", "Action": sorted(attach & actions), "Resource": [roles],
         "Condition": {"ArnLike": {"iam:PolicyARN": policies}}},
        {"Sid": "ManageProjectPolicies", "Action": sorted(a for a in actions if "Polic" in a and "Role" not in a),
         "Resource": [policies]},
    ]


def _scoped_statements(service: str, actions: list[str], scope: Scope,
                       launch: LaunchScope) -> list[dict[str, Any]]:
    resources = [filled for filled in (_fill(r, launch.fill) for r in scope.resources) if "{generated" not in filled]
    if not resources:
        raise ValueError(f"launch role: service {service!r} has only generated-name scopes, which a "
                         "template-provider project role cannot use")
    resource_tagged = {"StringEquals": {f"aws:ResourceTag/{launch.team_tag}": launch.team}}
    sid = "".join(part.capitalize() for part in service.replace("-", " ").split())
    if not (scope.create_tag or scope.resource_tag):
        return [{"Sid": sid, "Action": actions, "Resource": resources}]
    special = dict(scope.action_conditions or {})
    create = [a for a in actions if scope.create_tag and a.split(":")[1].startswith(("Create", "Tag", "AddTags"))
              and a not in special]
    read = [a for a in actions if a.split(":")[1].startswith(_READ_PREFIXES)]
    rest = [a for a in actions if a not in create and a not in read and a not in special]
    statements = [{"Sid": f"{sid}Read", "Action": read, "Resource": resources}]
    for index, action in enumerate(sorted(a for a in actions if a in special)):
        condition = dict(special[action])
        if scope.resource_tag:
            condition.update(resource_tagged)
        statements.append({"Sid": f"{sid}Condition{index}", "Action": [action], "Resource": resources,
                           "Condition": condition})
    if create:
        condition = {"StringEquals": {f"aws:RequestTag/{launch.team_tag}": launch.team}} if scope.create_tag else None
        statements.append({"Sid": f"{sid}Create", "Action": create, "Resource": resources,
                           **({"Condition": condition} if condition else {})})
    if rest:
        condition = resource_tagged if scope.resource_tag else None
        statements.append({"Sid": f"{sid}Change", "Action": rest, "Resource": resources,
                           **({"Condition": condition} if condition else {})})
    return statements


def _fill(template: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


# IAM's limit on a customer-managed policy is 6,144 characters without whitespace; the Fn::Sub
# text is an upper bound of the deployed size (pseudo parameters resolve to shorter values).
MAX_POLICY_CHARACTERS = 6000


def split_statements(statements: list[dict[str, Any]], limit: int = MAX_POLICY_CHARACTERS) -> list[list[dict[str, Any]]]:
    """Consecutive groups of statements, each group's document within ``limit`` characters."""
    groups: list[list[dict[str, Any]]] = [[]]
    for statement in statements:
        candidate = groups[-1] + [statement]
        if groups[-1] and _size(candidate) > limit:
            groups.append([statement])
        else:
            groups[-1] = candidate
    return groups


def _size(statements: list[dict[str, Any]]) -> int:
    return len(json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))


class ProductLaunchRole(Construct):
    """The launch role of one team's portfolio (see the module docstring).

    The role exists first, with its fixed name, so launch constraints can name it
    (``LocalRoleName``, the same in every account the portfolio is shared with); its policy is
    generated by :meth:`allow_resource_types` once the products are known. The role carries the
    team's launch boundary (``launch_scope.own_boundary_name``).

    :param role_name: the role's name, the same in every account of the team.
    :param launch_scope: the team the role is held to, and the names of its resources.
    """

    def __init__(self, scope: Construct, construct_id: str, *, role_name: str, launch_scope: LaunchScope) -> None:
        super().__init__(scope, construct_id)
        self.launch_scope = launch_scope
        service, purpose = (("servicecatalog.amazonaws.com", "Service Catalog launch role") if launch_scope.service_catalog
                            else ("cloudformation.amazonaws.com", "CloudFormation role of the SageMaker projects"))
        self.role = iam.Role(
            self, "Role", role_name=role_name, assumed_by=iam.ServicePrincipal(service),
            permissions_boundary=iam.ManagedPolicy.from_managed_policy_name(
                self, "Boundary", launch_scope.own_boundary_name or launch_scope.boundary_name),
            description=f"{purpose} of team {launch_scope.team}'s project templates (generated policy)",
        )
        self.statements: list[dict[str, Any]] = []

    def allow_resource_types(self, resource_types: Iterable[str]) -> None:
        """Give the role what CloudFormation needs to manage ``resource_types`` for the team."""
        if self.statements:
            raise ValueError("the launch role's policy is already generated")
        team = self.launch_scope.team
        self.statements = launch_statements(self.launch_scope, sorted(resource_types))
        self.policies = [
            iam.ManagedPolicy(self, f"Policy{index}" if index else "Policy", roles=[self.role],
                              description=f"Launch role of team {team}'s project templates ({index + 1})",
                              document=policy_document(part))
            for index, part in enumerate(split_statements(self.statements))]
        for policy, part in zip(self.policies, split_statements(self.statements)):
            self._acknowledge(policy, part)

    def _acknowledge(self, policy: iam.ManagedPolicy, statements: list[dict[str, Any]]) -> None:
        scope = self.launch_scope
        held = (f"generated from the resource handler permissions of the team's templates; every resource pattern "
                f"is held to team {scope.team}: its name prefix, the project IAM path, its {scope.team_tag} tag, "
                "its SSM parameters")
        if scope.service_catalog:
            why = (f"{held}, or the SC-<account>-pp- names of provisioned-product stacks; the Resource '*' statements "
                   "are read-only calls without resource types and the Service Catalog template read, which a "
                   "servicecatalog:provisioning object-tag condition limits")
        else:
            why = (f"{held} (no stack and no CloudFormation-generated name: SageMaker names the project stacks); the "
                   "Resource '*' statement is read-only calls without resource types")
        acknowledge_wildcards(policy, nag_document(statements), why)
