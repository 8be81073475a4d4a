"""Lambda, CodeBuild and Glue: no public function access, and compute inside the VPC."""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import MISSING
from infra.compliance.internet_free.predicates import may_be_absent, may_be_other_than, no_vpc, when
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


@rule("IF-LAMBDA-URL", "No Lambda function URL", "AWS::Lambda::Url")
def lambda_url(s: Subject) -> list[str]:
    """A function URL is an HTTPS endpoint on the internet, even with AWS_IAM auth.

    Fix: invoke the function through a PRIVATE API or the lambda VPC endpoint.
    """
    return ["function URL: HTTPS endpoint on the internet"]


@rule(
    "IF-LAMBDA-PERMISSION-PUB",
    "No Lambda permission for everyone",
    "AWS::Lambda::Permission",
    "AWS::Lambda::LayerVersionPermission",
    perimeter="resource",
)
def lambda_permission_public(s: Subject) -> list[str]:
    """A permission for Principal '*' without SourceArn, SourceAccount or PrincipalOrgID (or a
    layer permission without OrganizationId) lets anyone invoke the function or use the layer;
    FunctionUrlAuthType NONE makes a function URL anonymous.

    Fix: name the calling service and its SourceArn/SourceAccount, or the organisation.
    """
    if s.type == "AWS::Lambda::LayerVersionPermission":
        scoped = not may_be_absent(s.at("OrganizationId"))
    else:
        scoped = any(not may_be_absent(s.at(key)) for key in ("SourceArn", "SourceAccount", "PrincipalOrgID"))
    messages = when("*" in s.flat("Principal") and not scoped, "Principal '*' without a source or org condition")
    if may_be_other_than(s.at("FunctionUrlAuthType"), "AWS_IAM", MISSING):
        messages.append("FunctionUrlAuthType NONE: anonymous function URL")
    return messages


@rule("IF-LAMBDA-VPC", "Every Lambda function in the VPC", "AWS::Lambda::Function")
def lambda_vpc(s: Subject) -> list[str]:
    """A function without VpcConfig runs on the Lambda service network, which reaches the
    internet. CDK's own helper functions (custom resource providers) are included.

    Fix: VpcConfig with SubnetIds and SecurityGroupIds of the internet-free VPC.
    """
    missing = no_vpc(s, ("VpcConfig", "SubnetIds"), ("VpcConfig", "SecurityGroupIds"))
    return when(missing, "no VpcConfig (SubnetIds and SecurityGroupIds): runs with internet access")


@rule("IF-CODEBUILD-VPC", "Every CodeBuild project in the VPC", "AWS::CodeBuild::Project")
def codebuild_vpc(s: Subject) -> list[str]:
    """A project without VpcConfig builds on a network with internet access.

    Fix: VpcConfig with VpcId, Subnets and SecurityGroupIds.
    """
    missing = no_vpc(s, ("VpcConfig", "VpcId"), ("VpcConfig", "Subnets"), ("VpcConfig", "SecurityGroupIds"))
    return when(missing, "no VpcConfig: builds with internet access")


# Glue connection types whose traffic leaves from a network interface in the connection's subnet.
GLUE_VPC_CONNECTION_TYPES = frozenset({"NETWORK", "JDBC", "KAFKA", "MONGODB"})


@rule("IF-GLUE-CONNECTION-VPC", "Every Glue connection in a VPC subnet", "AWS::Glue::Connection")
def glue_connection_vpc(s: Subject) -> list[str]:
    """A Glue connection of a SaaS, marketplace or custom type, or one without a subnet, reaches
    its source from Glue's service network (the internet); jobs and crawlers on it too.

    Fix: ConnectionType NETWORK (or JDBC, KAFKA, MONGODB) with PhysicalConnectionRequirements
    SubnetId and SecurityGroupIdList of the internet-free VPC.
    """
    kind = s.at("ConnectionInput", "ConnectionType")
    if isinstance(kind, str) and kind not in GLUE_VPC_CONNECTION_TYPES:
        return [f"ConnectionType {kind}: reaches its source outside the VPC"]
    missing = no_vpc(s, ("ConnectionInput", "PhysicalConnectionRequirements", "SubnetId"),
                     ("ConnectionInput", "PhysicalConnectionRequirements", "SecurityGroupIdList"))
    return when(missing, "no PhysicalConnectionRequirements subnet and security groups: runs with internet access")


@rule("IF-GLUE-JOB-VPC", "Every Glue job on a VPC connection", "AWS::Glue::Job")
def glue_job_vpc(s: Subject) -> list[str]:
    """A Glue job without a connection runs on the Glue service network, which reaches the
    internet.

    Fix: Connections with a NETWORK connection in the internet-free VPC.
    """
    return when(may_be_absent(s.at("Connections", "Connections")), "no Connections: runs with internet access")
