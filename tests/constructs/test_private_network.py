"""PrivateNetwork: isolated subnets only, no internet path, interface endpoints with private DNS
behind one HTTPS-from-the-VPC group, an S3 gateway endpoint for the organisation's buckets, flow
logs and a DNS firewall; or an existing VPC by its IDs."""

from __future__ import annotations

import pytest

from fmops_constructs.kms import EncryptionKey
from fmops_constructs.private_network import ExistingVpcProps, PrivateNetwork
from tests.constructs.bare import ACCOUNT, ORG, REGION, app_names, bare_stack, only, resources, statement, template

ACCOUNTS = [ACCOUNT, "210987654321"]
SERVICES = {"sagemaker.api": f"com.amazonaws.{REGION}.sagemaker.api", "sts": f"com.amazonaws.{REGION}.sts"}


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    key = EncryptionKey(stack, "LogKey", alias="alias/logs", description="logs")
    network = PrivateNetwork(stack, "Network", interface_endpoints=SERVICES, organisation_account_ids=ACCOUNTS,
                             log_key=key, log_group_name=f"/{ORG}/flow-logs", log_retention_days=90,
                             cidr="10.20.0.0/20", availability_zones=[f"{REGION}a", f"{REGION}b"],
                             dns_allowed_domains=["pypi.internal.example"], package_assets=True)
    return network, template(stack)


@pytest.fixture(scope="module")
def existing():
    stack = bare_stack()
    key = EncryptionKey(stack, "LogKey", alias="alias/logs", description="logs")
    network = PrivateNetwork(stack, "Network", interface_endpoints=SERVICES, organisation_account_ids=ACCOUNTS,
                             log_key=key, log_group_name="/x", log_retention_days=90, existing=ExistingVpcProps(
                                 vpc_id="vpc-0123456789abcdef0", cidr="10.30.0.0/20", subnet_ids=["subnet-01234567"],
                                 availability_zones=[f"{REGION}a"], route_table_ids=["rtb-01234567"],
                                 create_endpoints=False, s3_gateway_endpoint_id="vpce-0123456789abcdef0"))
    return network, template(stack)


