"""FrameworkLambdasInVpc: CDK's own provider functions go into the VPC, with the VPC access
policy and the given tags; L2 functions are left alone. The same, applied as an Aspect or in
one pass (``apply_to``) over the finished stack."""

from __future__ import annotations

import pytest
from aws_cdk import Aspects, CustomResourceProvider, CustomResourceProviderRuntime
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_

from fmops_constructs.aspects import (INTERNET_FREE_EXEMPT, VPC_ACCESS_POLICY, FrameworkLambdasInVpc,
                                     exempt_from_internet_free)
from tests.constructs.bare import ORG, app_names, bare_stack, resources, template

TAGS = {f"{ORG}:cost-centre": "CC-7"}


@pytest.fixture(scope="module", params=["aspect", "one pass"])
def synthesized(tmp_path_factory, request):
    stack = bare_stack()
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a"],
                                      isolated_subnet_ids=["subnet-01234567"])
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0123456789abcdef0")
    code = tmp_path_factory.mktemp("provider")
    (code / "index.js").write_text("exports.handler = async () => ({});")
    CustomResourceProvider.get_or_create_provider(stack, "Custom::Thing", code_directory=str(code),
                                                  runtime=CustomResourceProviderRuntime.NODEJS_22_X)
    lambda_.CfnFunction(stack, "Own", role="arn:aws:iam::123456789012:role/own",
                        code=lambda_.CfnFunction.CodeProperty(zip_file="x"), runtime="python3.12", handler="x.y")
    rule = FrameworkLambdasInVpc(["subnet-01234567"], group, TAGS)
    if request.param == "aspect":
        Aspects.of(stack).add(rule)
    else:
        rule.apply_to(stack)
    exempt_from_internet_free(stack.node.find_child("Own"), ["IF-TEST"], "a test")  # type: ignore[arg-type]
    return template(stack)


def test_provider_function_is_placed_in_the_vpc_with_tags(synthesized):
    [provider] = [f for f in resources(synthesized, "AWS::Lambda::Function").values()
                  if "VpcConfig" in f["Properties"]]
    assert provider["Properties"]["VpcConfig"] == {"SubnetIds": ["subnet-01234567"],
                                                   "SecurityGroupIds": ["sg-0123456789abcdef0"]}
    assert provider["Properties"]["Tags"] == [{"Key": f"{ORG}:cost-centre", "Value": "CC-7"}]


def test_provider_role_gets_the_vpc_access_policy(synthesized):
    [role] = resources(synthesized, "AWS::IAM::Role").values()
    assert role["Properties"]["ManagedPolicyArns"] == [{"Fn::Sub": VPC_ACCESS_POLICY}]


def test_the_apps_own_functions_are_left_alone_and_exemptions_recorded(synthesized):
    [own] = [f for k, f in resources(synthesized, "AWS::Lambda::Function").items() if k.startswith("Own")]
    assert "VpcConfig" not in own["Properties"]
    assert own["Metadata"][INTERNET_FREE_EXEMPT] == {"rules": ["IF-TEST"], "reason": "a test"}


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == []

