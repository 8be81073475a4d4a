"""The internet-free network, secure buckets and keys, asserted on the synthesized templates."""

from __future__ import annotations

import pytest

from infra.config import Feature, load_config
from infra.plan.endpoints import account_interface_endpoints, interface_endpoints
from infra.tools.pricing import load_prices
from infra.tools.report import stacks_in
from tests.conftest import REPO, resources, synth

FORBIDDEN = ("AWS::EC2::InternetGateway", "AWS::EC2::EgressOnlyInternetGateway", "AWS::EC2::NatGateway",
             "AWS::EC2::EIP", "AWS::EC2::VPNGateway", "AWS::EC2::CustomerGateway", "AWS::EC2::VPCGatewayAttachment")


def test_stacks_of_the_default_organisation(default_templates):
    assert sorted(default_templates) == sorted(
        [f"fmops-{a}-platform" for a in ("tooling", "risk-dev", "risk-preprod", "risk-prod",
                                         "genai-dev", "genai-preprod", "genai-prod")]
        + [f"fmops-{t}-{s}-{t}" for t in ("risk", "genai") for s in ("dev", "preprod", "prod")]
        + [f"fmops-{t}-{s}-{t}-{kind}" for t in ("risk", "genai") for s in ("dev", "preprod", "prod")
           for kind in ("genai", "endpoints")]
        + [f"fmops-genai-{s}-bedrock-logging" for s in ("dev", "preprod", "prod")]
        + [f"fmops-{t}-{s}-studio" for t in ("risk", "genai") for s in ("dev", "preprod", "prod")]
        + [f"fmops-{t}-{s}-{t}-catalog" for t in ("risk", "genai") for s in ("dev", "preprod", "prod")]
        + [f"fmops-{t}-dev-labeling" for t in ("risk", "genai")]
        + [f"fmops-{t}-{s}-lake-formation" for t in ("risk", "genai") for s in ("dev", "preprod", "prod")]
        + [f"fmops-{t}-{s}-{t}-data-lake" for t in ("risk", "genai") for s in ("dev", "preprod", "prod")]
        + ["fmops-genai-dev-genai-projects"]  # the project the default config declares
        + ["fmops-tooling-packages", "fmops-tooling-delivery", "fmops-risk-pipeline", "fmops-genai-pipeline"]
    )


def test_no_internet_resources_anywhere(default_templates, single_templates):
    for name, template in {**default_templates, **single_templates}.items():
        types = {r["Type"] for r in template["Resources"].values()}
        assert not types & set(FORBIDDEN), name
        for subnet in resources(template, "AWS::EC2::Subnet").values():
            assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
        assert not resources(template, "AWS::EC2::Route"), f"{name} has a route"


@pytest.mark.parametrize(("stack", "azs"), [("fmops-risk-dev-platform", 2), ("fmops-risk-prod-platform", 3)])
def test_isolated_subnets_across_configured_azs(default_templates, stack, azs):
    template = default_templates[stack]
    subnets = resources(template, "AWS::EC2::Subnet").values()
    assert len(subnets) == azs
    assert {s["Properties"]["AvailabilityZone"] for s in subnets} == {f"eu-west-1{z}" for z in "abc"[:azs]}
    tags = [{t["Key"]: t["Value"] for t in s["Properties"]["Tags"]} for s in subnets]
    assert {t["aws-cdk:subnet-type"] for t in tags} == {"Isolated"}


def test_default_security_group_is_closed(default_templates):
    template = default_templates["fmops-genai-dev-platform"]
    assert len(resources(template, "Custom::VpcRestrictDefaultSG")) == 1
    [handler] = resources(template, "AWS::Lambda::Function").values()
    assert set(handler["Properties"]["VpcConfig"]) == {"SubnetIds", "SecurityGroupIds"}
    assert len(handler["Properties"]["VpcConfig"]["SubnetIds"]) == 2


