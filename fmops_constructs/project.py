"""Building blocks of self-service project templates: Service Catalog product stacks a team
launches in one of its accounts, from Service Catalog, SageMaker Studio or ``fmops provision``.

A product template knows names at synth time (organisation, team, its models) and reads every
deploy-time ID of the account (VPC, subnets, keys, guardrail, seed bundle) from SSM parameters
that the team's catalog stack writes under ``/<org>/catalog/<team>/``. Its CloudFormation
parameters are the two SageMaker passes (``SageMakerProjectName``, ``SageMakerProjectId``),
the template's own choices, and those SSM parameters (typed ``AWS::SSM::Parameter::Value``,
with defaults, grouped as "Platform (do not change)"). So one template works in each account
of the team, which is what sharing a portfolio from the governance account needs, and it can
also be registered as an S3-based SageMaker project template unchanged.

Every role a product creates lives under the IAM path ``/<org>/projects/<team>/`` and carries
the team's permission boundary; every resource is named ``<team>-<project>-<suffix>`` where it
takes a name, and tagged with the project, so the launch role's policy can be narrow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import jsii
from aws_cdk import (Aspects, CfnCondition, CfnOutput, CfnParameter, CfnResource, Fn, IAspect, RemovalPolicy, Stack,
                     Tags, Token)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicecatalog as servicecatalog
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from fmops_constructs.acknowledge import (acknowledge, acknowledge_resolved_wildcards, acknowledge_wildcards, nag_form,
                                          nag_notation, nag_statement)
from fmops_constructs.bedrock import GUARDRAIL_CONDITION_KEY, INVOKE_ACTIONS, BedrockModel, model_arns

# SageMaker's own constraints on the two parameters it passes (botocore's sagemaker model:
# ProjectEntityName and ProjectId).
PROJECT_NAME_PATTERN = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$"
PROJECT_ID_PATTERN = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,19}$"
# <team>-<project>-<suffix> must fit SageMaker's 63-character names: 20 + 1 + 32 + 1 + 9.
MAX_NAME_SUFFIX = 9
STUDIO_VISIBILITY_TAG = ("sagemaker:studio-visibility", "true")
PROJECT_NAME_TAG = "sagemaker:project-name"
PROJECT_ID_TAG = "sagemaker:project-id"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def unresolved(value: Any) -> bool:
    """``Token.is_unresolved`` for strings and lists without a call into the jsii kernel, which
    costs ~0.1 ms and is made tens of thousands of times per synth here: CDK encodes a string
    token as ``${Token[...]}`` and a list token as an element ``#{Token[...]}``."""
    if isinstance(value, str):
        return "${Token[" in value
    if isinstance(value, list):
        return any(isinstance(v, str) and "#{Token[" in v for v in value)
    return Token.is_unresolved(value)


def sub(text: str) -> str:
    """``Fn::Sub`` for text with ``${...}`` variables; tokens and plain text as they are."""
    if unresolved(text) or not _SUB_VARIABLE.search(text):
        return text
    return Fn.sub(text)


def role_path(organisation: str, team: str) -> str:
    """IAM path of every role and policy that the team's projects create."""
    return f"/{organisation}/projects/{team}/"


def catalog_parameter_prefix(organisation: str, team: str) -> str:
    return f"/{organisation}/catalog/{team}"


