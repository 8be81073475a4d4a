"""The base of every template's product stack: its SageMaker project parameters, the platform
values it reads, the names it gives, and the rules every role in it follows."""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import Aspects, CfnCondition, CfnOutput, CfnParameter, CfnResource, Fn, IAspect, RemovalPolicy, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicecatalog as servicecatalog
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from fmops_constructs.acknowledge import acknowledge, acknowledge_wildcards, nag_statement
from fmops_constructs.alarm_topic import dead_letter_alarm
from fmops_constructs.log_group import acknowledge_log_group
from fmops_constructs.product.props import (PROJECT_ID_PATTERN, PROJECT_ID_TAG, PROJECT_NAME_PATTERN, PROJECT_NAME_TAG,
                                            PlatformValue, ProjectTemplateProps)
from fmops_constructs.sagemaker_images import AwsImage

# <team>-<project>-<suffix> must fit SageMaker's 63-character names: 20 + 1 + 32 + 1 + 9.
MAX_NAME_SUFFIX = 9
# The folder of each project's objects in the team bucket, and of its log groups below the
# team's log group prefix: projects/<project>/.
PROJECTS = "projects"
# An ECR image tag (Docker's rule).
IMAGE_TAG_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
# What a product names the account and Region of its launch with: bucket names are Fn::Sub text.
ACCOUNT_AND_REGION = ("${AWS::AccountId}", "${AWS::Region}")


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
    and with ``props.tags``, gives every role the team's permission boundary
    (``props.boundary_name``) and the project path (``props.role_path``), and reads platform
    values through :meth:`platform`.
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
        self._team_topic: sns.ITopic | None = None
        self._choices: list[str] = []
        self.image_repository_arns: list[str] = []
        boundary = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{props.boundary_name}"
        iam.PermissionsBoundary.of(self).apply(
            iam.ManagedPolicy.from_managed_policy_arn(self, "TeamBoundary", Fn.sub(boundary)))
        # One Aspect for the three rules: CDK calls a Python Aspect back over jsii for every construct.
        Aspects.of(self).add(_Rules(ProjectRolePlacement(props.role_path), GeneratedPolicyWildcards(
            "CDK generates this policy for a project role; its wildcards are the CDK grant patterns (s3:GetObject*, "
            "s3:List*...) on the project's own artifact bucket, key and pipeline"), _ParameterGroups()))
        for key, value in ((PROJECT_NAME_TAG, self.project_name), (PROJECT_ID_TAG, self.project_id),
                           *props.tags.items()):
            Tags.of(self).add(key, value)

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
                self, "PlatformSeedKey", type=PlatformValue.SEED_BUCKET.cfn_type, default=self.props.seed_parameter,
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

    @property
    def choice_names(self) -> tuple[str, ...]:
        """The parameters the launching user fills in (:meth:`choice`), in their order."""
        return tuple(self._choices)

    def image(self, slot: str, default: AwsImage) -> str:
        """URI of the image of one of the template's steps (``slot``: lower case, e.g. ``processing``).

        By default the AWS-provided ``default``, resolved in the organisation's Region at synth time
        (nothing to push). The launching user may opt in to a custom image instead: the parameter
        ``<Slot>ImageTag`` set to a tag of the mirror repository ``<namespace>/<template>-<slot>``
        (:meth:`ImageRegistry.custom_repository`, created by the app). Both repositories are added
        to :attr:`image_repository_arns` (``Fn::Sub`` text), which the roles that run the image may
        pull from.
        """
        images = self.props.images
        if images is None:
            raise ValueError(f"{self.props.template_id} runs containers: it needs the organisation's image registry")
        name = "".join(part.capitalize() for part in slot.split("-"))
        repository = images.custom_repository(self.props.template_id, slot)
        aws = default.uri(images.region)
        tag = self.choice(f"{name}ImageTag", type="String", default="", allowed_pattern=f"^$|{IMAGE_TAG_PATTERN}",
                          constraint_description="empty, or an image tag: letters, digits, _ . -",
                          description=f"Empty: the AWS-provided {default.purpose or slot} image {aws}. A tag: the "
                                      f"custom image {repository}:<tag> of the organisation's ECR mirror")
        custom = self.condition(f"Custom{name}Image", Fn.condition_not(Fn.condition_equals(tag.value_as_string, "")))
        for arn in (default.repository_arn(images.region), images.repository_arn(repository)):
            if arn not in self.image_repository_arns:
                self.image_repository_arns.append(arn)
        return Fn.condition_if(custom.logical_id, Fn.join("", [f"{images.host}/{repository}:", tag.value_as_string]),
                               aws).to_string()

    # -- names ------------------------------------------------------------------------------
    @property
    def name_prefix(self) -> str:
        """``<team>-``: the prefix of every name the team's products give (and the team's model
        package groups, ``<team>-<project>``)."""
        return f"{self.props.team}-"

    def name_template(self, suffix: str = "") -> str:
        """``Fn::Sub`` text of ``<team>-<project>[-<suffix>]``."""
        return f"{self.name_prefix}${{SageMakerProjectName}}" + (f"-{suffix}" if suffix else "")

    def resource_name(self, suffix: str = "") -> str:
        """``<team>-<project>[-<suffix>]``: unique in the account, at most 63 characters."""
        if len(suffix) > MAX_NAME_SUFFIX - 1:
            raise ValueError(f"name suffix {suffix!r} is longer than {MAX_NAME_SUFFIX - 1} characters")
        return Fn.sub(self.name_template(suffix))

    @property
    def team_bucket_name(self) -> str:
        return Fn.sub(self.team_bucket_template)

    @property
    def team_bucket_template(self) -> str:
        """``Fn::Sub`` text of the team's data bucket name (``props.team_bucket``)."""
        return self.props.team_bucket(*ACCOUNT_AND_REGION)

    @property
    def promoted_models_bucket_template(self) -> str:
        """``Fn::Sub`` text of the name of the bucket where models promoted from the team's previous
        stage arrive (``props.promoted_models_bucket``)."""
        return self.props.promoted_models_bucket(*ACCOUNT_AND_REGION)

    @property
    def access_log_bucket_template(self) -> str:
        """``Fn::Sub`` text of the name of the account's access-log bucket (``props.access_log_bucket``)."""
        return self.props.access_log_bucket(*ACCOUNT_AND_REGION)

    @property
    def project_prefix(self) -> str:
        """Key prefix of the project's objects in the team bucket (``Fn::Sub`` text)."""
        return f"{PROJECTS}/${{SageMakerProjectName}}/"

    def team_bucket_uri(self, key: str) -> str:
        return Fn.sub(f"s3://{self.team_bucket_template}/{key}")

    def log_group_name_template(self, purpose: str) -> str:
        """``Fn::Sub`` text of ``<log group prefix>projects/<project>/<purpose>``, covered by the
        project key's Logs grant."""
        return f"{self.props.log_group_prefix}{PROJECTS}/${{SageMakerProjectName}}/{purpose}"

    def log_group_name(self, purpose: str) -> str:
        return Fn.sub(self.log_group_name_template(purpose))

    @property
    def model_package_tags(self) -> dict[str, str]:
        """Tags of the model packages the project's pipelines register: the team (``props.team_tag``)
        and the project."""
        return {self.props.team_tag: self.props.team, PROJECT_NAME_TAG: self.project_name}

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

    # -- experiment tracking ----------------------------------------------------------------------
    @property
    def tracks_experiments(self) -> bool:
        """Whether the team has an MLflow tracking server in the launching account."""
        return bool(self.props.mlflow_tracking_server)

    def mlflow_grants(self) -> list[Any]:
        """What a job role needs to log runs to the team's tracking server: the tracking API on that
        server only (its ARN and the team tag), no Delete; the SSM parameter of its ARN. None
        when the team has no server."""
        if not self.tracks_experiments:
            return []
        from fmops_constructs.mlflow import MLFLOW_READ, MLFLOW_WRITE
        from fmops_constructs.product.grants import Grant

        arn = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
        server = f"{arn}:mlflow-tracking-server/{self.props.mlflow_tracking_server}"
        parameter = f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{self.props.mlflow_parameter}"
        return [Grant(tuple(MLFLOW_READ + MLFLOW_WRITE), (server,),
                      {"StringEquals": {f"aws:ResourceTag/{self.props.team_tag}": self.props.team}}),
                Grant(("ssm:GetParameter",), (parameter,))]

    def mlflow_environment(self, run_name: Any) -> dict[str, Any]:
        """The environment of a step that logs its run (``seed/tracking.py``): the SSM parameter of
        the server's ARN, the experiment (``<team>-<project>``) and ``run_name``. Empty without a server."""
        if not self.tracks_experiments:
            return {}
        return {"MLFLOW_TRACKING_SERVER_PARAMETER": self.props.mlflow_parameter,
                "MLFLOW_EXPERIMENT_NAME": self.resource_name(), "MLFLOW_RUN_NAME": run_name}

    def log_group(self, construct_id: str, purpose: str) -> logs.CfnLogGroup:
        """A log group of the project, encrypted with the project key and retained as configured."""
        group = logs.CfnLogGroup(self, construct_id, log_group_name=self.log_group_name(purpose),
                                 kms_key_id=self.project_key.key_arn,
                                 retention_in_days=self.props.log_retention_days)
        group.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge_log_group(group, retention_days=self.props.log_retention_days, key_in_template=False)
        return group

    def team_topic(self) -> sns.ITopic:
        """The team's alarm topic in the account (platform value): what the project's alarms and
        notifications (model approvals and rejections) publish to, and the team's subscribers
        (e-mail, chat) receive."""
        if self._team_topic is None:
            self._team_topic = sns.Topic.from_topic_arn(self, "TeamTopic",
                                                        self.platform_string(PlatformValue.ALARM_TOPIC_ARN))
        return self._team_topic

    def dead_letter_topic(self, construct_id: str = "Notifications") -> sns.Topic:
        """The project's dead-letter topic (project key, TLS only): where failed asynchronous
        invocations go. It has no subscriber on purpose: its messages are the failed events, with
        the requests' content (prompts, records), which must not leave AWS by e-mail or chat. An
        alarm on the messages it receives tells the team (:meth:`team_topic`) of every failure.
        Without a subscriber SNS keeps no message: what failed is in the function's log group; a
        team that wants the events themselves subscribes an encrypted queue of its own."""
        topic = sns.Topic(self, construct_id, topic_name=self.resource_name("events"), master_key=self.project_key,
                          enforce_ssl=True, display_name="FMOps project dead letters")
        dead_letter_alarm(self, f"{construct_id}Alarm", topic=topic, alarm_name=self.resource_name("dlq"),
                          description="Failed asynchronous invocations of the project's functions arrived in its "
                                      "dead-letter topic (payloads: the function's logs)",
                          alarm_topic_arn=self.team_topic().topic_arn)
        CfnOutput(self, f"{construct_id}TopicArn", value=topic.topic_arn,
                  description="Dead letters of the project's functions (the team's topic hears of each by alarm)")
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
class _Rules:
    """Several rules visited in one Aspect, in their order: one jsii callback per construct, not one per rule."""

    def __init__(self, *rules: IAspect) -> None:
        self._rules = rules

    def visit(self, node: IConstruct) -> None:
        for rule in self._rules:
            rule.visit(node)


@jsii.implements(IAspect)
class _ParameterGroups:
    """``AWS::CloudFormation::Interface`` of a product stack: the user's choices first, the
    platform values last (written when every parameter exists)."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, ProjectProductStack):
            node.write_parameter_groups()
