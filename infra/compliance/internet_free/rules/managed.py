"""Public endpoints of managed services: EKS, databases and brokers, OpenSearch, MSK, Airflow,
ECR Public.
"""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import MISSING, find_keys, parse_json
from infra.compliance.internet_free.predicates import (
    is_true,
    may_be_absent,
    may_be_not_false,
    may_be_other_than,
    may_be_true,
    when,
)
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


@rule("IF-EKS-PUBLIC-ENDPOINT", "No public EKS API endpoint", "AWS::EKS::Cluster")
def eks_public_endpoint(s: Subject) -> list[str]:
    """The Kubernetes API endpoint is public unless EndpointPublicAccess is false.

    Fix: EndpointPublicAccess false, EndpointPrivateAccess true.
    """
    public = s.at("ResourcesVpcConfig", "EndpointPublicAccess")
    return when(may_be_not_false(public), "EndpointPublicAccess is not false (missing means public)")


_PUBLIC_BY_DEFAULT = ("AWS::DMS::ReplicationInstance",)


@rule("IF-PUBLICLY-ACCESSIBLE", "No publicly accessible database or broker", "*")
def publicly_accessible(s: Subject) -> list[str]:
    """PubliclyAccessible true (RDS, Redshift, DMS, Amazon MQ, Neptune, Timestream...) gives the
    endpoint a public address. DMS replication instances are public when the property is
    missing. Unknown values are findings.

    Fix: PubliclyAccessible false.
    """
    candidates = s.at("PubliclyAccessible")
    missing_is_public = s.type in _PUBLIC_BY_DEFAULT and MISSING in candidates
    return when(may_be_true(candidates) or missing_is_public, "PubliclyAccessible may be true")


@rule(
    "IF-OPENSEARCH-VPC",
    "OpenSearch domains inside the VPC",
    "AWS::OpenSearchService::Domain",
    "AWS::Elasticsearch::Domain",
)
def opensearch_vpc(s: Subject) -> list[str]:
    """A domain without VPCOptions has a public endpoint.

    Fix: VPCOptions with SubnetIds and SecurityGroupIds.
    """
    return when(may_be_absent(s.at("VPCOptions", "SubnetIds")), "no VPCOptions.SubnetIds: public endpoint")


@rule(
    "IF-AOSS-PUBLIC",
    "No public OpenSearch Serverless collection",
    "AWS::OpenSearchServerless::SecurityPolicy",
)
def opensearch_serverless_public(s: Subject) -> list[str]:
    """A network security policy with AllowFromPublic true exposes collections or dashboards to
    the internet. A policy that cannot be parsed is a finding.

    Fix: AllowFromPublic false with SourceVPCEs.
    """
    if not may_be_other_than(s.at("Type"), "encryption", "data"):
        return []
    messages = []
    for policy in parse_json(s.props.get("Policy", MISSING), s.template):
        if policy is MISSING:
            messages.append("network policy cannot be parsed")
        elif any(is_true(value) for _, value in find_keys(policy, ("AllowFromPublic",))):
            messages.append("network policy has AllowFromPublic true")
    return messages


@rule("IF-MSK-PUBLIC", "No public MSK brokers", "AWS::MSK::Cluster")
def msk_public(s: Subject) -> list[str]:
    """MSK public access (SERVICE_PROVIDED_EIPS) puts the brokers on public addresses.

    Fix: PublicAccess.Type DISABLED or omit it.
    """
    kind = s.at("BrokerNodeGroupInfo", "ConnectivityInfo", "PublicAccess", "Type")
    return when(may_be_other_than(kind, "DISABLED", MISSING), "public access may be on")


@rule("IF-MWAA-PUBLIC", "No public Airflow web server", "AWS::MWAA::Environment")
def mwaa_public(s: Subject) -> list[str]:
    """An Airflow web server in PUBLIC_ONLY or PUBLIC_AND_PRIVATE mode is on the internet
    (missing means PRIVATE_ONLY).

    Fix: WebserverAccessMode PRIVATE_ONLY.
    """
    mode = s.at("WebserverAccessMode")
    return when(may_be_other_than(mode, "PRIVATE_ONLY", MISSING), "web server access mode is public")


@rule("IF-ECR-PUBLIC", "No ECR Public repository", "AWS::ECR::PublicRepository", perimeter="resource")
def ecr_public(s: Subject) -> list[str]:
    """An ECR Public repository publishes images to the internet.

    Fix: use a private ECR repository.
    """
    return ["ECR Public repository: images published to the internet"]