def test_isolated_subnets_in_the_given_zones_and_no_internet_path(built):
    _, synthesized = built
    subnets = resources(synthesized, "AWS::EC2::Subnet").values()
    assert sorted(s["Properties"]["AvailabilityZone"] for s in subnets) == [f"{REGION}a", f"{REGION}b"]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets)
    assert only(synthesized, "AWS::EC2::VPC")["CidrBlock"] == "10.20.0.0/20"
    for forbidden in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EgressOnlyInternetGateway",
                      "AWS::EC2::EIP"):
        assert not resources(synthesized, forbidden), forbidden
    assert not [r for r in resources(synthesized, "AWS::EC2::Route").values()
                if r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"]


def test_interface_endpoints_private_dns_https_from_the_vpc_only(built):
    _, synthesized = built
    interfaces = [e["Properties"] for e in resources(synthesized, "AWS::EC2::VPCEndpoint").values()
                  if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert sorted(e["ServiceName"] for e in interfaces) == sorted(SERVICES.values())
    assert all(e["PrivateDnsEnabled"] is True for e in interfaces)
    [group] = [g["Properties"] for g in resources(synthesized, "AWS::EC2::SecurityGroup").values()
               if g["Properties"]["GroupDescription"].startswith("VPC interface endpoints")]
    assert group["SecurityGroupIngress"] == [{"CidrIp": "10.20.0.0/20", "Description": "HTTPS from the VPC",
                                              "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}]


def test_s3_gateway_endpoint_admits_the_organisation_and_aws_flows(built):
    network, synthesized = built
    [gateway] = [e["Properties"] for e in resources(synthesized, "AWS::EC2::VPCEndpoint").values()
                 if e["Properties"].get("VpcEndpointType") == "Gateway"]
    document = gateway["PolicyDocument"]
    assert statement(document, "ThisAccountBuckets")["Condition"] == {
        "StringEquals": {"aws:ResourceAccount": ACCOUNT, "aws:PrincipalAccount": sorted(ACCOUNTS)}}
    assert {s["Sid"] for s in document["Statement"]} == {  # no drop zones or CDK assets unless asked
        "ThisAccountBuckets", "EcrImageLayers", "CodeArtifactPackageAssets", "CloudFormationCustomResourceResponses"}
    assert statement(document, "EcrImageLayers")["Resource"]["Fn::Join"][1][-1] == \
        f":s3:::prod-{REGION}-starport-layer-bucket/*"  # arn:<partition>
    assert statement(document, "CodeArtifactPackageAssets")["Action"] == "s3:GetObject"
    assert network.s3_endpoint_id


def test_interface_endpoints_admit_the_organisation_only(built):
    _, synthesized = built
    interface = [e["Properties"] for e in resources(synthesized, "AWS::EC2::VPCEndpoint").values()
                 if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(interface) == len(SERVICES)
    for endpoint in interface:
        [only_org] = endpoint["PolicyDocument"]["Statement"]
        assert only_org["Principal"] == "*" and only_org["Action"] == "*"
        assert only_org["Condition"] == {"StringEquals": {"aws:PrincipalAccount": sorted(ACCOUNTS)}}


def test_organisation_id_drop_zones_and_cdk_assets_when_asked():
    stack = bare_stack()
    key = EncryptionKey(stack, "LogKey", alias="alias/logs", description="logs")
    PrivateNetwork(stack, "Network", interface_endpoints=SERVICES, organisation_account_ids=ACCOUNTS,
                   organization_id="o-abcdefghij", drop_zone_prefix="incoming", cdk_asset_qualifier="q1",
                   log_key=key, log_group_name="/x", log_retention_days=365, cidr="10.20.0.0/20",
                   availability_zones=[f"{REGION}a"])
    endpoints = [e["Properties"] for e in resources(template(stack), "AWS::EC2::VPCEndpoint").values()]
    [gateway] = [e["PolicyDocument"] for e in endpoints if e["VpcEndpointType"] == "Gateway"]
    drop = statement(gateway, "DropZonesOfTheOrganisation")
    assert drop["Resource"]["Fn::Join"][1][-1] == f":s3:::*/incoming/{ACCOUNT}/*" and drop["Action"] == [
        "s3:PutObject", "s3:AbortMultipartUpload"]
    assert drop["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:ResourceOrgID": "o-abcdefghij"}}
    assets = statement(gateway, "CdkAssetsOfTheOrganisation")
    assert assets["Resource"][0]["Fn::Join"][1][-1] == f":s3:::cdk-q1-assets-*-{REGION}"
    assert all(s["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == "o-abcdefghij"
               for e in endpoints if e["VpcEndpointType"] == "Interface" for s in e["PolicyDocument"]["Statement"])


def test_flow_logs_encrypted_and_retained(built):
    _, synthesized = built
    group = only(synthesized, "AWS::Logs::LogGroup")
    assert group["LogGroupName"] == f"/{ORG}/flow-logs" and group["RetentionInDays"] == 90
    assert only(synthesized, "AWS::EC2::FlowLog")["TrafficType"] == "ALL"


def test_dns_firewall_named_after_the_stack(built):
    _, synthesized = built
    association = only(synthesized, "AWS::Route53Resolver::FirewallRuleGroupAssociation")
    assert association["Name"] == "Bare-dns-egress"


def test_existing_vpc_with_central_endpoints_creates_nothing(existing):
    network, synthesized = existing
    assert network.s3_endpoint_id == "vpce-0123456789abcdef0" and network.cidr == "10.30.0.0/20"
    assert network.endpoint_security_group is None and network.endpoints == {}
    assert not [r for r in synthesized["Resources"].values() if r["Type"].startswith("AWS::EC2::")]


def test_needs_cidr_and_zones_or_an_existing_vpc():
    stack = bare_stack()
    key = EncryptionKey(stack, "LogKey", alias="alias/logs", description="logs")
    with pytest.raises(ValueError, match="cidr and availability_zones"):
        PrivateNetwork(stack, "Network", interface_endpoints={}, organisation_account_ids=ACCOUNTS, log_key=key,
                       log_group_name="/x", log_retention_days=1)


def test_carries_no_app_names(built, existing):
    assert app_names(built[1]) == [] and app_names(existing[1]) == []
