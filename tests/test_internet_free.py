"""The internet-free rule pack: every rule, intrinsics, exemptions, loading, CLI and CDK plugin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm

from infra.compliance import internet_free
from infra.compliance.internet_free import (
    RULES,
    RULES_DOC,
    check_template,
    load_templates,
    main,
    render_rules_doc,
    write_rules_doc,
)
from infra.compliance.internet_free.plugin import InternetFreeChecks

VPCE = {"Ref": "S3Endpoint"}
TLS_DENY = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:*",
    "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
VPCE_DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:SourceVpce": VPCE}},
}
BLOCK_ALL = dict.fromkeys(("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True)
VPC_CONFIG = {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
AWS_SERVICE_CARVE_OUTS = {
    "BoolIfExists": {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"},
    "ForAllValues:StringNotEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]},
}
ADMIN_ESCAPE = {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/admin"}}
NO_EGRESS = [{"CidrIp": "255.255.255.255/32", "IpProtocol": "icmp", "FromPort": 252, "ToPort": 86}]


def res(resource_type: str, **props: object) -> dict:
    return {"Type": resource_type, "Properties": props}


def one(resource_type: str, **props: object) -> dict:
    """A template with a single resource ``R``."""
    return {"Resources": {"R": res(resource_type, **props)}}


def bucket(statements: list[dict] | None = None, **props: object) -> dict:
    """A bucket that passes every S3 rule unless ``props``/``statements`` say otherwise."""
    policy = {"Version": "2012-10-17", "Statement": [VPCE_DENY, TLS_DENY] if statements is None else statements}
    return {
        "Resources": {
            "Bucket": res("AWS::S3::Bucket", **{"PublicAccessBlockConfiguration": BLOCK_ALL, **props}),
            "BucketPolicy": res("AWS::S3::BucketPolicy", Bucket={"Ref": "Bucket"}, PolicyDocument=policy),
        }
    }


def public_allow(action: str, **extra: object) -> dict:
    return {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": "*", **extra}


def fired(template: dict) -> set[str]:
    return {finding.rule_id for finding in check_template(template, "t.json")}


# One template per rule that breaks exactly that rule.
BREAKING = {
    "IF-EC2-IGW": one("AWS::EC2::InternetGateway"),
    "IF-EC2-EIGW": one("AWS::EC2::EgressOnlyInternetGateway", VpcId="vpc-1"),
    "IF-EC2-NAT": one("AWS::EC2::NatGateway", SubnetId="subnet-1", ConnectivityType="private"),
    "IF-EC2-EIP": one("AWS::EC2::EIP", Domain="vpc"),
    "IF-EC2-GW-ATTACH": one("AWS::EC2::VPCGatewayAttachment", VpcId="vpc-1", VpnGatewayId="vgw-1"),
    "IF-EC2-VGW": one("AWS::EC2::VPNGateway", Type="ipsec.1"),
    "IF-EC2-VPN": one("AWS::EC2::CustomerGateway", IpAddress="198.51.100.7", Type="ipsec.1"),
    "IF-DX": one("AWS::DirectConnect::PublicVirtualInterface"),
    "IF-EC2-CLIENT-VPN": one("AWS::EC2::ClientVpnEndpoint", ClientCidrBlock="10.9.0.0/22"),
    "IF-EC2-CARRIER-GW": one("AWS::EC2::CarrierGateway", VpcId="vpc-1"),
    "IF-EC2-LOCAL-GW": one("AWS::EC2::LocalGatewayRouteTableVPCAssociation", VpcId="vpc-1"),
    "IF-EC2-VPC-PEERING": one("AWS::EC2::VPCPeeringConnection", VpcId="vpc-1", PeerVpcId="vpc-2"),
    "IF-EC2-TGW-PEERING": one("AWS::EC2::TransitGatewayPeeringAttachment", TransitGatewayId="tgw-1"),
    "IF-EC2-VERIFIED-ACCESS": one("AWS::EC2::VerifiedAccessEndpoint"),
    "IF-EC2-INSTANCE-CONNECT": one("AWS::EC2::InstanceConnectEndpoint", SubnetId="subnet-1"),
    "IF-EC2-BPA-EXCLUSION": one("AWS::EC2::VPCBlockPublicAccessExclusion", VpcId="vpc-1"),
    "IF-EC2-ROUTE-DEST": one("AWS::EC2::Route", DestinationCidrBlock="0.0.0.0/1", TransitGatewayId="tgw-1"),
    "IF-EC2-ROUTE-TARGET": one("AWS::EC2::Route", DestinationCidrBlock="10.1.0.0/16", NatGatewayId="nat-1"),
    "IF-EC2-SUBNET-PUBLIC": one("AWS::EC2::Subnet", VpcId="vpc-1", CidrBlock="10.0.0.0/24", MapPublicIpOnLaunch=True),
    "IF-EC2-PUBLIC-IP": one(
        "AWS::EC2::LaunchTemplate",
        LaunchTemplateData={"NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": True}]},
    ),
    "IF-DEFAULT-VPC": one("AWS::RDS::DBInstance", Engine="postgres", PubliclyAccessible=False),
    "IF-EC2-VPCE-FOREIGN": one(
        "AWS::EC2::VPCEndpoint", VpcId="vpc-1", ServiceName="com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
    ),
    "IF-EC2-VPCE-SERVICE-PUB": one("AWS::EC2::VPCEndpointServicePermissions", AllowedPrincipals=["*"]),
    "IF-SG-INGRESS-PUBLIC": one(
        "AWS::EC2::SecurityGroup",
        GroupDescription="g",
        SecurityGroupIngress=[{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}],
        SecurityGroupEgress=NO_EGRESS,
    ),
    "IF-SG-EGRESS-PUBLIC": one(
        "AWS::EC2::SecurityGroup", GroupDescription="g", SecurityGroupEgress=[{"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"}]
    ),
    "IF-EC2-NACL-PUBLIC": one("AWS::EC2::NetworkAclEntry", RuleAction="allow", CidrBlock="0.0.0.0/0"),
    "IF-R53-DNS-FIREWALL": one("AWS::EC2::VPC", CidrBlock="10.0.0.0/16"),
    "IF-R53-FORWARD-PUBLIC": one("AWS::Route53Resolver::ResolverRule", RuleType="FORWARD", TargetIps=[{"Ip": "8.8.8.8"}]),
    "IF-ELB-INTERNET-FACING": one("AWS::ElasticLoadBalancingV2::LoadBalancer", Subnets=["subnet-1"]),
    "IF-APIGW-REST-PUBLIC": one("AWS::ApiGateway::RestApi", Name="api"),
    "IF-APIGW-DOMAIN-PUBLIC": one("AWS::ApiGateway::DomainName", DomainName="api.example.com"),
    "IF-APIGWV2": one("AWS::ApiGatewayV2::Api", Name="api", ProtocolType="HTTP"),
    "IF-APPSYNC-PUBLIC": one("AWS::AppSync::GraphQLApi", Name="api", AuthenticationType="AWS_IAM"),
    "IF-CLOUDFRONT": one("AWS::CloudFront::Distribution", DistributionConfig={"Enabled": True}),
    "IF-GLOBAL-ACCELERATOR": one("AWS::GlobalAccelerator::Accelerator", Name="a"),
    "IF-LIGHTSAIL": one("AWS::Lightsail::Instance", InstanceName="i"),
    "IF-AMPLIFY": one("AWS::Amplify::App", Name="app"),
    "IF-APPRUNNER": one("AWS::AppRunner::Service", SourceConfiguration={}),
    "IF-TRANSFER": one("AWS::Transfer::Server", Protocols=["SFTP"]),
    "IF-EKS-PUBLIC-ENDPOINT": one("AWS::EKS::Cluster", RoleArn="arn", ResourcesVpcConfig={"SubnetIds": ["subnet-1"]}),
    "IF-PUBLICLY-ACCESSIBLE": one("AWS::RDS::DBInstance", DBSubnetGroupName="db", PubliclyAccessible=True),
    "IF-OPENSEARCH-VPC": one("AWS::OpenSearchService::Domain", DomainName="d"),
    "IF-AOSS-PUBLIC": one(
        "AWS::OpenSearchServerless::SecurityPolicy",
        Name="n",
        Type="network",
        Policy=json.dumps([{"Rules": [{"ResourceType": "collection"}], "AllowFromPublic": True}]),
    ),
    "IF-MSK-PUBLIC": one(
        "AWS::MSK::Cluster",
        BrokerNodeGroupInfo={"ConnectivityInfo": {"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}}},
    ),
    "IF-MWAA-PUBLIC": one("AWS::MWAA::Environment", Name="a", WebserverAccessMode="PUBLIC_ONLY"),
    "IF-ECR-PUBLIC": one("AWS::ECR::PublicRepository", RepositoryName="r"),
    "IF-LAMBDA-URL": one("AWS::Lambda::Url", AuthType="AWS_IAM", TargetFunctionArn="arn"),
    "IF-LAMBDA-PERMISSION-PUB": one("AWS::Lambda::Permission", Action="lambda:InvokeFunction", Principal="*"),
    "IF-LAMBDA-VPC": one("AWS::Lambda::Function", Role="arn", Code={"ZipFile": "x"}),
    "IF-CODEBUILD-VPC": one("AWS::CodeBuild::Project", Source={"Type": "CODEPIPELINE"}),
    "IF-GLUE-JOB-VPC": one("AWS::Glue::Job", Role="arn", Command={"Name": "glueetl"}),
    "IF-SM-DOMAIN-VPC-ONLY": one("AWS::SageMaker::Domain", DomainName="d", AuthMode="IAM"),
    "IF-SM-NOTEBOOK-INTERNET": one("AWS::SageMaker::NotebookInstance", RootAccess="Disabled", SubnetId="subnet-1"),
    "IF-SM-NOTEBOOK-ROOT": one(
        "AWS::SageMaker::NotebookInstance", DirectInternetAccess="Disabled", SubnetId="subnet-1"
    ),
    "IF-SM-MODEL-VPC": one("AWS::SageMaker::Model", ExecutionRoleArn="arn", EnableNetworkIsolation=True),
    "IF-SM-MODEL-ISOLATION": one("AWS::SageMaker::Model", VpcConfig=VPC_CONFIG, EnableNetworkIsolation=False),
    "IF-SM-JOB-VPC": one("AWS::SageMaker::DataQualityJobDefinition", RoleArn="arn"),
    "IF-SM-HUB-PULL": one(
        "AWS::SageMaker::Model",
        ExecutionRoleArn="arn",
        VpcConfig=VPC_CONFIG,
        PrimaryContainer={"Image": "img", "Environment": {"HF_MODEL_ID": "meta-llama/Llama-3.1-8B"}},
    ),
    "IF-AGENTCORE-PUBLIC": one("AWS::BedrockAgentCore::BrowserCustom", NetworkConfiguration={"NetworkMode": "PUBLIC"}),
    "IF-BEDROCK-DATASOURCE": one("AWS::Bedrock::DataSource", Name="d", DataSourceConfiguration={"Type": "WEB"}),
    "IF-EVENTS-HTTP": one("AWS::Events::Connection", AuthorizationType="API_KEY"),
    "IF-NOTIFY-EXTERNAL": one("AWS::SNS::Subscription", Protocol="https", Endpoint="https://example.com"),
    "IF-FIREHOSE-EXTERNAL": one("AWS::KinesisFirehose::DeliveryStream", HttpEndpointDestinationConfiguration={}),
    "IF-APPFLOW-SAAS": one("AWS::AppFlow::ConnectorProfile", ConnectorType="Salesforce"),
    "IF-CODE-SOURCE-EXTERNAL": one("AWS::CodeStarConnections::Connection", ConnectionName="gh", ProviderType="GitHub"),
    "IF-IAM-USER-CREDENTIALS": one("AWS::IAM::AccessKey", UserName="u"),
    "IF-S3-WEBSITE": bucket(WebsiteConfiguration={"IndexDocument": "index.html"}),
    "IF-S3-PUBLIC-ACCESS-BLOCK": bucket(PublicAccessBlockConfiguration={**BLOCK_ALL, "RestrictPublicBuckets": False}),
    "IF-S3-ACL": bucket(AccessControl="PublicRead"),
    "IF-S3-POLICY-PUBLIC": one(
        "AWS::S3::BucketPolicy", Bucket="other-bucket", PolicyDocument={"Statement": [public_allow("s3:GetObject")]}
    ),
    "IF-S3-VPCE-ONLY": bucket([TLS_DENY]),
    "IF-S3-TLS-ONLY": bucket([VPCE_DENY]),
    "IF-S3-ACCESS-POINT": one("AWS::S3::AccessPoint", Bucket="b"),
    "IF-POLICY-PUBLIC": one("AWS::SQS::QueuePolicy", PolicyDocument={"Statement": [public_allow("sqs:SendMessage")]}),
    "IF-CFN-TRANSFORM": {"Transform": "AWS::Serverless-2016-10-31", "Resources": {}},
    "IF-CFN-UNCHECKED-TEMPLATE": one("AWS::CloudFormation::Stack", TemplateURL="https://example.com/nested.json"),
    "IF-EXEMPTION": {
        "Resources": {
            "R": {"Type": "AWS::SSM::Parameter", "Metadata": {internet_free.EXEMPT_KEY: {"rules": ["IF-EC2-IGW"]}}}
        }
    },
}


def test_every_rule_has_a_breaking_case() -> None:
    assert set(BREAKING) == {checked.id for checked in RULES}


@pytest.mark.parametrize("rule_id", list(BREAKING))
def test_breaking_template_fires_exactly_its_rule(rule_id: str) -> None:
    assert fired(BREAKING[rule_id]) == {rule_id}


def test_rules_run_in_the_order_they_are_listed_here() -> None:
    # The order rules run and are reported in (rules/__init__.py imports the families in order).
    assert [checked.id for checked in RULES] == list(BREAKING)


def test_rules_are_documented() -> None:
    reference = RULES_DOC.read_text()
    for checked in RULES:
        assert re.fullmatch(r"IF-[A-Z0-9-]+", checked.id)
        assert checked.title and checked.types and checked.description
        assert checked.fix and "Fix:" in checked.doc
        assert f"### {checked.id}: {checked.title}\n" in reference
    assert len({checked.id for checked in RULES}) == len(RULES)


def test_rules_reference_is_current() -> None:
    assert RULES_DOC.read_text() == render_rules_doc(), (
        "docs/internet-free-rules.md is stale: run `python -m infra.compliance.internet_free --rules-doc`"
    )


def test_rules_reference_command(capsys: pytest.CaptureFixture[str]) -> None:
    from infra.compliance.internet_free.__main__ import run

    assert write_rules_doc(check=True) == 0
    assert run(["--rules-doc", "--check"]) == 0
    assert "current: docs/internet-free-rules.md" in capsys.readouterr().out
    assert run(["--rules-doc", "--bogus"]) == 2


def clean_template() -> dict:
    """An internet-free slice of a platform: every kind of resource the pack checks, done right."""
    vpc_cidr = {"Fn::GetAtt": ["Vpc", "CidrBlock"]}
    region_service = {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}
    template = bucket()
    template["Resources"].update(
        {
            "Vpc": res("AWS::EC2::VPC", CidrBlock="10.0.0.0/16"),
            "DnsFirewall": res(
                "AWS::Route53Resolver::FirewallRuleGroupAssociation",
                FirewallRuleGroupId="rslvr-frg-1",
                Priority=101,
                VpcId={"Ref": "Vpc"},
            ),
            "Isolated": res(
                "AWS::EC2::Subnet", VpcId={"Ref": "Vpc"}, CidrBlock="10.0.0.0/24", MapPublicIpOnLaunch=False
            ),
            "Routes": res("AWS::EC2::RouteTable", VpcId={"Ref": "Vpc"}),
            "ToShared": res(
                "AWS::EC2::Route",
                RouteTableId={"Ref": "Routes"},
                DestinationCidrBlock="10.64.0.0/16",
                TransitGatewayId="tgw-1",
            ),
            "S3Endpoint": res(
                "AWS::EC2::VPCEndpoint",
                VpcId={"Ref": "Vpc"},
                ServiceName=region_service,
                RouteTableIds=[{"Ref": "Routes"}],
            ),
            "StudioEndpoint": res(
                "AWS::EC2::VPCEndpoint",
                VpcId={"Ref": "Vpc"},
                VpcEndpointType="Interface",
                ServiceName={"Fn::Sub": "aws.sagemaker.${AWS::Region}.studio"},
            ),
            "Sg": res(
                "AWS::EC2::SecurityGroup",
                GroupDescription="functions",
                VpcId={"Ref": "Vpc"},
                SecurityGroupIngress=[{"CidrIp": vpc_cidr, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}],
                SecurityGroupEgress=[{"DestinationPrefixListId": "pl-6da54004", "IpProtocol": "tcp", "FromPort": 443}],
            ),
            "DenyAll": res("AWS::EC2::NetworkAclEntry", RuleAction="deny", CidrBlock="0.0.0.0/0"),
            "Api": res(
                "AWS::ApiGateway::RestApi",
                Name="api",
                EndpointConfiguration={"Types": ["PRIVATE"], "VpcEndpointIds": [{"Ref": "StudioEndpoint"}]},
                Policy={
                    "Statement": [
                        public_allow("execute-api:Invoke"),
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "execute-api:Invoke",
                            "Resource": "*",
                            "Condition": {"StringNotEquals": {"aws:SourceVpce": {"Ref": "StudioEndpoint"}}},
                        },
                    ]
                },
            ),
            "Fn": res(
                "AWS::Lambda::Function",
                Role="arn",
                Code={"ZipFile": "x"},
                VpcConfig={"SubnetIds": [{"Ref": "Isolated"}], "SecurityGroupIds": [{"Ref": "Sg"}]},
            ),
            "FnPermission": res(
                "AWS::Lambda::Permission",
                Action="lambda:InvokeFunction",
                FunctionName={"Ref": "Fn"},
                Principal="apigateway.amazonaws.com",
                SourceArn="arn:aws:execute-api:eu-west-1:111122223333:api/*",
            ),
            "Domain": res("AWS::SageMaker::Domain", DomainName="d", AuthMode="IAM", AppNetworkAccessType="VpcOnly"),
            "Model": res(
                "AWS::SageMaker::Model",
                ExecutionRoleArn="arn",
                VpcConfig=VPC_CONFIG,
                EnableNetworkIsolation=True,
                PrimaryContainer={"Image": "img", "Environment": {"HF_MODEL_ID": "/opt/ml/model"}},
            ),
            "Key": res(
                "AWS::KMS::Key",
                KeyPolicy={
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*"},
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                            "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}},
                        },
                    ]
                },
            ),
            "Topic": res("AWS::SNS::Topic", Subscription=[{"Protocol": "sqs", "Endpoint": "arn"}]),
        }
    )
    return template


def test_clean_template_has_no_findings() -> None:
    assert check_template(clean_template(), "clean.json") == []


@pytest.mark.parametrize(
    ("rule_id", "template"),
    [
        pytest.param(
            "IF-EC2-SUBNET-PUBLIC",
            one("AWS::EC2::Subnet", MapPublicIpOnLaunch={"Fn::If": ["C", True, False]}),
            id="if-branch-may-be-public",
        ),
        pytest.param(
            "IF-EC2-SUBNET-PUBLIC",
            one("AWS::EC2::Subnet", MapPublicIpOnLaunch={"Ref": "Public"}),
            id="unresolved-switch-is-conservative",
        ),
        pytest.param(
            "IF-EC2-ROUTE-DEST",
            {
                "Parameters": {"Destination": {"Type": "String", "Default": "0.0.0.0/0"}},
                "Resources": {"R": res("AWS::EC2::Route", DestinationCidrBlock={"Ref": "Destination"})},
            },
            id="parameter-default",
        ),
        pytest.param(
            "IF-EC2-ROUTE-DEST",
            one("AWS::EC2::Route", DestinationCidrBlock={"Fn::ImportValue": "cidr"}),
            id="unresolved-route-destination",
        ),
        pytest.param(
            "IF-EC2-ROUTE-DEST",
            one("AWS::EC2::Route", DestinationIpv6CidrBlock="::/0", TransitGatewayId="tgw"),
            id="ipv6-default-route",
        ),
        pytest.param(
            "IF-LAMBDA-VPC",
            one(
                "AWS::Lambda::Function",
                Role="arn",
                Code={"ZipFile": "x"},
                VpcConfig={"Fn::If": ["C", {"SubnetIds": ["s"], "SecurityGroupIds": ["g"]}, {"Ref": "AWS::NoValue"}]},
            ),
            id="novalue-branch",
        ),
        pytest.param(
            "IF-APIGW-REST-PUBLIC",
            one("AWS::ApiGateway::RestApi", Name="a", EndpointConfiguration={"Types": ["PRIVATE", "REGIONAL"]}),
            id="not-exactly-private",
        ),
        pytest.param(
            "IF-POLICY-PUBLIC",
            one(
                "AWS::Logs::ResourcePolicy",
                PolicyName="p",
                PolicyDocument={
                    "Fn::Join": [
                        "",
                        ['{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"', {"Ref": "G"}, '"}]}'],
                    ]
                },
            ),
            id="policy-built-as-string",
        ),
        pytest.param(
            "IF-POLICY-PUBLIC",
            one(
                "AWS::SNS::TopicPolicy",
                Topics=["t"],
                PolicyDocument={
                    "Statement": [
                        public_allow("sns:Publish", Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}})
                    ]
                },
            ),
            id="ifexists-does-not-restrict",
        ),
        pytest.param(
            "IF-POLICY-PUBLIC",
            one(
                "AWS::SecretsManager::ResourcePolicy",
                SecretId="s",
                ResourcePolicy={
                    "Statement": [
                        public_allow("secretsmanager:*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
                    ]
                },
            ),
            id="source-ip-does-not-restrict",
        ),
        pytest.param(
            "IF-POLICY-PUBLIC",
            one(
                "AWS::IAM::Role",
                AssumeRolePolicyDocument={
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}}]
                },
            ),
            id="public-trust-policy",
        ),
        pytest.param(
            "IF-POLICY-PUBLIC",
            one("AWS::Events::EventBusPolicy", StatementId="s", Action="events:PutEvents", Principal="*"),
            id="legacy-event-bus-policy",
        ),
        pytest.param(
            "IF-S3-VPCE-ONLY",
            bucket([TLS_DENY, {**VPCE_DENY, "Condition": {**VPCE_DENY["Condition"], **ADMIN_ESCAPE}}]),
            id="vpce-deny-with-escape-hatch",
        ),
        pytest.param(
            "IF-S3-VPCE-ONLY",
            bucket([TLS_DENY, {**VPCE_DENY, "Action": "s3:GetObject"}]),
            id="vpce-deny-covers-one-action",
        ),
        pytest.param(
            "IF-POLICY-PUBLIC",
            one(
                "AWS::ApiGateway::RestApi",
                EndpointConfiguration={"Types": ["PRIVATE"]},
                Policy={
                    "Statement": [
                        public_allow("execute-api:Invoke"),
                        {**VPCE_DENY, "Action": "*", "Condition": {"StringNotLike": {"aws:SourceVpce": "*"}}},
                    ]
                },
            ),
            id="wildcard-fence-does-not-fence",
        ),
        pytest.param(
            "IF-CFN-UNCHECKED-TEMPLATE",
            one("AWS::CloudFormation::StackSet", TemplateBody=json.dumps(one("AWS::EC2::InternetGateway"))),
            id="stackset-body-is-checked",
        ),
        pytest.param(
            "IF-EC2-PUBLIC-IP",
            one("AWS::ECS::Service", NetworkConfiguration={"AwsvpcConfiguration": {"AssignPublicIp": "ENABLED"}}),
            id="ecs-assign-public-ip",
        ),
        pytest.param(
            "IF-PUBLICLY-ACCESSIBLE",
            one("AWS::DMS::ReplicationInstance", ReplicationSubnetGroupIdentifier="g"),
            id="dms-public-by-default",
        ),
        pytest.param(
            "IF-CFN-TRANSFORM",
            one("AWS::SSM::Parameter", Value={"Fn::Transform": {"Name": "AWS::Include"}}),
            id="inline-transform",
        ),
    ],
)
def test_intrinsics_and_edge_cases_are_findings(rule_id: str, template: dict) -> None:
    assert fired(template) == {rule_id}


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(
            one(
                "AWS::EC2::SecurityGroupEgress",
                GroupId="sg",
                IpProtocol="tcp",
                CidrIp={"Fn::ImportValue": "vpc-cidr"},
            ),
            id="imported-peer-cidr-is-accepted",
        ),
        pytest.param(
            one(
                "AWS::SQS::QueuePolicy",
                Queues=["q"],
                PolicyDocument={
                    "Statement": [public_allow("sqs:*", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})]
                },
            ),
            id="source-vpce-restricts",
        ),
        pytest.param(
            one(
                "AWS::CloudFormation::Stack",
                TemplateURL={
                    "Fn::Join": [
                        "",
                        [
                            "https://s3.amazonaws.com/",
                            {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"},
                            "/" + "a" * 64 + ".json",
                        ],
                    ]
                },
            ),
            id="cdk-nested-stack-asset",
        ),
        pytest.param(
            one("AWS::EC2::TransitGatewayRoute", DestinationCidrBlock="0.0.0.0/0", Blackhole=True),
            id="blackhole-default-route",
        ),
        pytest.param(
            one("AWS::ElasticLoadBalancingV2::LoadBalancer", Type="gateway", Subnets=["s"]),
            id="gateway-load-balancer",
        ),
        pytest.param(
            bucket([TLS_DENY, {**VPCE_DENY, "Condition": {**VPCE_DENY["Condition"], **AWS_SERVICE_CARVE_OUTS}}]),
            id="vpce-deny-with-aws-service-carve-outs",
        ),
    ],
)
def test_accepted_patterns_have_no_findings(template: dict) -> None:
    assert fired(template) == set()


def exempted_gateway(entry: object) -> dict:
    return {"Resources": {"Igw": {"Type": "AWS::EC2::InternetGateway", "Metadata": {internet_free.EXEMPT_KEY: entry}}}}


def test_exemption_with_reason_silences_the_named_rule() -> None:
    assert fired(exempted_gateway({"rules": ["IF-EC2-IGW"], "reason": "egress VPC reviewed in SEC-42"})) == set()


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param({"rules": ["IF-EC2-IGW"]}, id="no-reason"),
        pytest.param({"rules": ["IF-EC2-IGW"], "reason": "  "}, id="blank-reason"),
        pytest.param({"rules": ["IF-EC2-IGW", "IF-TYPO"], "reason": "r"}, id="unknown-rule"),
        pytest.param({"rules": ["IF-EXEMPTION", "IF-EC2-IGW"], "reason": "r"}, id="exempting-the-exemption-rule"),
        pytest.param(["IF-EC2-IGW"], id="not-an-object"),
    ],
)
def test_malformed_exemption_is_a_finding_and_exempts_nothing(entry: object) -> None:
    assert fired(exempted_gateway(entry)) == {"IF-EXEMPTION", "IF-EC2-IGW"}


def test_exemption_covers_only_the_named_rules() -> None:
    template = exempted_gateway({"rules": ["IF-EC2-NAT"], "reason": "wrong rule"})
    assert fired(template) == {"IF-EC2-IGW"}


def test_template_metadata_exempts_template_level_rules() -> None:
    template = {
        "Transform": "AWS::LanguageExtensions",
        "Metadata": {internet_free.EXEMPT_KEY: {"rules": ["IF-CFN-TRANSFORM"], "reason": "expanded and checked in CI"}},
        "Resources": {},
    }
    assert fired(template) == set()


# --------------------------------------------------------------------------- loading and CLI


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny cloud assembly: a stack with a nested stack, and a stage with one stack."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    top = cdk.Stack(app, "Top")
    ec2.CfnInternetGateway(top, "Igw")
    s3.CfnBucket(cdk.NestedStack(top, "Nested"), "NestedBucket")
    ec2.CfnNatGateway(cdk.Stack(cdk.Stage(app, "Prod"), "Inner"), "Nat", subnet_id="subnet-1")
    app.synth()
    return outdir


def test_load_templates_follows_stacks_nested_stacks_and_stages(assembly: Path) -> None:
    names = sorted(Path(name).relative_to(assembly).as_posix() for name, _ in load_templates([assembly]))
    assert names == [
        "Top.template.json",
        "TopNested131F2902.nested.template.json",
        "assembly-Prod/ProdInner6AE3BBF4.template.json",
    ]
    checked = internet_free.check_paths([assembly / "manifest.json"])
    findings = {(Path(f.template).name, f.logical_id, f.rule_id) for f in checked}
    assert ("Top.template.json", "Igw", "IF-EC2-IGW") in findings
    assert ("ProdInner6AE3BBF4.template.json", "Nat", "IF-EC2-NAT") in findings
    assert ("TopNested131F2902.nested.template.json", "NestedBucket", "IF-S3-VPCE-ONLY") in findings


def test_load_templates_reads_yaml_short_forms(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Conditions:\n  Public: !Equals [!Ref AWS::Region, eu-west-1]\n"
        "Resources:\n"
        "  Subnet:\n    Type: AWS::EC2::Subnet\n    Properties:\n"
        "      VpcId: !Ref Vpc\n      CidrBlock: !GetAtt Vpc.CidrBlock\n"
        "      MapPublicIpOnLaunch: !If [Public, true, false]\n"
    )
    ((name, template),) = load_templates([path])
    assert template["Resources"]["Subnet"]["Properties"]["VpcId"] == {"Ref": "Vpc"}
    assert fired(template) == {"IF-EC2-SUBNET-PUBLIC"}


@pytest.mark.parametrize(
    ("content", "name"),
    [
        pytest.param(None, "missing.json", id="missing"),
        pytest.param("hello", "notes.txt", id="not-a-template-suffix"),
        pytest.param('{"artifacts": {}}', "other.json", id="json-not-a-template"),
        pytest.param("{oops", "broken.json", id="broken-json"),
    ],
)
def test_load_templates_rejects_bad_paths(tmp_path: Path, content: str | None, name: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_templates([path])


def test_load_templates_rejects_a_folder_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a cloud assembly"):
        load_templates([tmp_path])


def test_main_exit_codes_and_output(tmp_path: Path, assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(clean_template()))
    assert main([str(clean)]) == 0
    assert capsys.readouterr().out == "internet-free: 1 templates checked, clean\n"

    assert main([str(assembly)]) == 1
    captured = capsys.readouterr()
    rows = [line.split("\t") for line in captured.out.splitlines()]
    assert all(len(row) == 5 for row in rows)
    gateway = [str(assembly / "Top.template.json"), "Igw", "AWS::EC2::InternetGateway", "IF-EC2-IGW"]
    assert gateway in [row[:4] for row in rows]
    assert "3 templates checked" in captured.err

    assert main([str(tmp_path / "nowhere")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert main([]) == 2


def test_main_prints_a_table_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "igw.json"
    path.write_text(json.dumps(one("AWS::EC2::InternetGateway")))
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "IF-EC2-IGW" in out and "\t" not in out


# --------------------------------------------------------------------------- CDK plugin


def test_plugin_fails_synth_on_a_nested_internet_gateway(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(InternetFreeChecks())
    ec2.CfnInternetGateway(cdk.NestedStack(cdk.Stack(app, "Top"), "Network"), "Igw")
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "Top/Network/Igw" in str(failure.value)
    assert "fmops-internet-free::IF-EC2-IGW" in str(failure.value)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert '"IF-EC2-IGW"' in json.dumps(report)


def test_plugin_passes_a_clean_app_with_a_reasoned_exemption(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    plugin = InternetFreeChecks()
    cdk.Validations.of(app).add_plugins(plugin)
    stack = cdk.Stack(app, "Clean")
    ssm.StringParameter(stack, "Setting", string_value="internet-free")
    gateway = ec2.CfnInternetGateway(stack, "ReviewedIgw")
    gateway.add_metadata(internet_free.EXEMPT_KEY, {"rules": ["IF-EC2-IGW"], "reason": "egress VPC reviewed in SEC-42"})
    app.synth()
    assert plugin.name == "fmops-internet-free" and "IF-EC2-IGW" in plugin.rule_ids