def test_flow_logs_go_to_a_kms_encrypted_retained_log_group(default_templates):
    template = default_templates["fmops-risk-prod-platform"]
    [flow_log] = resources(template, "AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "ALL"
    [group_id] = resources(template, "AWS::Logs::LogGroup")
    group = template["Resources"][group_id]
    assert flow_log["Properties"]["LogGroupName"] == {"Ref": group_id}
    assert "KmsKeyId" in group["Properties"] and group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"


def _endpoint_names(template: dict) -> set[str]:
    names = set()
    for endpoint in resources(template, "AWS::EC2::VPCEndpoint").values():
        service = endpoint["Properties"]["ServiceName"]
        names.add(service.split("eu-west-1.", 1)[-1] if isinstance(service, str) else "s3")
    return names


def test_endpoints_are_chosen_from_features(default_templates):
    config = load_config()
    for account in config.accounts:
        template = default_templates[f"fmops-{account.name}-platform"]
        expected = set(account_interface_endpoints(config, account))
        assert _endpoint_names(template) == expected | {"s3"}, account.name
    risk = _endpoint_names(default_templates["fmops-risk-dev-platform"])
    assert "bedrock-runtime" not in risk, "risk does not use Bedrock, so it pays for no Bedrock endpoint"
    assert {"bedrock-runtime", "bedrock-agent-runtime", "execute-api"} <= _endpoint_names(
        default_templates["fmops-genai-dev-platform"])


def test_interface_endpoints_private_dns_and_one_https_only_group(default_templates):
    template = default_templates["fmops-genai-dev-platform"]
    interface = [e["Properties"] for e in resources(template, "AWS::EC2::VPCEndpoint").values()
                 if e["Properties"]["VpcEndpointType"] == "Interface"]
    assert interface and all(e["PrivateDnsEnabled"] for e in interface)
    groups = {e["SecurityGroupIds"][0]["Fn::GetAtt"][0] for e in interface}
    assert len(groups) == 1
    group = template["Resources"][groups.pop()]["Properties"]
    assert group["SecurityGroupIngress"] == [
        {"CidrIp": "10.2.0.0/20", "Description": "HTTPS from the VPC", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}]
    assert all(rule["CidrIp"] == "255.255.255.255/32" for rule in group["SecurityGroupEgress"])


def test_studio_endpoint_uses_the_studio_service_name(default_templates):
    services = [e["Properties"]["ServiceName"] for e in
                resources(default_templates["fmops-risk-dev-platform"], "AWS::EC2::VPCEndpoint").values()]
    assert "aws.sagemaker.eu-west-1.studio" in services


def test_s3_gateway_endpoint_policy_is_limited_to_own_buckets_and_aws_flows(default_templates):
    """Evaluated against attacks in tests/test_side_doors.py."""
    template = default_templates["fmops-risk-dev-platform"]
    [s3] = [e for e in resources(template, "AWS::EC2::VPCEndpoint").values()
            if e["Properties"]["VpcEndpointType"] == "Gateway"]
    statements = {s["Sid"]: s for s in s3["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"ThisAccountBuckets", "DropZonesOfTheOrganisation", "EcrImageLayers",
                               "CloudFormationCustomResourceResponses"}
    assert statements["ThisAccountBuckets"]["Condition"] == {
        "StringEquals": {"aws:ResourceAccount": "222222222221",
                         "aws:PrincipalOrgID": load_config().organisation.aws_organization_id}}
    assert statements["EcrImageLayers"]["Resource"] == "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"
    assert statements["EcrImageLayers"]["Action"] == "s3:GetObject"


def _bucket_policy_for(template: dict, bucket_id: str) -> list[dict]:
    [policy] = [p for p in resources(template, "AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_team_data_bucket_is_kms_tls_vpce_only_versioned_logged_retained(default_templates):
    template = default_templates["fmops-genai-dev-genai"]
    [(bucket_id, bucket)] = resources(template, "AWS::S3::Bucket").items()
    props = bucket["Properties"]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and sse["BucketKeyEnabled"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == "fmops-access-logs-333333333331-eu-west-1"
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    statements = _bucket_policy_for(template, bucket_id)
    vpce = next(s for s in statements if s.get("Sid") == "DenyOutsideVpcEndpoint")
    assert vpce["Effect"] == "Deny" and "aws:SourceVpce" in vpce["Condition"]["StringNotEquals"]
    assert vpce["Action"] == "s3:*"
    assert vpce["Condition"]["BoolIfExists"] == {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"}
    assert vpce["Condition"]["ForAllValues:StringNotEquals"] == {"aws:CalledVia": ["cloudformation.amazonaws.com"]}
    assert any(s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool") == {"aws:SecureTransport": "false"}
               for s in statements)
    assert any(s["Effect"] == "Deny" and "s3:TlsVersion" in s.get("Condition", {}).get("NumericLessThan", {})
               for s in statements)


def test_keys_rotate_and_are_retained(default_templates):
    for name, template in default_templates.items():
        for key in resources(template, "AWS::KMS::Key").values():
            assert key["Properties"]["EnableKeyRotation"] is True, name
            assert key["DeletionPolicy"] == "Retain", name


def test_log_key_admits_cloudwatch_logs_only_for_the_organisation_log_groups(default_templates):
    template = default_templates["fmops-tooling-platform"]
    [key] = [k for k in resources(template, "AWS::KMS::Key").values() if "CloudWatch" in k["Properties"]["Description"]]
    [logs] = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "CloudWatchLogsForThisAccount"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == \
        "arn:aws:logs:eu-west-1:111111111111:log-group:/fmops/*"


def test_single_account_mode_has_one_vpc_and_the_team_in_it(single_templates):
    assert sorted(single_templates) == ["fmops-sandbox-bedrock-logging", "fmops-sandbox-labeling",
                                        "fmops-sandbox-lake-formation", "fmops-sandbox-packages", "fmops-sandbox-pilot",
                                        "fmops-sandbox-pilot-catalog", "fmops-sandbox-pilot-data-lake",
                                        "fmops-sandbox-pilot-genai", "fmops-sandbox-platform", "fmops-sandbox-studio"]
    assert len(resources(single_templates["fmops-sandbox-platform"], "AWS::EC2::VPC")) == 1


def test_default_dev_account_endpoint_cost_within_target(default_assembly):
    prices = load_prices()
    costs = {s.name: s.endpoint_cost(prices) for s in stacks_in(default_assembly)}
    assert costs["fmops-genai-dev-platform"] <= 540, costs
    assert costs["fmops-genai-dev-platform"] == round(len(interface_endpoints(frozenset(
        load_config().teams[1].features))) * 2 * 0.011 * 730, 2)


def _byo_config(endpoints: str):
    text = (REPO / "config" / "single-account.yaml").read_text().replace(
        "network: {cidr: 10.20.0.0/20, az_count: 2}",
        "network:\n      existing:\n        vpc_id: vpc-0123456789abcdef0\n        cidr: 10.50.0.0/16\n"
        f"        endpoints: {endpoints}\n"
        + ("        s3_gateway_endpoint_id: vpce-0123456789abcdef0\n" if endpoints == "central" else "")
        + "        subnets:\n"
        "          - {id: subnet-0123456789abcdef0, availability_zone: eu-west-1a, route_table_id: rtb-0123456789abcdef0}\n"
        "          - {id: subnet-0123456789abcdef1, availability_zone: eu-west-1b, route_table_id: rtb-0123456789abcdef1}\n",
    )
    return text


@pytest.mark.parametrize("endpoints", ["create", "central"])
def test_bring_your_own_vpc(tmp_path, endpoints):
    from infra.config import load_config as load
    from tests.conftest import load_templates

    path = tmp_path / "byo.yaml"
    path.write_text(_byo_config(endpoints))
    templates = load_templates(synth(load(path), tmp_path / "out"))
    platform = templates["fmops-sandbox-platform"]
    assert not resources(platform, "AWS::EC2::VPC") and not resources(platform, "AWS::EC2::Subnet")
    vpces = resources(platform, "AWS::EC2::VPCEndpoint")
    team_policy = next(iter(resources(templates["fmops-sandbox-pilot"], "AWS::S3::BucketPolicy").values()))
    statement = next(s for s in team_policy["Properties"]["PolicyDocument"]["Statement"]
                     if s.get("Sid") == "DenyOutsideVpcEndpoint")
    if endpoints == "central":
        assert not vpces
        assert statement["Condition"]["StringNotEquals"]["aws:SourceVpce"] == ["vpce-0123456789abcdef0"]
    else:
        subnet_ids = {tuple(e["Properties"].get("SubnetIds", [])) for e in vpces.values()} - {()}
        assert subnet_ids == {("subnet-0123456789abcdef0", "subnet-0123456789abcdef1")}
        assert all(e["Properties"]["VpcId"] == "vpc-0123456789abcdef0" for e in vpces.values())
        assert len(vpces) == len(interface_endpoints(frozenset(Feature(f) for f in
                                 ("studio", "pipelines", "hosting", "bedrock", "service-catalog", "mlflow", "data-lake")))) + 1


def test_team_budget_alerts_on_the_team_cost_tag(default_templates):
    [budget] = resources(default_templates["fmops-genai-dev-genai"], "AWS::Budgets::Budget").values()
    props = budget["Properties"]
    assert props["Budget"]["BudgetLimit"] == {"Amount": 8000, "Unit": "USD"}
    assert props["Budget"]["CostFilters"] == {"TagKeyValue": ["user:fmops:team$genai"]}
    kinds = {(n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in
             props["NotificationsWithSubscribers"]}
    assert kinds == {("ACTUAL", 80), ("FORECASTED", 100)}
    assert {s["Address"] for s in props["NotificationsWithSubscribers"][0]["Subscribers"]} == {
        "genai-leads@example.com", "finops@example.com"}
