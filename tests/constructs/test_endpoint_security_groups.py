"""vpc_egress: security groups with no ingress and HTTPS egress only, each exempted from the
internet-free egress rule with its reason."""

from __future__ import annotations

import pytest
from aws_cdk import aws_ec2 as ec2

from fmops_constructs.aspects import INTERNET_FREE_EXEMPT
from fmops_constructs.vpc_egress import (ENDPOINTS_ONLY_REASON, HTTPS_EGRESS_DESCRIPTION, endpoints_only_security_group,
                                         restrict_to_endpoints)
from tests.constructs.bare import app_names, bare_stack, resources, template

HTTPS_ONLY = [{"CidrIp": "0.0.0.0/0", "Description": HTTPS_EGRESS_DESCRIPTION, "FromPort": 443, "IpProtocol": "tcp",
               "ToPort": 443}]


@pytest.fixture(scope="module")
def synthesized():
    stack = bare_stack()
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a"],
                                      isolated_subnet_ids=["subnet-01234567"])
    endpoints_only_security_group(stack, "Workloads", vpc=vpc, description="workloads")
    wide = ec2.SecurityGroup(stack, "Wide", vpc=vpc, description="wide", allow_all_outbound=True)
    restrict_to_endpoints(wide)
    return template(stack)


def _group(template, description):
    [found] = [g for g in resources(template, "AWS::EC2::SecurityGroup").values()
               if g["Properties"]["GroupDescription"] == description]
    return found


@pytest.mark.parametrize("description", ["workloads", "wide"])
def test_https_egress_only_no_ingress_with_the_exemption(synthesized, description):
    group = _group(synthesized, description)
    assert group["Properties"]["SecurityGroupEgress"] == HTTPS_ONLY
    assert "SecurityGroupIngress" not in group["Properties"]
    assert group["Metadata"][INTERNET_FREE_EXEMPT] == {"rules": ["IF-SG-EGRESS-PUBLIC"], "reason": ENDPOINTS_ONLY_REASON}


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == []
