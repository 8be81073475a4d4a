"""Cross-cutting rules applied once per stack as CDK Aspects, not repeated in every construct."""

from __future__ import annotations

import jsii
from aws_cdk import CfnResource, IAspect
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

from fmops_constructs.acknowledge import acknowledge

INTERNET_FREE_EXEMPT = "fmops:internet-free-exempt"
VPC_ACCESS_POLICY = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


@jsii.implements(IAspect)
class FrameworkLambdasInVpc:
    """Put the Lambda functions that CDK itself generates (custom resource providers) in the VPC.

    CDK's ``CustomResourceProvider`` handlers (for example the one that closes the VPC's default
    security group) are raw ``AWS::Lambda::Function`` resources with no VPC. This aspect gives
    each one the isolated subnets and a security group, and swaps its role's managed policy for
    AWSLambdaVPCAccessExecutionRole (basic logging plus the ENI calls Lambda needs in a VPC).
    Raw resources escape ``Tags.of``, so the function and role get ``tags`` here.
    """

    def __init__(self, subnet_ids: list[str], security_group: ec2.ISecurityGroup, tags: dict[str, str]) -> None:
        self._subnet_ids = subnet_ids
        self._security_group_id = security_group.security_group_id
        self._tags = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]

    def apply_to(self, scope: IConstruct) -> None:
        """Visit, in one pass, every construct below ``scope`` that exists now: call it when the
        scope is complete. Cheaper than ``Aspects.of(scope).add(self)``, which has CDK call back
        into Python over jsii for every construct of the scope; here only CDK's raw ``CfnResource``
        objects (a provider's function is one; an L1 class such as ``CfnFunction`` is not) are
        visited, and the rest is filtered in Python."""
        for node in scope.node.find_all():
            if type(node) is CfnResource:  # noqa: E721 - exactly the raw class, not an L1 subclass
                self.visit(node)

    def visit(self, node: IConstruct) -> None:
        if not (isinstance(node, CfnResource) and node.cfn_resource_type == "AWS::Lambda::Function"):
            return
        if isinstance(node, lambda_.CfnFunction):
            return  # L2 functions are placed in the VPC by their own props.
        node.add_property_override("VpcConfig", {
            "SubnetIds": self._subnet_ids,
            "SecurityGroupIds": [self._security_group_id],
        })
        node.add_property_override("Tags", self._tags)
        acknowledge(node, "cloudformation-provider-lambda")
        role = node.node.scope.node.try_find_child("Role") if node.node.scope else None
        if isinstance(role, CfnResource):
            role.add_property_override("ManagedPolicyArns", [{"Fn::Sub": VPC_ACCESS_POLICY}])
            role.add_property_override("Tags", self._tags)


def exempt_from_internet_free(resource: CfnResource, rules: list[str], reason: str) -> None:
    """Record, on the resource itself, why an internet-free rule does not apply to it."""
    resource.add_metadata(INTERNET_FREE_EXEMPT, {"rules": rules, "reason": reason})

