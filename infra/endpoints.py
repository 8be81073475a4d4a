"""Which VPC endpoints an account gets, derived from the features switched on in config.

The full set follows the AWS docs for SageMaker Studio in VpcOnly mode, SageMaker jobs and
endpoints without internet, Bedrock private access and CodeArtifact (see DESIGN.md). Only the
interface endpoints a feature needs are created, because each one costs money per AZ per hour
(see config/endpoint-prices.yaml and ``infra.pricing``).
"""

from __future__ import annotations

from infra.config import Feature

# Interface endpoints every workload VPC needs whatever the features:
# sts (regional STS for the SDKs), logs and monitoring (CloudWatch), kms (SSE-KMS everywhere),
# ssm (parameters read by tooling), ec2 (the CDK custom resource that closes the default
# security group runs inside the VPC and calls EC2).
BASE_ENDPOINTS: tuple[str, ...] = ("sts", "logs", "monitoring", "kms", "ssm", "ec2")

# "studio" stands for the Studio UI endpoint, aws.sagemaker.<region>.studio.
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
}

ALL_INTERFACE_ENDPOINTS: tuple[str, ...] = tuple(
    dict.fromkeys(BASE_ENDPOINTS + tuple(e for names in FEATURE_ENDPOINTS.values() for e in names))
)


def interface_endpoints(features: frozenset[Feature] | set[Feature]) -> list[str]:
    """Interface endpoint short names for these features, base first, no duplicates, stable order."""
    chosen = set(BASE_ENDPOINTS)
    for feature in features:
        chosen.update(FEATURE_ENDPOINTS[feature])
    return [name for name in ALL_INTERFACE_ENDPOINTS if name in chosen]


def service_name(short_name: str, region: str) -> str:
    """Full PrivateLink service name for an endpoint short name."""
    if short_name == "studio":
        return f"aws.sagemaker.{region}.studio"
    return f"com.amazonaws.{region}.{short_name}"