class PlatformValue(Enum):
    """Deploy-time values of the team's account that products read from SSM parameters.

    Each member is (parameter key, CloudFormation parameter type, description).
    """

    VPC_ID = ("vpc-id", "String", "VPC of the account (internet-free)")
    SUBNET_IDS = ("subnet-ids", "List<String>", "Isolated subnets of the VPC")
    SECURITY_GROUP_ID = ("security-group-id", "String", "Security group of the team's project workloads")
    S3_ENDPOINT_ID = ("s3-endpoint-id", "String", "S3 gateway endpoint of the VPC")
    API_ENDPOINT_ID = ("execute-api-endpoint-id", "String", "execute-api interface endpoint of the VPC")
    DATA_KEY_ARN = ("data-key-arn", "String", "KMS key of the team's data bucket")
    PROJECT_KEY_ARN = ("project-key-arn", "String", "KMS key of the team's project resources and logs")
    GUARDRAIL_ARN = ("guardrail-arn", "String", "The team's Bedrock guardrail")
    GUARDRAIL_KEY_ARN = ("guardrail-key-arn", "String", "KMS key of the team's guardrail")
    SEED_BUCKET = ("seed-bucket", "String", "Bucket of the templates' seed code bundles")
    PROMOTION_ACCOUNT = ("promotion-account", "String", "The team's next-stage account, or none")
    LABELING_USER_POOL_ID = ("labeling-user-pool-id", "String", "Cognito user pool of the account's labelers")
    LABELING_CLIENT_ID = ("labeling-client-id", "String", "App client of the labelers' user pool")

    @property
    def key(self) -> str:
        return self.value[0]

    @property
    def cfn_type(self) -> str:
        return f"AWS::SSM::Parameter::Value<{self.value[1]}>"

    @property
    def is_list(self) -> bool:
        return self.value[1].startswith("List")

    @property
    def description(self) -> str:
        return self.value[2]


def seed_key_parameter(template_id: str) -> str:
    """Key (below the catalog prefix) of the parameter naming a template's seed bundle object."""
    return f"seed/{template_id}"


@dataclass(frozen=True)
class SourceSpec:
    """Where the project's code lives (``ProjectSource`` of the team's catalog config)."""

    kind: str = "s3"
    connection_arn: str | None = None
    accepted_because: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("s3", "codecommit", "codeconnections"):
            raise ValueError(f"unknown source kind {self.kind!r}")
        if (self.kind == "codeconnections") != (self.connection_arn is not None):
            raise ValueError("connection_arn is required with kind codeconnections and only there")


