"""Load balancers and APIs: internal load balancers, PRIVATE API Gateway and AppSync APIs."""

from __future__ import annotations

from typing import Any

from infra.compliance.internet_free.intrinsics import flat
from infra.compliance.internet_free.predicates import may_be_other_than, when
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


@rule(
    "IF-ELB-INTERNET-FACING",
    "No internet-facing load balancer",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancing::LoadBalancer",
)
def internet_facing_load_balancer(s: Subject) -> list[str]:
    """A load balancer without Scheme internal is internet-facing (the default). Gateway load
    balancers have no scheme and are skipped.

    Fix: Scheme internal (CDK: internet_facing=False).
    """
    if s.at("Type") and all(kind == "gateway" for kind in s.at("Type")):
        return []
    return when(
        may_be_other_than(s.at("Scheme"), "internal"), "Scheme is not internal (missing means internet-facing)"
    )


def _private_only(candidates: list[Any], template: dict) -> bool:
    """True if every candidate is a non-empty list of exactly PRIVATE."""
    return all(
        isinstance(types, list) and types and all(kind == "PRIVATE" for kind in flat(types, template))
        for types in candidates
    )


@rule("IF-APIGW-REST-PUBLIC", "REST APIs are PRIVATE only", "AWS::ApiGateway::RestApi")
def public_rest_api(s: Subject) -> list[str]:
    """A REST API whose endpoint types are not exactly [PRIVATE] is reachable from the internet
    (no EndpointConfiguration means EDGE).

    Fix: EndpointConfiguration.Types [PRIVATE] and a resource policy on aws:SourceVpce.
    """
    types = s.at("EndpointConfiguration", "Types")
    return when(not _private_only(types, s.template), "endpoint types are not exactly [PRIVATE] (missing means EDGE)")


@rule(
    "IF-APIGW-DOMAIN-PUBLIC",
    "API custom domains are PRIVATE only",
    "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::DomainNameV2",
)
def public_api_domain(s: Subject) -> list[str]:
    """A custom domain name that is not PRIVATE publishes APIs on the internet (missing means
    EDGE).

    Fix: EndpointConfiguration.Types [PRIVATE].
    """
    types = s.at("EndpointConfiguration", "Types")
    return when(not _private_only(types, s.template), "endpoint types are not exactly [PRIVATE] (missing means EDGE)")


@rule("IF-APIGWV2", "No HTTP or WebSocket API", "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::DomainName")
def http_api(s: Subject) -> list[str]:
    """HTTP and WebSocket APIs and their custom domains are always public.

    Fix: use a PRIVATE REST API.
    """
    return [f"{s.type}: always reachable from the internet"]


@rule(
    "IF-APPSYNC-PUBLIC",
    "No public AppSync API",
    "AWS::AppSync::GraphQLApi",
    "AWS::AppSync::Api",
    "AWS::AppSync::DomainName",
)
def public_appsync(s: Subject) -> list[str]:
    """A GraphQL API is GLOBAL (public) unless Visibility is PRIVATE; Event APIs and AppSync
    custom domains are always public.

    Fix: Visibility PRIVATE on a GraphQL API; no Event API or custom domain.
    """
    if s.type != "AWS::AppSync::GraphQLApi":
        return [f"{s.type}: always reachable from the internet"]
    visibility = s.at("Visibility")
    return when(may_be_other_than(visibility, "PRIVATE"), "Visibility is not PRIVATE (missing means GLOBAL)")
