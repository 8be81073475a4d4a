"""Which VPC endpoints an account gets, derived from the features switched on in config.

The full set follows the AWS docs for SageMaker Studio in VpcOnly mode, SageMaker jobs and
endpoints without internet, Bedrock private access and CodeArtifact (see DESIGN.md). Only the
interface endpoints a feature needs are created, because each one costs money per AZ per hour
(see config/endpoint-prices.yaml and ``infra.tools.pricing``).
"""

from __future__ import annotations

from infra.config import Account, Feature, Mode, OrgConfig

# Interface endpoints every workload VPC needs whatever the features:
# sts (regional STS for the SDKs), logs and monitoring (CloudWatch), kms (SSE-KMS everywhere),
# ssm (parameters read by tooling), ec2 (the CDK custom resource that closes the default
# security group runs inside the VPC and calls EC2).
BASE_ENDPOINTS: tuple[str, ...] = ("sts", "logs", "monitoring", "kms", "ssm", "ec2")

# "studio" stands for the Studio UI endpoint, aws.sagemaker.<region>.studio; "experiments" for the
# SageMaker MLflow endpoint, aws.sagemaker.<region>.experiments (the tracking server's REST API, the
# sagemaker-mlflow:* actions; its presigned UI URL comes from the SageMaker API).
FEATURE_ENDPOINTS: dict[Feature, tuple[str, ...]] = {
    Feature.STUDIO: (
        "sagemaker.api", "sagemaker.runtime", "studio", "servicecatalog",
        "ecr.api", "ecr.dkr", "codeartifact.api", "codeartifact.repositories",
    ),
    Feature.PIPELINES: (
        "sagemaker.api", "events", "ecr.api", "ecr.dkr", "codeartifact.api", "codeartifact.repositories",
    ),
    Feature.HOSTING: ("sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr"),
    Feature.BEDROCK: ("bedrock", "bedrock-runtime"),
    Feature.BEDROCK_AGENTS: ("bedrock", "bedrock-runtime", "bedrock-agent", "bedrock-agent-runtime"),
    Feature.SERVICE_CATALOG: ("servicecatalog",),
    Feature.PRIVATE_API: ("execute-api",),
    Feature.MLFLOW: ("sagemaker.api", "experiments"),
    # Glue (Data Catalog, ETL jobs and crawlers in the VPC through a NETWORK connection), Athena
    # (queries, workgroups) and Lake Formation (permissions, credential vending to the engines).
    Feature.DATA_LAKE: ("glue", "athena", "lakeformation"),
}

# The governance account in mode organisation runs the delivery pipelines' CodeBuild projects
# in its VPC (infra/stacks/pipeline.py): they install pip and npm packages from CodeArtifact,
# assume the CDK bootstrap roles (sts), read and write the artifact and asset buckets (S3
# gateway), decrypt artifacts (kms), log (logs), read the bootstrap version (ssm) and deploy the
# pipeline stack itself (cloudformation, self-mutation).
DELIVERY_ENDPOINTS: tuple[str, ...] = ("codeartifact.api", "codeartifact.repositories", "cloudformation")

ALL_INTERFACE_ENDPOINTS: tuple[str, ...] = tuple(
    dict.fromkeys(BASE_ENDPOINTS + tuple(e for names in FEATURE_ENDPOINTS.values() for e in names)
                  + DELIVERY_ENDPOINTS)
)


# Endpoint short names whose PrivateLink service is named aws.sagemaker.<region>.<name>.
AWS_SAGEMAKER_SERVICES: frozenset[str] = frozenset({"studio", "experiments"})


def interface_endpoints(features: frozenset[Feature] | set[Feature], *, delivery: bool = False) -> list[str]:
    """Interface endpoint short names for these features (and the delivery pipelines), base
    first, no duplicates, stable order."""
    chosen = set(BASE_ENDPOINTS)
    for feature in features:
        chosen.update(FEATURE_ENDPOINTS[feature])
    if delivery:
        chosen.update(DELIVERY_ENDPOINTS)
    return [name for name in ALL_INTERFACE_ENDPOINTS if name in chosen]


def runs_delivery(config: OrgConfig, account: Account) -> bool:
    """The governance account of an organisation hosts the delivery pipelines."""
    return config.organisation.mode is Mode.ORGANISATION and account.role == "governance"


def account_interface_endpoints(config: OrgConfig, account: Account) -> list[str]:
    """The interface endpoints of ``account``: its features' and, in the governance account of
    an organisation, the delivery pipelines'."""
    return interface_endpoints(config.features_of(account), delivery=runs_delivery(config, account))


def service_name(short_name: str, region: str) -> str:
    """Full PrivateLink service name for an endpoint short name."""
    if short_name in AWS_SAGEMAKER_SERVICES:
        return f"aws.sagemaker.{region}.{short_name}"
    return f"com.amazonaws.{region}.{short_name}"