@dataclass(frozen=True)
class ImageRegistry:
    """The organisation's private ECR registry (the package mirror): images are
    ``<account>.dkr.ecr.<region>.amazonaws.com/<namespace>/<name>:<tag>``."""

    account: str
    region: str
    namespace: str

    @property
    def host(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"

    def image(self, name: str) -> str:
        return f"{self.host}/{self.namespace}/{name}"

    @property
    def repositories_arn(self) -> str:
        return f"arn:${{AWS::Partition}}:ecr:{self.region}:{self.account}:repository/{self.namespace}/*"


@dataclass(frozen=True)
class ProjectTemplateProps:
    """What a product template of one team is built from (all known at synth time)."""

    organisation: str
    team: str
    template_id: str
    version: str
    source: SourceSpec = SourceSpec()
    images: ImageRegistry | None = None
    bedrock_models: tuple[BedrockModel, ...] = ()
    hosting_models: Mapping[str, str] = field(default_factory=dict)
    log_retention_days: int = 365

    @property
    def path(self) -> str:
        return role_path(self.organisation, self.team)

    @property
    def parameter_prefix(self) -> str:
        return catalog_parameter_prefix(self.organisation, self.team)


def json_text(value: Any) -> str:
    """``value`` as JSON text that may contain deploy-time values (an ``Fn::Join``).

    CDK's ``Stack.to_json_string`` turns a list token (a ``List<String>`` parameter) into a
    custom resource with a Lambda function; here a list token becomes ``["a","b"]`` through
    ``Fn::Join`` and nothing runs at deploy time. Deploy-time strings are IDs, ARNs and names,
    which need no JSON escaping.
    """
    parts: list[str] = []

    def emit(item: Any) -> None:
        if isinstance(item, str):
            parts.extend(['"', item, '"'] if unresolved(item) else [json.dumps(item)])
        elif isinstance(item, list) and unresolved(item):
            parts.extend(['["', Fn.join('","', item), '"]'])
        elif isinstance(item, (list, tuple)):
            parts.append("[")
            for index, element in enumerate(item):
                parts.append("," if index else "")
                emit(element)
            parts.append("]")
        elif isinstance(item, Mapping):
            parts.append("{")
            for index, (key, element) in enumerate(item.items()):
                parts.append(("," if index else "") + json.dumps(key) + ":")
                emit(element)
            parts.append("}")
        else:
            parts.append(json.dumps(item))

    emit(value)
    merged: list[str] = []
    for part in parts:
        if merged and not unresolved(part) and not unresolved(merged[-1]):
            merged[-1] += part
        else:
            merged.append(part)
    return Fn.join("", merged)


def policy_document(statements: Sequence[Mapping[str, Any]]) -> iam.PolicyDocument:
    """A policy document from statements whose strings may hold ``${...}`` variables (each such
    string becomes ``Fn::Sub``)."""
    def value(item: Any) -> Any:
        if isinstance(item, str):
            return sub(item)
        if isinstance(item, list):
            return [value(v) for v in item]
        if isinstance(item, dict):
            return {k: value(v) for k, v in item.items()}
        return item
    return iam.PolicyDocument.from_json({"Version": "2012-10-17", "Statement": [value(dict(s)) for s in statements]})


def nag_document(statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The same statements as cdk-nag names them, for :func:`acknowledge_wildcards`."""
    def names(resources: Any) -> list[str]:
        return [nag_form(r) for r in ([resources] if isinstance(resources, str) else resources)]
    return {"Statement": [{**s, "Resource": names(s["Resource"])} for s in statements]}


@dataclass(frozen=True)
class Grant:
    """One Allow statement; resources are ``Fn::Sub`` templates (``${AWS::Region}``,
    ``${SageMakerProjectName}``...) so the same policy reads the same in every account and its
    cdk-nag findings can be named in advance."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] | None = None

    def statement(self) -> iam.PolicyStatement:
        conditions = ({operator: {key: sub(value) if isinstance(value, str) else value
                                  for key, value in block.items()}
                       for operator, block in self.conditions.items()} if self.conditions else None)
        return iam.PolicyStatement(actions=list(self.actions), resources=[sub(r) for r in self.resources],
                                   conditions=conditions)

    def nag_statement(self, scope: IConstruct) -> dict[str, Any]:
        """The statement as cdk-nag sees it, for acknowledging its wildcards one by one."""
        resources = [nag_notation(Stack.of(scope).resolve(sub(r))) for r in self.resources]
        return {"Effect": "Allow", "Action": list(self.actions), "Resource": resources}


class ProjectRole(Construct):
    """A service role of a project: assumed by one AWS service, its permissions one customer-managed
    policy built from :class:`Grant` s (under the project path, with the team's boundary applied
    by the product stack), every wildcard acknowledged with ``why``."""

    def __init__(self, scope: Construct, construct_id: str, *, service: str, description: str,
                 grants: Sequence[Grant], why: str) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal(service), description=description)
        self._why = why
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self.role], description=description,
                                        statements=[g.statement() for g in grants])
        self.policies = [self.policy]
        self._grants = list(grants)
        self._acknowledged: set[str] = set()
        self._acknowledge(self._grants)

    def add_policy(self, construct_id: str, statements: Sequence[iam.PolicyStatement], description: str) -> None:
        """Another managed policy of the role, for statements built elsewhere (e.g.
        :class:`TeamGuardrailAccess`); their wildcards (the geography of a cross-Region model)
        are acknowledged one by one with the role's reason."""
        policy = iam.ManagedPolicy(self, construct_id, roles=[self.role], description=description,
                                   statements=list(statements))
        self.policies.append(policy)
        acknowledge_resolved_wildcards(policy, list(statements), self._why)

    def add_grants(self, *grants: Grant) -> None:
        for grant in grants:
            self.policy.add_statements(grant.statement())
        self._grants += grants
        self._acknowledge(list(grants))

    def _acknowledge(self, grants: list[Grant]) -> None:
        document = {"Statement": [g.nag_statement(self) for g in grants]}
        acknowledge_wildcards(self.policy, document, self._why)

    @property
    def role_arn(self) -> str:
        return self.role.role_arn


