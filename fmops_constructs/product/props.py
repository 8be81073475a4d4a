"""What a product template is built from: its props, the platform values it reads from SSM, where
its code lives and the organisation's image registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from fmops_constructs.bedrock import BedrockModel

# SageMaker's own constraints on the two parameters it passes (botocore's sagemaker model:
# ProjectEntityName and ProjectId).
PROJECT_NAME_PATTERN = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$"
PROJECT_ID_PATTERN = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,19}$"
PROJECT_NAME_TAG = "sagemaker:project-name"
PROJECT_ID_TAG = "sagemaker:project-id"


class PlatformValue(Enum):
    """Deploy-time values of the team's account that products read from SSM parameters.

    Each member is (parameter key, CloudFormation parameter type, description); the parameter is
    ``<parameter_prefix>/<key>`` (:attr:`ProjectTemplateProps.parameter_prefix`).
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
    ALARM_TOPIC_ARN = ("alarm-topic-arn", "String", "The team's alarm topic (every alarm publishes to it)")
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


@dataclass(frozen=True)
class SourceSpec:
    """Where the project's code lives: ``s3`` (the seed bundle, then uploads), ``codecommit`` or
    ``codeconnections`` (with ``connection_arn`` and the reason the organisation accepts its Git
    host). Default: ``s3``."""

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

    def repository_arn(self, repository: str) -> str:
        """``Fn::Sub`` text of the ARN of one repository of the mirror."""
        return f"arn:${{AWS::Partition}}:ecr:{self.region}:{self.account}:repository/{repository}"

    def custom_repository(self, template_id: str, slot: str) -> str:
        """``<namespace>/<template>-<slot>``: the mirror repository of a template step's custom image
        (created by the app, empty until the platform team builds a custom image into it)."""
        return f"{self.namespace}/{template_id}-{slot}"


BucketName = Callable[[str, str], str]
"""The name of a bucket in an account and Region: ``(account, region) -> name``."""


@dataclass(frozen=True)
class ProjectTemplateProps:
    """What a product template of one team is built from (all known at synth time).

    Every name of something the product does not create comes from the app, which owns it; the
    product builds only the names of its own resources from ``team``
    (:meth:`~fmops_constructs.product.stack.ProjectProductStack.resource_name`). Bucket names are
    :data:`BucketName` functions of the account and Region, which the product calls with
    ``${AWS::AccountId}`` and ``${AWS::Region}``: one template names the buckets of whichever
    account of the team it is launched in.

    :param team: the team the product is for: ``<team>-`` prefixes every name the product gives.
    :param template_id: the template's registry id.
    :param version: the template's version (its provisioning artifact's name).
    :param boundary_name: the customer-managed policy, in the launching account, that every role
        of the product carries as permissions boundary.
    :param role_path: IAM path of every role and managed policy of the product.
    :param parameter_prefix: SSM prefix of the platform values: ``<prefix>/<key>`` for each
        :class:`PlatformValue` the product reads.
    :param seed_parameter: SSM parameter holding the object key of the template's seed bundle.
    :param team_bucket: the team's data bucket.
    :param promoted_models_bucket: the bucket where the team's models promoted from its previous
        stage account arrive.
    :param access_log_bucket: the account's S3 server access log bucket.
    :param log_group_prefix: prefix of the product's log groups:
        ``<prefix>projects/<project>/<purpose>``.
    :param team_tag: key of the tag, valued ``team``, on the model packages the product's
        pipelines register (the roles that approve, promote and deploy them check it).
    :param tags: tags of every resource of the product, besides the SageMaker project's name and
        id. Default: none.
    :param source: where the project's code lives. Default: ``SourceSpec()`` (S3).
    :param images: the organisation's image registry: its Region resolves the AWS-provided
        images the templates default to, its mirror holds the opt-in custom images. Default: none
        (templates that run containers refuse to build without it).
    :param bedrock_models: the team's Bedrock models. Default: none.
    :param hosting_models: FM catalog model id -> the instance type it needs, for the models the
        team may host. Default: none.
    :param log_retention_days: retention of the product's log groups. Default: 365.
    :param guardrail_version_parameter: the SSM parameter in which the team's GenAI stack writes
        the published version of the team guardrail: the one source of that version for the
        product's policies (resolved when the project is provisioned or updated) and its code
        (read at start). Default: none (templates that call Bedrock refuse to build without it).
    :param project_tag: key of the cost allocation tag, valued with the project's name, on the
        product's inference profile. Default: ``fmops:project``.
    :param mlflow_tracking_server: the name of the team's MLflow tracking server in the launching
        account: model pipelines log their evaluation runs to it. Default: none (the team has no
        tracking server; pipelines do not log).
    :param mlflow_parameter: the SSM parameter that holds that server's ARN (the tracking URI the
        seed code reads at start). Default: none.
    """

    team: str
    template_id: str
    version: str
    boundary_name: str
    role_path: str
    parameter_prefix: str
    seed_parameter: str
    team_bucket: BucketName
    promoted_models_bucket: BucketName
    access_log_bucket: BucketName
    log_group_prefix: str
    team_tag: str
    tags: Mapping[str, str] = field(default_factory=dict)
    source: SourceSpec = SourceSpec()
    images: ImageRegistry | None = None
    bedrock_models: tuple[BedrockModel, ...] = ()
    hosting_models: Mapping[str, str] = field(default_factory=dict)
    log_retention_days: int = 365
    guardrail_version_parameter: str = ""
    project_tag: str = "fmops:project"
    mlflow_tracking_server: str = ""
    mlflow_parameter: str = ""