@jsii.implements(IAspect)
class ProjectRolePlacement:
    """Puts every role and managed policy of a product stack under the team's project path, the
    one the launch role may create, including the roles CDK's L2 constructs create."""

    def __init__(self, path: str) -> None:
        self._path = path

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, CfnResource) and node.cfn_resource_type in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy"):
            node.add_property_override("Path", self._path)


@jsii.implements(IAspect)
class GeneratedPolicyWildcards:
    """Acknowledge, one finding at a time, the AwsSolutions-IAM5 wildcards of the inline policies
    that CDK's L2 constructs generate in a product stack (CodePipeline, EventBridge targets),
    rendered the way cdk-nag names them, and their inline-policy finding."""

    def __init__(self, why: str) -> None:
        self._why = why

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, iam.CfnPolicy):
            return
        document = Stack.of(node).resolve(node.policy_document)
        rendered = {"Statement": [nag_statement(s) for s in document.get("Statement", [])]}
        acknowledge_wildcards(node, rendered, self._why)
        acknowledge(node, "scoped-inline-policy")


class ProjectProductStack(servicecatalog.ProductStack):
    """Base of every template's product stack.

    Declares ``SageMakerProjectName`` and ``SageMakerProjectId``, tags every resource with them
    and with the template id, gives every role the team's permission boundary and the project
    path, and reads platform values through :meth:`platform`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ProjectTemplateProps, description: str) -> None:
        super().__init__(scope, construct_id, description=description)
        self.props = props
        self.project_name_parameter = CfnParameter(
            self, "SageMakerProjectName", type="String", allowed_pattern=PROJECT_NAME_PATTERN, max_length=32,
            description="Project name: letters, digits and hyphens, at most 32 (names the project's resources)",
            constraint_description="1-32 letters, digits or single hyphens, starting and ending with a letter or digit")
        self.project_id_parameter = CfnParameter(
            self, "SageMakerProjectId", type="String", allowed_pattern=PROJECT_ID_PATTERN, max_length=20,
            description="Project id (set by SageMaker, or by `fmops provision`)")
        self._platform: dict[PlatformValue, CfnParameter] = {}
        self._seed: CfnParameter | None = None
        self._choices: list[str] = []
        boundary = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{props.organisation}-{props.team}-boundary"
        iam.PermissionsBoundary.of(self).apply(
            iam.ManagedPolicy.from_managed_policy_arn(self, "TeamBoundary", Fn.sub(boundary)))
        Aspects.of(self).add(ProjectRolePlacement(props.path))
        Aspects.of(self).add(GeneratedPolicyWildcards(
            "CDK generates this policy for a project role; its wildcards are the CDK grant patterns (s3:GetObject*, "
            "s3:List*...) on the project's own artifact bucket, key and pipeline"))
        for key, value in ((PROJECT_NAME_TAG, self.project_name), (PROJECT_ID_TAG, self.project_id),
                           ("fmops:template", props.template_id), ("fmops:template-version", props.version)):
            Tags.of(self).add(key, value)
        Aspects.of(self).add(_ParameterGroups())

    # -- parameters -----------------------------------------------------------------------------
    @property
    def project_name(self) -> str:
        return self.project_name_parameter.value_as_string

    @property
    def project_id(self) -> str:
        return self.project_id_parameter.value_as_string

    def platform(self, value: PlatformValue) -> CfnParameter:
        """The SSM-backed parameter of a platform value (created on first use)."""
        if value not in self._platform:
            self._platform[value] = CfnParameter(
                self, "Platform" + "".join(p.capitalize() for p in value.key.split("-")),
                type=value.cfn_type, default=f"{self.props.parameter_prefix}/{value.key}",
                description=f"{value.description} (SSM parameter written by the team's catalog stack)")
        return self._platform[value]

    @property
    def platform_values(self) -> set[PlatformValue]:
        """The platform values this template reads (each must be written by the catalog stack)."""
        values = set(self._platform)
        if self._seed is not None:
            values.add(PlatformValue.SEED_BUCKET)
        return values

    def platform_string(self, value: PlatformValue) -> str:
        return self.platform(value).value_as_string

    def platform_list(self, value: PlatformValue) -> list[str]:
        return self.platform(value).value_as_list

    @property
    def seed_key(self) -> str:
        """Object key of this template's seed bundle (a zip) in the seed bucket."""
        if self._seed is None:
            self._seed = CfnParameter(
                self, "PlatformSeedKey", type=PlatformValue.SEED_BUCKET.cfn_type,
                default=f"{self.props.parameter_prefix}/{seed_key_parameter(self.props.template_id)}",
                description="Object key of the template's seed code bundle (SSM parameter written by the catalog stack)")
        return self._seed.value_as_string

    @property
    def seed_uri(self) -> str:
        """``s3://`` URI of this template's seed bundle."""
        self.platform(PlatformValue.SEED_BUCKET)
        _ = self.seed_key
        return Fn.sub("s3://${PlatformSeedBucket}/${PlatformSeedKey}")

    SEED_OBJECT_ARN = "arn:${AWS::Partition}:s3:::${PlatformSeedBucket}/${PlatformSeedKey}"

    def choice(self, construct_id: str, **kwargs: Any) -> CfnParameter:
        """A parameter the launching user fills in (shown first, under "Project")."""
        parameter = CfnParameter(self, construct_id, **kwargs)
        self._choices.append(construct_id)
        return parameter

    # -- names ------------------------------------------------------------------------------
    def resource_name(self, suffix: str = "") -> str:
        """``<team>-<project>[-<suffix>]``: unique in the account, at most 63 characters."""
        if len(suffix) > MAX_NAME_SUFFIX - 1:
            raise ValueError(f"name suffix {suffix!r} is longer than {MAX_NAME_SUFFIX - 1} characters")
        return Fn.sub(f"{self.props.team}-${{SageMakerProjectName}}" + (f"-{suffix}" if suffix else ""))

    @property
    def team_bucket_name(self) -> str:
        return Fn.sub(self.team_bucket_template)

    @property
    def team_bucket_template(self) -> str:
        """``Fn::Sub`` text of the team's data bucket name (deterministic, created by the team stack)."""
        return f"{self.props.organisation}-{self.props.team}-data-${{AWS::AccountId}}-${{AWS::Region}}"

    @property
    def project_prefix(self) -> str:
        """Key prefix of the project's objects in the team bucket (``Fn::Sub`` text)."""
        return "projects/${SageMakerProjectName}/"

    def team_bucket_uri(self, key: str) -> str:
        return Fn.sub(f"s3://{self.team_bucket_template}/{key}")

    def log_group_name(self, purpose: str) -> str:
        """``/<org>/<team>/projects/<project>/<purpose>``: covered by the project key's Logs grant."""
        return Fn.sub(f"/{self.props.organisation}/{self.props.team}/projects/${{SageMakerProjectName}}/{purpose}")

    # -- shared resources -------------------------------------------------------------------------
    @property
    def project_key(self) -> kms.IKey:
        if not hasattr(self, "_project_key"):
            self._project_key = kms.Key.from_key_arn(self, "ProjectKey",
                                                     self.platform_string(PlatformValue.PROJECT_KEY_ARN))
        return self._project_key

    @property
    def data_key(self) -> kms.IKey:
        if not hasattr(self, "_data_key"):
            self._data_key = kms.Key.from_key_arn(self, "DataKey", self.platform_string(PlatformValue.DATA_KEY_ARN))
        return self._data_key

    def log_group(self, construct_id: str, purpose: str) -> logs.CfnLogGroup:
        """A log group of the project, encrypted with the project key and retained as configured."""
        group = logs.CfnLogGroup(self, construct_id, log_group_name=self.log_group_name(purpose),
                                 kms_key_id=self.project_key.key_arn,
                                 retention_in_days=self.props.log_retention_days)
        group.apply_removal_policy(RemovalPolicy.RETAIN)
        return group

    def notification_topic(self, construct_id: str = "Notifications") -> sns.Topic:
        """The project's SNS topic (project key, TLS only); subscribe the team to it."""
        topic = sns.Topic(self, construct_id, topic_name=self.resource_name("events"), master_key=self.project_key,
                          enforce_ssl=True, display_name="FMOps project notifications")
        CfnOutput(self, f"{construct_id}TopicArn", value=topic.topic_arn,
                  description="Subscribe the project's team (e-mail, chat) to this topic")
        return topic

    def condition(self, construct_id: str, expression: Any) -> CfnCondition:
        return CfnCondition(self, construct_id, expression=expression)

    def write_parameter_groups(self) -> None:
        """The stack's ``AWS::CloudFormation::Interface``: the user's choices first, the platform
        values last (called by :class:`_ParameterGroups` once every parameter exists)."""
        platform = [p.node.id for p in self._platform.values()] + (["PlatformSeedKey"] if self._seed else [])
        self.template_options.metadata = {"AWS::CloudFormation::Interface": {"ParameterGroups": [
            {"Label": {"default": "Project"},
             "Parameters": ["SageMakerProjectName", "SageMakerProjectId", *self._choices]},
            {"Label": {"default": "Platform (do not change: written by the team's catalog stack)"},
             "Parameters": platform},
        ]}}


@jsii.implements(IAspect)
class _ParameterGroups:
    """``AWS::CloudFormation::Interface`` of a product stack: the user's choices first, the
    platform values last (written when every parameter exists)."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, ProjectProductStack):
            node.write_parameter_groups()


def network_interface_grants(*, lambda_function: bool = False) -> list[Grant]:
    """What a service needs to attach a project workload to the VPC: the network-interface calls
    (no resource-level scope before the interface exists; held to the stack's Region), the
    Describe calls, and the ECR login of image pulls."""
    writes = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]
    writes += (["ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"] if lambda_function else
               ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterfacePermission"])
    reads = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    if not lambda_function:
        reads += ["ec2:DescribeVpcs", "ec2:DescribeDhcpOptions", "ec2:DescribeSecurityGroups",
                  "ecr:GetAuthorizationToken"]
    return [Grant(tuple(writes), ("*",), {"StringEquals": {"aws:RequestedRegion": "${AWS::Region}"}}),
            Grant(tuple(reads), ("*",))]



class ProjectFunction(Construct):
    """A Python Lambda function of a project: code from the template's seed bundle, in the VPC's
    isolated subnets with the team's project security group, logs in a project log group,
    environment encrypted with the project key, reserved concurrency so a runaway caller cannot
    starve the account.

    :param handler: ``module.function`` inside the seed bundle.
    :param grants: what the function may do besides writing its logs and using the VPC.
    :param dead_letters: where failed asynchronous invocations are published.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack, handler: str,
                 name_suffix: str, description: str, environment: Mapping[str, str], grants: Sequence[Grant],
                 why: str, dead_letters: sns.ITopic, timeout_seconds: int = 60, memory_mb: int = 512,
                 reserved_concurrency: int = 10) -> None:
        super().__init__(scope, construct_id)
        self.log_group = stack.log_group("LogGroup", f"lambda/{name_suffix}")
        log_arn = Fn.sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
                         f"/{stack.props.organisation}/{stack.props.team}/projects/${{SageMakerProjectName}}/lambda/"
                         f"{name_suffix}:*")
        self.execution_role = ProjectRole(
            self, "Execution", service="lambda.amazonaws.com", description=f"Lambda function {name_suffix} of a project",
            grants=[Grant(("logs:CreateLogStream", "logs:PutLogEvents"), (log_arn,)),
                    *network_interface_grants(lambda_function=True), Grant(("sns:Publish",), (dead_letters.topic_arn,)),
                    *grants],
            why=why + "; ec2 network-interface calls have no resource-level scope (Lambda in the VPC)")
        self.function = lambda_.CfnFunction(
            self, "Function",
            function_name=stack.resource_name(name_suffix),
            description=description,
            runtime=PYTHON_RUNTIME,
            handler=handler,
            code=lambda_.CfnFunction.CodeProperty(
                s3_bucket=stack.platform_string(PlatformValue.SEED_BUCKET), s3_key=stack.seed_key),
            role=self.execution_role.role_arn,
            timeout=timeout_seconds,
            memory_size=memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            kms_key_arn=stack.project_key.key_arn,
            environment=lambda_.CfnFunction.EnvironmentProperty(variables=dict(environment)),
            vpc_config=lambda_.CfnFunction.VpcConfigProperty(
                subnet_ids=stack.platform_list(PlatformValue.SUBNET_IDS),
                security_group_ids=[stack.platform_string(PlatformValue.SECURITY_GROUP_ID)]),
            logging_config=lambda_.CfnFunction.LoggingConfigProperty(log_group=self.log_group.ref, log_format="JSON"),
            dead_letter_config=lambda_.CfnFunction.DeadLetterConfigProperty(target_arn=dead_letters.topic_arn),
        )
        self.function.node.add_dependency(self.execution_role)
        self.function_arn = self.function.attr_arn


PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14.name


class TeamGuardrailAccess(Construct):
    """Invoke and converse on the team's Bedrock models, only through the team's guardrail (created
    by its GenAI stack, read from the catalog's SSM parameters), in any of its published versions.

    Unlike :class:`fmops_constructs.bedrock.GovernedModelAccess`, which pins one version, a
    project follows the team guardrail: its code asks Bedrock for the latest published version
    (``ListGuardrails``) and names it in every call. Pinning would need the version in the
    template, and the version changes whenever the platform changes the guardrail's policy. The
    DRAFT version is refused: it changes without a review.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack) -> None:
        super().__init__(scope, construct_id)
        self.guardrail_arn = stack.platform_string(PlatformValue.GUARDRAIL_ARN)
        self.key_arn = stack.platform_string(PlatformValue.GUARDRAIL_KEY_ARN)
        self._models = stack.props.bedrock_models

    def policy_statements(self) -> list[iam.PolicyStatement]:
        models = model_arns(self, self._models)
        published = Fn.join(":", [self.guardrail_arn, "*"])
        draft = Fn.join(":", [self.guardrail_arn, "DRAFT"])
        invoke = list(INVOKE_ACTIONS)
        return [
            iam.PolicyStatement(actions=invoke, resources=models,
                                conditions={"StringLike": {GUARDRAIL_CONDITION_KEY: published}}),
            iam.PolicyStatement(effect=iam.Effect.DENY, actions=invoke, resources=models,
                                conditions={"StringNotLike": {GUARDRAIL_CONDITION_KEY: published}}),
            iam.PolicyStatement(effect=iam.Effect.DENY, actions=invoke, resources=models,
                                conditions={"StringEquals": {GUARDRAIL_CONDITION_KEY: draft}}),
            iam.PolicyStatement(actions=["bedrock:ApplyGuardrail", "bedrock:GetGuardrail", "bedrock:ListGuardrails"],
                                resources=[self.guardrail_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.key_arn]),
        ]
