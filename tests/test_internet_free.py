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
from infra.compliance.internet_free.organisation import Organisation
from infra.compliance.internet_free.plugin import InternetFreeChecks

ORG = Organisation(frozenset({"111122223333", "444455556666"}), "o-abcdefghij")
"""The organisation of these tests: two accounts (the first also hosts the mirror)."""

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
MIRROR_IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/fmops/tgi-inference:2.4.0"
LAMBDA_VPC = {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
CODEBUILD_VPC = {"VpcId": "vpc-1", "Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
INLINE_BUILDSPEC = "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n"
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


def fired(template: dict, organisation: Organisation = ORG) -> set[str]:
    return {finding.rule_id for finding in check_template(template, "t.json", organisation)}


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
    "IF-CODEBUILD-VPC": one("AWS::CodeBuild::Project", Source={"Type": "CODEPIPELINE", "BuildSpec": INLINE_BUILDSPEC}),
    "IF-GLUE-CONNECTION-VPC": one("AWS::Glue::Connection", CatalogId="1", ConnectionInput={
        "ConnectionType": "JDBC", "ConnectionProperties": {"JDBC_CONNECTION_URL": "jdbc:mysql://db.example.com/x"}}),
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
        PrimaryContainer={"Image": MIRROR_IMAGE, "Environment": {"HF_MODEL_ID": "meta-llama/Llama-3.1-8B"}},
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
    "IF-R53-FIREWALL-RULES": {
        "Resources": {
            "Everything": res("AWS::Route53Resolver::FirewallDomainList", Domains=["*"]),
            "R": res(
                "AWS::Route53Resolver::FirewallRuleGroup",
                FirewallRules=[
                    {"Action": "ALLOW", "FirewallDomainListId": {"Fn::GetAtt": ["Everything", "Id"]}, "Priority": 1},
                    {"Action": "BLOCK", "FirewallDomainListId": {"Fn::GetAtt": ["Everything", "Id"]}, "Priority": 2,
                     "BlockResponse": "NODATA"},
                ],
            ),
        }
    },
    "IF-R53-RESOLVER-RULE-SHARED": one(
        "AWS::Route53Resolver::ResolverRuleAssociation", ResolverRuleId="rslvr-rr-shared1", VPCId="vpc-1"
    ),
    "IF-RAM-SHARE": one("AWS::RAM::ResourceShare", Name="subnets", Principals=["o-abcdefghij"]),
    "IF-NETWORK-ATTACHMENT": one(
        "AWS::EC2::TransitGatewayVpcAttachment", TransitGatewayId="tgw-1", VpcId="vpc-1", SubnetIds=["subnet-1"]
    ),
    "IF-NETWORK-FIREWALL-PASS": one(
        "AWS::NetworkFirewall::FirewallPolicy",
        FirewallPolicyName="p",
        FirewallPolicy={"StatelessDefaultActions": ["aws:pass"], "StatelessFragmentDefaultActions": ["aws:drop"]},
    ),
    "IF-TRAFFIC-MIRROR": one("AWS::EC2::TrafficMirrorTarget", NetworkInterfaceId="eni-1"),
    "IF-POLICY-PUBLIC": one("AWS::SQS::QueuePolicy", PolicyDocument={"Statement": [public_allow("sqs:SendMessage")]}),
    "IF-POLICY-OUTSIDE-ORG": one(
        "AWS::SQS::QueuePolicy",
        Queues=["q"],
        PolicyDocument={"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                                       "Action": "sqs:SendMessage", "Resource": "*"}]},
    ),
    "IF-TRUST-FEDERATED": one(
        "AWS::IAM::Role",
        AssumeRolePolicyDocument={"Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        }]},
    ),
    "IF-SHARE-OUTSIDE-ORG": one(
        "AWS::ServiceCatalog::PortfolioShare", PortfolioId="port-1", AccountId="999988887777"
    ),
    "IF-DATA-OUTSIDE-ORG": bucket(
        ReplicationConfiguration={
            "Role": "arn",
            "Rules": [{"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::backup-999988887777"}}],
        }
    ),
    "IF-IMAGE-SOURCE": one(
        "AWS::SageMaker::Model", ExecutionRoleArn="arn", VpcConfig=VPC_CONFIG, EnableNetworkIsolation=True,
        PrimaryContainer={"Image": "ghcr.io/huggingface/text-generation-inference:2.4.0"},
    ),
    "IF-CODE-BUCKET": one(
        "AWS::Lambda::Function", Role="arn", VpcConfig=LAMBDA_VPC, Code={"S3Bucket": "public-code", "S3Key": "f.zip"}
    ),
    "IF-EMBEDDED-FETCH": one(
        "AWS::CodeBuild::Project", VpcConfig=CODEBUILD_VPC,
        Source={"Type": "CODEPIPELINE", "BuildSpec": "version: 0.2\nphases:\n  build:\n    commands:\n"
                "      - pip install --index-url https://pypi.org/simple torch\n"},
    ),
    "IF-EMBEDDED-OUTSIDE": one(
        "AWS::StepFunctions::StateMachine", RoleArn="arn", DefinitionS3Location={"Bucket": "b", "Key": "k"}
    ),
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
        assert f"#### {checked.id}: {checked.title}\n" in reference
        assert checked.perimeter in internet_free.PERIMETERS
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
                PrimaryContainer={"Image": MIRROR_IMAGE, "Environment": {"HF_MODEL_ID": "/opt/ml/model"}},
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


def clean_part(*logical_ids: str) -> dict:
    """The named resources of the clean template (each a near miss of the rules it passes)."""
    resources = clean_template()["Resources"]
    return {"Resources": {logical_id: resources[logical_id] for logical_id in logical_ids}}


def guarded_vpcs(*names: str, **extra: dict) -> dict:
    """VPCs with their DNS firewall associations, plus ``extra`` resources."""
    resources: dict = {}
    for name in names:
        resources[name] = res("AWS::EC2::VPC", CidrBlock="10.0.0.0/16")
        resources[f"{name}Firewall"] = res(
            "AWS::Route53Resolver::FirewallRuleGroupAssociation", FirewallRuleGroupId="g", Priority=101,
            VpcId={"Ref": name},
        )
    return {"Resources": {**resources, **extra}}


def endpoint(service: str) -> dict:
    return one("AWS::EC2::VPCEndpoint", VpcId="vpc-1", VpcEndpointType="Interface",
               ServiceName=f"com.amazonaws.eu-west-1.{service}")


def statement_to(principal: object, condition: dict | None = None) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": "*",
            **({"Condition": condition} if condition else {})}


def queue_policy(*statements: dict) -> dict:
    return one("AWS::SQS::QueuePolicy", Queues=["q"], PolicyDocument={"Statement": list(statements)})


ALLOW_THEN_BLOCK = {
    "Resources": {
        "Aws": res("AWS::Route53Resolver::FirewallDomainList", Domains=["*.amazonaws.com", "*.internal"]),
        "Everything": res("AWS::Route53Resolver::FirewallDomainList", Domains=["*"]),
        "R": res(
            "AWS::Route53Resolver::FirewallRuleGroup",
            FirewallRules=[
                {"Action": "ALLOW", "FirewallDomainListId": {"Fn::GetAtt": ["Aws", "Id"]}, "Priority": 1},
                {"Action": "BLOCK", "FirewallDomainListId": {"Fn::GetAtt": ["Everything", "Id"]}, "Priority": 2,
                 "BlockResponse": "NODATA"},
            ],
        ),
    }
}

# One template per rule that comes close to breaking it (same resource type or the same kind of
# path) and is clean: the verifier must not cry wolf.
NEAR_MISS = {
    "IF-EC2-IGW": one("AWS::EC2::VPCEndpoint", VpcId="vpc-1", ServiceName="com.amazonaws.eu-west-1.s3"),
    "IF-EC2-EIGW": one("AWS::EC2::VPCCidrBlock", VpcId="vpc-1", AmazonProvidedIpv6CidrBlock=True),
    "IF-EC2-NAT": one("AWS::EC2::Route", RouteTableId="rtb-1", DestinationCidrBlock="10.1.0.0/16", TransitGatewayId="t"),
    "IF-EC2-EIP": one("AWS::EC2::NetworkInterface", SubnetId="subnet-1", PrivateIpAddress="10.0.0.5"),
    "IF-EC2-GW-ATTACH": one("AWS::EC2::SubnetRouteTableAssociation", SubnetId="subnet-1", RouteTableId="rtb-1"),
    "IF-EC2-VGW": one("AWS::EC2::RouteTable", VpcId="vpc-1"),
    "IF-EC2-VPN": one("AWS::EC2::PrefixList", PrefixListName="p", AddressFamily="IPv4", MaxEntries=1,
                      Entries=[{"Cidr": "10.0.0.0/8"}]),
    "IF-DX": endpoint("sts"),
    "IF-EC2-CLIENT-VPN": one("AWS::EC2::SecurityGroup", GroupDescription="g", SecurityGroupEgress=NO_EGRESS,
                             SecurityGroupIngress=[{"CidrIp": "10.0.0.0/16", "IpProtocol": "tcp"}]),
    "IF-EC2-CARRIER-GW": one("AWS::EC2::Subnet", VpcId="vpc-1", CidrBlock="10.0.1.0/24"),
    "IF-EC2-LOCAL-GW": one("AWS::EC2::SubnetNetworkAclAssociation", SubnetId="subnet-1", NetworkAclId="acl-1"),
    "IF-EC2-VPC-PEERING": guarded_vpcs(
        "A", "B", Peering=res("AWS::EC2::VPCPeeringConnection", VpcId={"Ref": "A"}, PeerVpcId={"Ref": "B"})
    ),
    "IF-EC2-TGW-PEERING": one("AWS::EC2::TransitGatewayRoute", DestinationCidrBlock="0.0.0.0/0", Blackhole=True),
    "IF-EC2-VERIFIED-ACCESS": endpoint("ssm"),
    "IF-EC2-INSTANCE-CONNECT": endpoint("ssmmessages"),
    "IF-EC2-BPA-EXCLUSION": one("AWS::EC2::VPCBlockPublicAccessOptions", InternetGatewayBlockMode="block-bidirectional"),
    "IF-EC2-ROUTE-DEST": one("AWS::EC2::Route", DestinationCidrBlock="100.64.0.0/10", TransitGatewayId="tgw-1"),
    "IF-EC2-ROUTE-TARGET": one("AWS::EC2::Route", DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId="pcx-1"),
    "IF-EC2-SUBNET-PUBLIC": one("AWS::EC2::Subnet", VpcId="vpc-1", CidrBlock="10.0.0.0/24", MapPublicIpOnLaunch=False),
    "IF-EC2-PUBLIC-IP": one(
        "AWS::EC2::LaunchTemplate",
        LaunchTemplateData={"NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": False}]},
    ),
    "IF-DEFAULT-VPC": one("AWS::RDS::DBInstance", Engine="postgres", DBSubnetGroupName="db", PubliclyAccessible=False),
    "IF-EC2-VPCE-FOREIGN": endpoint("bedrock-runtime"),
    "IF-EC2-VPCE-SERVICE-PUB": one(
        "AWS::EC2::VPCEndpointServicePermissions", ServiceId="vpce-svc-1",
        AllowedPrincipals=["arn:aws:iam::444455556666:root"],
    ),
    "IF-SG-INGRESS-PUBLIC": clean_part("Sg"),
    "IF-SG-EGRESS-PUBLIC": one("AWS::EC2::SecurityGroupEgress", GroupId="sg-1", IpProtocol="tcp",
                               DestinationPrefixListId="pl-6da54004"),
    "IF-EC2-NACL-PUBLIC": clean_part("DenyAll"),
    "IF-R53-DNS-FIREWALL": guarded_vpcs("Vpc"),
    "IF-R53-FORWARD-PUBLIC": one("AWS::Route53Resolver::ResolverRule", RuleType="FORWARD", TargetIps=[{"Ip": "10.0.0.2"}]),
    "IF-ELB-INTERNET-FACING": one("AWS::ElasticLoadBalancingV2::LoadBalancer", Scheme="internal", Subnets=["s"]),
    "IF-APIGW-REST-PUBLIC": clean_part("Api"),
    "IF-APIGW-DOMAIN-PUBLIC": one("AWS::ApiGateway::DomainName", DomainName="api.internal",
                                  EndpointConfiguration={"Types": ["PRIVATE"]}),
    "IF-APIGWV2": one("AWS::ApiGateway::RestApi", Name="api", EndpointConfiguration={"Types": ["PRIVATE"]}),
    "IF-APPSYNC-PUBLIC": one("AWS::AppSync::GraphQLApi", Name="api", AuthenticationType="AWS_IAM",
                             Visibility="PRIVATE"),
    "IF-CLOUDFRONT": one("AWS::CloudWatch::Dashboard", DashboardBody="{}"),
    "IF-GLOBAL-ACCELERATOR": one("AWS::ElasticLoadBalancingV2::LoadBalancer", Type="network", Scheme="internal"),
    "IF-LIGHTSAIL": one("AWS::EC2::LaunchTemplate", LaunchTemplateData={"InstanceType": "t3.micro"}),
    "IF-AMPLIFY": one("AWS::CodeCommit::Repository", RepositoryName="app"),
    "IF-APPRUNNER": one("AWS::ECS::Cluster", ClusterName="c"),
    "IF-TRANSFER": one("AWS::Transfer::Server", Protocols=["SFTP"], EndpointType="VPC",
                       EndpointDetails={"VpcId": "vpc-1", "SubnetIds": ["subnet-1"]}),
    "IF-EKS-PUBLIC-ENDPOINT": one(
        "AWS::EKS::Cluster", RoleArn="arn",
        ResourcesVpcConfig={"SubnetIds": ["subnet-1"], "EndpointPublicAccess": False, "EndpointPrivateAccess": True},
    ),
    "IF-PUBLICLY-ACCESSIBLE": one("AWS::RDS::DBInstance", DBSubnetGroupName="db", PubliclyAccessible=False),
    "IF-OPENSEARCH-VPC": one("AWS::OpenSearchService::Domain", DomainName="d",
                             VPCOptions={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}),
    "IF-AOSS-PUBLIC": one(
        "AWS::OpenSearchServerless::SecurityPolicy", Name="n", Type="network",
        Policy=json.dumps([{"Rules": [{"ResourceType": "collection"}], "AllowFromPublic": False,
                            "SourceVPCEs": ["vpce-1"]}]),
    ),
    "IF-MSK-PUBLIC": one("AWS::MSK::Cluster", BrokerNodeGroupInfo={"ConnectivityInfo": {"PublicAccess": {"Type": "DISABLED"}}}),
    "IF-MWAA-PUBLIC": one("AWS::MWAA::Environment", Name="a", WebserverAccessMode="PRIVATE_ONLY"),
    "IF-ECR-PUBLIC": one("AWS::ECR::Repository", RepositoryName="r"),
    "IF-LAMBDA-URL": clean_part("FnPermission"),
    "IF-LAMBDA-PERMISSION-PUB": one("AWS::Lambda::Permission", Action="lambda:InvokeFunction", FunctionName="f",
                                    Principal="*", PrincipalOrgID="o-abcdefghij"),
    "IF-LAMBDA-VPC": one("AWS::Lambda::Function", Role="arn", Code={"ZipFile": "x"}, VpcConfig=LAMBDA_VPC),
    "IF-CODEBUILD-VPC": one("AWS::CodeBuild::Project", VpcConfig=CODEBUILD_VPC,
                            Source={"Type": "CODEPIPELINE", "BuildSpec": INLINE_BUILDSPEC}),
    "IF-GLUE-CONNECTION-VPC": one("AWS::Glue::Connection", CatalogId="1", ConnectionInput={
        "ConnectionType": "NETWORK", "PhysicalConnectionRequirements": {
            "SubnetId": "subnet-1", "SecurityGroupIdList": ["sg-1"], "AvailabilityZone": "eu-west-1a"}}),
    "IF-GLUE-JOB-VPC": one("AWS::Glue::Job", Role="arn", Command={"Name": "glueetl"},
                           Connections={"Connections": ["vpc-connection"]}),
    "IF-SM-DOMAIN-VPC-ONLY": clean_part("Domain"),
    "IF-SM-NOTEBOOK-INTERNET": one("AWS::SageMaker::NotebookInstance", RootAccess="Disabled", SubnetId="subnet-1",
                                   DirectInternetAccess="Disabled"),
    "IF-SM-NOTEBOOK-ROOT": one("AWS::SageMaker::NotebookInstance", RootAccess="Disabled", SubnetId="subnet-1",
                               DirectInternetAccess="Disabled"),
    "IF-SM-MODEL-VPC": clean_part("Model"),
    "IF-SM-MODEL-ISOLATION": one("AWS::SageMaker::Model", ExecutionRoleArn="arn", VpcConfig=VPC_CONFIG),
    "IF-SM-JOB-VPC": one("AWS::SageMaker::DataQualityJobDefinition", RoleArn="arn",
                         NetworkConfig={"VpcConfig": VPC_CONFIG}),
    "IF-SM-HUB-PULL": one("AWS::SageMaker::Model", ExecutionRoleArn="arn", VpcConfig=VPC_CONFIG,
                          PrimaryContainer={"Image": MIRROR_IMAGE,
                                            "Environment": {"HF_MODEL_ID": "s3://models-111122223333/llama/"}}),
    "IF-AGENTCORE-PUBLIC": one("AWS::BedrockAgentCore::BrowserCustom", NetworkConfiguration={"NetworkMode": "VPC"}),
    "IF-BEDROCK-DATASOURCE": one("AWS::Bedrock::DataSource", Name="d", DataSourceConfiguration={"Type": "S3"}),
    "IF-EVENTS-HTTP": one("AWS::Events::Connection", AuthorizationType="API_KEY",
                          InvocationConnectivityParameters={"ResourceParameters": {"ResourceConfigurationArn": "a"}}),
    "IF-NOTIFY-EXTERNAL": one("AWS::SNS::Subscription", Protocol="sqs", TopicArn="t",
                              Endpoint="arn:aws:sqs:eu-west-1:444455556666:q"),
    "IF-FIREHOSE-EXTERNAL": one(
        "AWS::KinesisFirehose::DeliveryStream",
        ExtendedS3DestinationConfiguration={"BucketARN": "arn:aws:s3:::logs-111122223333", "RoleARN": "r"},
    ),
    "IF-APPFLOW-SAAS": one("AWS::Glue::Connection", CatalogId="1", ConnectionInput={
        "ConnectionType": "NETWORK", "PhysicalConnectionRequirements": {"SubnetId": "subnet-1", "SecurityGroupIdList": ["sg-1"]}}),
    "IF-CODE-SOURCE-EXTERNAL": one("AWS::CodeBuild::Project", VpcConfig=CODEBUILD_VPC,
                                   Source={"Type": "CODECOMMIT", "Location": "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/r",
                                           "BuildSpec": INLINE_BUILDSPEC}),
    "IF-IAM-USER-CREDENTIALS": one("AWS::IAM::User", UserName="u"),
    "IF-S3-WEBSITE": bucket(),
    "IF-S3-PUBLIC-ACCESS-BLOCK": bucket(),
    "IF-S3-ACL": bucket(AccessControl="Private"),
    "IF-S3-POLICY-PUBLIC": one(
        "AWS::S3::BucketPolicy", Bucket="other-bucket",
        PolicyDocument={"Statement": [public_allow("s3:GetObject", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})]},
    ),
    "IF-S3-VPCE-ONLY": bucket(),
    "IF-S3-TLS-ONLY": bucket(),
    "IF-S3-ACCESS-POINT": one("AWS::S3::AccessPoint", Bucket="b", VpcConfiguration={"VpcId": "vpc-1"}),
    "IF-R53-FIREWALL-RULES": ALLOW_THEN_BLOCK,
    "IF-R53-RESOLVER-RULE-SHARED": {"Resources": {
        "Rule": res("AWS::Route53Resolver::ResolverRule", RuleType="FORWARD", DomainName="corp.internal",
                    TargetIps=[{"Ip": "10.0.0.2"}]),
        "R": res("AWS::Route53Resolver::ResolverRuleAssociation", ResolverRuleId={"Fn::GetAtt": ["Rule", "ResolverRuleId"]},
                 VPCId="vpc-1"),
        "Inbound": res("AWS::Route53Resolver::ResolverEndpoint", Direction="INBOUND", IpAddresses=[{"SubnetId": "s"}],
                       SecurityGroupIds=["sg-1"]),
    }},
    "IF-RAM-SHARE": one("AWS::RAM::ResourceShare", Name="subnets", AllowExternalPrincipals=False,
                        Principals=["444455556666", "arn:aws:organizations::111122223333:organization/o-abcdefghij"]),
    "IF-NETWORK-ATTACHMENT": one("AWS::EC2::TransitGatewayRoute", DestinationCidrBlock="0.0.0.0/0", Blackhole=True),
    "IF-NETWORK-FIREWALL-PASS": one(
        "AWS::NetworkFirewall::FirewallPolicy", FirewallPolicyName="p",
        FirewallPolicy={"StatelessDefaultActions": ["aws:forward_to_sfe"], "StatelessFragmentDefaultActions": ["aws:drop"],
                        "StatefulDefaultActions": ["aws:drop_strict"]},
    ),
    "IF-TRAFFIC-MIRROR": one("AWS::EC2::FlowLog", ResourceId="vpc-1", ResourceType="VPC", TrafficType="ALL",
                             LogDestinationType="s3", LogDestination="arn:aws:s3:::flow-logs-111122223333"),
    "IF-POLICY-PUBLIC": one("AWS::SQS::QueuePolicy", Queues=["q"],
                            PolicyDocument={"Statement": [public_allow("sqs:SendMessage", Condition={
                                "StringEquals": {"aws:SourceVpce": "vpce-1"}})]}),
    "IF-POLICY-OUTSIDE-ORG": queue_policy(
        statement_to({"AWS": "arn:aws:iam::444455556666:role/producer"}),
        statement_to({"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}),
        statement_to("*", {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}),
        statement_to({"Service": "sns.amazonaws.com"}, {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-west-1:111122223333:t"}}),
    ),
    "IF-TRUST-FEDERATED": one(
        "AWS::IAM::Role",
        AssumeRolePolicyDocument={"Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRoleWithSAML",
            "Principal": {"Federated": "arn:aws:iam::111122223333:saml-provider/corp-idp"},
        }, {
            "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "eu-west-1:pool"}},
        }]},
    ),
    "IF-SHARE-OUTSIDE-ORG": one("AWS::ServiceCatalog::PortfolioShare", PortfolioId="port-1", AccountId="444455556666"),
    "IF-DATA-OUTSIDE-ORG": bucket(
        ReplicationConfiguration={"Role": "arn", "Rules": [{"Status": "Enabled", "Destination": {
            "Bucket": {"Fn::Sub": "arn:aws:s3:::replica-${AWS::AccountId}"}, "Account": "444455556666"}}]}
    ),
    "IF-IMAGE-SOURCE": one(
        "AWS::SageMaker::Model", ExecutionRoleArn="arn", VpcConfig=VPC_CONFIG, EnableNetworkIsolation=True,
        PrimaryContainer={"Image": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4"},
    ),
    "IF-CODE-BUCKET": one("AWS::Lambda::Function", Role="arn", VpcConfig=LAMBDA_VPC, Code={
        "S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "f.zip"}),
    "IF-EMBEDDED-FETCH": one(
        "AWS::CodeBuild::Project", VpcConfig=CODEBUILD_VPC,
        Source={"Type": "CODEPIPELINE", "BuildSpec": "version: 0.2\nphases:\n  build:\n    commands:\n"
                "      - pip config set global.index-url https://fmops-111122223333.d.codeartifact.eu-west-1"
                ".amazonaws.com/pypi/pypi/simple/\n      - pip install -r requirements.txt\n"},
    ),
    "IF-EMBEDDED-OUTSIDE": one(
        "AWS::StepFunctions::StateMachine", RoleArn="arn",
        DefinitionString=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
    ),
    "IF-CFN-TRANSFORM": one("AWS::SSM::Parameter", Type="String", Value="Fn::Transform"),
    "IF-CFN-UNCHECKED-TEMPLATE": one(
        "AWS::CloudFormation::StackSet", StackSetName="s", TemplateBody=json.dumps(one("AWS::SSM::Parameter", Value="x"))
    ),
    "IF-EXEMPTION": {"Resources": {"R": {"Type": "AWS::SSM::Parameter", "Metadata": {
        internet_free.EXEMPT_KEY: {"rules": ["IF-EC2-IGW"], "reason": "reviewed in SEC-42"}}}}},
}


def test_every_rule_has_a_near_miss() -> None:
    assert list(NEAR_MISS) == list(BREAKING)


@pytest.mark.parametrize("rule_id", list(NEAR_MISS))
def test_near_miss_is_clean(rule_id: str) -> None:
    assert fired(NEAR_MISS[rule_id]) == set()


def test_clean_template_has_no_findings() -> None:
    assert check_template(clean_template(), "clean.json", ORG) == []


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
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}}]
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


FOREIGN = "999988887777"


def b64(script: str) -> str:
    import base64

    return base64.b64encode(script.encode()).decode()


def codebuild(spec: object, **source: object) -> dict:
    return one("AWS::CodeBuild::Project", VpcConfig=CODEBUILD_VPC, Source={"Type": "CODEPIPELINE", "BuildSpec": spec,
                                                                           **source})


def model(**container: object) -> dict:
    return one("AWS::SageMaker::Model", ExecutionRoleArn="arn", VpcConfig=VPC_CONFIG, EnableNetworkIsolation=True,
               PrimaryContainer={"Image": MIRROR_IMAGE, **container})


def with_parameters(template: dict, **parameters: dict) -> dict:
    return {"Parameters": parameters, **template}


def firewall_group(*rules: tuple[str, object]) -> dict:
    lists = {"Aws": ["*.amazonaws.com"], "Everything": ["*"], "Com": ["*.com"]}
    resources = {name: res("AWS::Route53Resolver::FirewallDomainList", Domains=domains) for name, domains in lists.items()}
    entries = [{"Action": action, "FirewallDomainListId": target if isinstance(target, str) else
                {"Fn::GetAtt": [target[0], "Id"]}, "Priority": number} for number, (action, target) in enumerate(rules, 1)]
    resources["R"] = res("AWS::Route53Resolver::FirewallRuleGroup", FirewallRules=entries)
    return {"Resources": resources}


PERIMETER_ATTACKS = [
    # resource perimeter: principals and conditions
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to("*", {"StringEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}})),
     "another-organisation"),
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to({"AWS": "arn:aws:iam::*:root"})), "account-wildcard"),
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to({"AWS": "1111*"})), "partial-account-wildcard"),
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to("*", {"ForAnyValue:StringEquals": {
        "aws:PrincipalAccount": "111122223333"}})), "for-any-value-does-not-bind"),
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to("*", {
        "StringEquals": {"aws:SourceVpce": "vpce-1"}, "StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})),
     "negated-operator-beside-a-fence"),
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to("*", {"StringEquals": {"aws:SourceAccount": FOREIGN}})),
     "source-account-outside"),
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to("*", {"ArnLike": {
        "aws:PrincipalArn": f"arn:aws:iam::{FOREIGN}:role/admin"}})), "principal-arn-of-another-account"),
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"})),
     "canonical-user"),
    ("IF-POLICY-OUTSIDE-ORG", queue_policy(statement_to({"AWS": {"Fn::If": ["C", "111122223333", FOREIGN]}})),
     "if-branch-foreign"),
    ("IF-POLICY-OUTSIDE-ORG", with_parameters(queue_policy(statement_to({"AWS": {"Ref": "Trusted"}})),
                                              Trusted={"Type": "String", "Default": "111122223333"}),
     "parameter-without-allowed-values"),
    ("IF-POLICY-OUTSIDE-ORG", one("AWS::IAM::Role", AssumeRolePolicyDocument={"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{FOREIGN}:role/vendor"}, "Action": "sts:AssumeRole"}]}),
     "trust-of-a-foreign-role"),
    ("IF-POLICY-OUTSIDE-ORG", bucket([VPCE_DENY, TLS_DENY, {"Effect": "Allow", "Principal": {"AWS": FOREIGN},
                                                            "Action": "s3:GetObject", "Resource": "*"}]),
     "bucket-policy-foreign-reader"),
    ("IF-POLICY-OUTSIDE-ORG", one("AWS::KMS::Key", KeyPolicy={"Statement": [statement_to("*", {"StringEquals": {
        "kms:CallerAccount": {"Fn::Join": ["", ["9999", "88887777"]]}}})]}), "joined-account-outside"),
    ("IF-TRUST-FEDERATED", one("AWS::IAM::Role", AssumeRolePolicyDocument={"Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "accounts.google.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}),
     "web-identity"),
    ("IF-TRUST-FEDERATED", one("AWS::IAM::Role", AssumeRolePolicyDocument={"Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity"}]}), "cognito-without-aud"),
    ("IF-TRUST-FEDERATED", one("AWS::IAM::Role", AssumeRolePolicyDocument={"Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{FOREIGN}:saml-provider/idp"},
        "Action": "sts:AssumeRoleWithSAML"}]}), "saml-provider-of-another-account"),
    ("IF-TRUST-FEDERATED", one("AWS::IAM::OIDCProvider", Url="https://gitlab.com", ClientIdList=["sts.amazonaws.com"]),
     "outside-oidc-provider"),
    ("IF-SHARE-OUTSIDE-ORG", one("AWS::Lambda::Permission", Action="lambda:InvokeFunction", FunctionName="f",
                                 Principal=FOREIGN), "lambda-permission-foreign-account"),
    ("IF-SHARE-OUTSIDE-ORG", one("AWS::Lambda::LayerVersionPermission", Action="lambda:GetLayerVersion",
                                 LayerVersionArn="l", Principal="*", OrganizationId="o-zzzzzzzzzz"), "layer-other-org"),
    ("IF-SHARE-OUTSIDE-ORG", one("AWS::CloudFormation::StackSet", StackSetName="s", PermissionModel="SELF_MANAGED",
                                 TemplateBody=json.dumps(one("AWS::SSM::Parameter", Value="x")),
                                 StackInstancesGroup=[{"DeploymentTargets": {"Accounts": [FOREIGN]},
                                                       "Regions": ["eu-west-1"]}]), "stackset-foreign-account"),
    ("IF-SHARE-OUTSIDE-ORG", one("AWS::EC2::VPCEndpointServicePermissions", ServiceId="s",
                                 AllowedPrincipals=[f"arn:aws:iam::{FOREIGN}:root"]), "endpoint-service-foreign"),
    # resource perimeter: data delivered out
    ("IF-DATA-OUTSIDE-ORG", one("AWS::SNS::Subscription", Protocol="sqs", TopicArn="t",
                                Endpoint=f"arn:aws:sqs:eu-west-1:{FOREIGN}:q"), "subscription-foreign-queue"),
    ("IF-DATA-OUTSIDE-ORG", one("AWS::Events::Rule", EventPattern={"source": ["aws.s3"]},
                                Targets=[{"Id": "t", "Arn": f"arn:aws:events:eu-west-1:{FOREIGN}:event-bus/default"}]),
     "event-bus-of-another-account"),
    ("IF-DATA-OUTSIDE-ORG", one("AWS::Logs::SubscriptionFilter", LogGroupName="g", FilterPattern="",
                                DestinationArn=f"arn:aws:logs:eu-west-1:{FOREIGN}:destination:d"), "log-subscription"),
    ("IF-DATA-OUTSIDE-ORG", bucket(ReplicationConfiguration={"Role": "r", "Rules": [{"Status": "Enabled", "Destination": {
        "Bucket": {"Fn::Sub": "arn:aws:s3:::replica-${AWS::AccountId}"}, "Account": FOREIGN}}]}),
     "replication-destination-account"),
    ("IF-DATA-OUTSIDE-ORG", one("AWS::KinesisFirehose::DeliveryStream", ExtendedS3DestinationConfiguration={
        "BucketARN": "arn:aws:s3:::drop-box", "RoleARN": "r"}), "firehose-foreign-bucket"),
    # network perimeter: control plane
    ("IF-R53-FIREWALL-RULES", firewall_group(("ALLOW", "rslvr-fdl-managed1"), ("BLOCK", ("Everything",))),
     "allow-a-list-outside-the-template"),
    ("IF-R53-FIREWALL-RULES", firewall_group(("ALLOW", ("Aws",)), ("ALERT", ("Everything",))), "alert-is-not-block"),
    ("IF-R53-FIREWALL-RULES", firewall_group(("ALLOW", ("Com",)), ("BLOCK", ("Everything",))), "allow-a-whole-tld"),
    ("IF-R53-FIREWALL-RULES", one("AWS::Route53Resolver::FirewallConfig", ResourceId="vpc-1",
                                  FirewallFailOpen="ENABLED"), "fail-open"),
    ("IF-R53-FIREWALL-RULES", one("AWS::Route53Resolver::FirewallDomainList", DomainFileUrl="s3://b/domains.txt"),
     "domains-kept-in-a-file"),
    ("IF-R53-RESOLVER-RULE-SHARED", one("AWS::Route53Resolver::ResolverEndpoint", Direction="OUTBOUND",
                                        IpAddresses=[{"SubnetId": "s"}], SecurityGroupIds=["g"]), "outbound-endpoint"),
    ("IF-RAM-SHARE", one("AWS::RAM::ResourceShare", Name="s", AllowExternalPrincipals=False, Principals=[FOREIGN]),
     "share-with-foreign-account"),
    ("IF-RAM-SHARE", one("AWS::RAM::ResourceShare", Name="s", AllowExternalPrincipals=False, Principals=[
        "arn:aws:organizations::111122223333:organization/o-zzzzzzzzzz"]), "share-with-another-organisation"),
    ("IF-NETWORK-ATTACHMENT", one("AWS::NetworkManager::VpcAttachment", CoreNetworkId="c", VpcArn="v",
                                  SubnetArns=["s"]), "cloud-wan-attachment"),
    ("IF-NETWORK-FIREWALL-PASS", one("AWS::NetworkFirewall::RuleGroup", Type="STATEFUL", Capacity=10, RuleGroupName="r",
                                     RuleGroup={"RulesSource": {"RulesString":
                                                'pass tcp $HOME_NET any -> any 443 (msg:"out"; sid:1;)'}}),
     "suricata-pass"),
    ("IF-NETWORK-FIREWALL-PASS", one("AWS::NetworkFirewall::RuleGroup", Type="STATEFUL", Capacity=10, RuleGroupName="r",
                                     RuleGroup={"RulesSource": {"RulesSourceList": {"GeneratedRulesType": "ALLOWLIST",
                                                                                   "Targets": [".pypi.org"],
                                                                                   "TargetTypes": ["TLS_SNI"]}}}),
     "domain-allow-list"),
    # supply chain
    ("IF-IMAGE-SOURCE", model(Image="public.ecr.aws/docker/library/python:3.11"), "ecr-public"),
    ("IF-IMAGE-SOURCE", model(Image="python:3.11"), "docker-hub-short-name"),
    ("IF-IMAGE-SOURCE", model(Image=f"{FOREIGN}.dkr.ecr.eu-west-1.amazonaws.com/models/tgi:1"), "foreign-ecr"),
    ("IF-IMAGE-SOURCE", with_parameters(model(Image={"Fn::Sub": "${Registry}/fmops/tgi:1"}), Registry={
        "Type": "String", "Default": "111122223333.dkr.ecr.eu-west-1.amazonaws.com"}), "registry-parameter"),
    ("IF-IMAGE-SOURCE", one("AWS::ECS::TaskDefinition", ContainerDefinitions=[{"Name": "c", "Image": "quay.io/x/y:1"}]),
     "ecs-quay"),
    ("IF-CODE-BUCKET", model(ModelDataUrl="s3://model-zoo/llama.tar.gz"), "model-data-foreign-bucket"),
    ("IF-CODE-BUCKET", one("AWS::Glue::Job", Role="r", Connections={"Connections": ["c"]},
                           Command={"Name": "glueetl", "ScriptLocation": "s3://scripts-public/job.py"}), "glue-script"),
    ("IF-EMBEDDED-FETCH", one("AWS::SageMaker::StudioLifecycleConfig", StudioLifecycleConfigAppType="JupyterLab",
                              StudioLifecycleConfigName="l", StudioLifecycleConfigContent=b64(
                                  "#!/bin/bash\ncurl -sL https://huggingface.co/x/resolve/main/w.bin -o /tmp/w\n")),
     "lifecycle-script-curl"),
    ("IF-EMBEDDED-FETCH", one("AWS::SageMaker::NotebookInstanceLifecycleConfig", OnStart=[{"Content": b64(
        "pip install git+https://gitlab.example.net/t/p.git\n")}]), "notebook-lifecycle-pip-git"),
    ("IF-EMBEDDED-FETCH", one("AWS::SageMaker::StudioLifecycleConfig", StudioLifecycleConfigAppType="JupyterLab",
                              StudioLifecycleConfigName="l", StudioLifecycleConfigContent="not base64!"),
     "lifecycle-script-unreadable"),
    ("IF-EMBEDDED-FETCH", one("AWS::SageMaker::NotebookInstanceLifecycleConfig", OnCreate=[{"Content": {
        "Fn::Base64": {"Fn::Sub": "#!/bin/bash\nwget https://${Host}/model.bin\n"}}}]), "lifecycle-fn-base64-wget"),
    ("IF-EMBEDDED-FETCH", codebuild("version: 0.2\nphases:\n  build:\n    commands:\n"
                                    "      - huggingface-cli download meta-llama/Llama-3.1-8B\n"), "buildspec-hub-download"),
    ("IF-EMBEDDED-FETCH", codebuild("version: 0.2\nphases:\n  build:\n    commands:\n      - docker pull ghcr.io/a/b:1\n"),
     "buildspec-docker-pull"),
    ("IF-EMBEDDED-FETCH", codebuild("version: [0.2\n"), "buildspec-unparseable"),
    ("IF-EMBEDDED-FETCH", codebuild({"Fn::Join": ["", ["version: 0.2\nenv:\n  variables:\n    PIP_INDEX_URL: ",
                                                       "https://pypi.org/simple\n"]]}), "buildspec-joined"),
    ("IF-EMBEDDED-FETCH", one("AWS::StepFunctions::StateMachine", RoleArn="r", DefinitionString={"Fn::Sub": json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke", "End": True,
                                          "Parameters": {"ApiEndpoint": "https://api.example.com/${Path}"}}}})}),
     "state-machine-http-task"),
    ("IF-EMBEDDED-FETCH", one("AWS::SageMaker::Pipeline", PipelineName="p", RoleArn="r", PipelineDefinition={
        "PipelineDefinitionBody": json.dumps({"Steps": [{"Name": "Train", "Arguments": {"AlgorithmSpecification": {
            "TrainingImage": "x", "ImageUri": "docker.io/library/pytorch:2"}}}]})}), "pipeline-image"),
    ("IF-EMBEDDED-FETCH", one("AWS::Glue::Job", Role="r", Connections={"Connections": ["c"]}, Command={"Name": "glueetl"},
                              DefaultArguments={"--additional-python-modules": "git+https://github.com/a/b"}),
     "glue-modules-from-github"),
    ("IF-EMBEDDED-FETCH", model(Environment={"HF_ENDPOINT": "https://hf-mirror.com"}), "container-hub-endpoint"),
    ("IF-EMBEDDED-FETCH", one("AWS::Lambda::Function", Role="r", VpcConfig=LAMBDA_VPC, Code={"ZipFile": "x"},
                              Environment={"Variables": {"PIP_EXTRA_INDEX_URL": "https://pypi.org/simple"}}),
     "lambda-pip-index"),
    ("IF-EMBEDDED-OUTSIDE", codebuild("buildspec.yml"), "buildspec-file-of-the-source"),
    ("IF-EMBEDDED-OUTSIDE", one("AWS::CodeBuild::Project", VpcConfig=CODEBUILD_VPC, Source={"Type": "CODECOMMIT",
                                                                                           "Location": "l"}),
     "no-buildspec"),
    ("IF-EMBEDDED-OUTSIDE", one("AWS::SageMaker::Pipeline", PipelineName="p", RoleArn="r", PipelineDefinition={
        "PipelineDefinitionS3Location": {"Bucket": "b", "Key": "k"}}), "pipeline-in-s3"),
    # anything that may be true is treated as true
    ("IF-EC2-SUBNET-PUBLIC", with_parameters(one("AWS::EC2::Subnet", MapPublicIpOnLaunch={"Ref": "Public"}),
                                             Public={"Type": "String", "Default": "false"}),
     "switch-parameter-without-allowed-values"),
]


@pytest.mark.parametrize(("rule_id", "template"), [pytest.param(r, tpl, id=i) for r, tpl, i in PERIMETER_ATTACKS])
def test_perimeter_attacks_are_findings(rule_id: str, template: dict) -> None:
    assert fired(template) == {rule_id}


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(with_parameters(one("AWS::EC2::Subnet", MapPublicIpOnLaunch={"Ref": "Public"}),
                                     Public={"Type": "String", "Default": "false", "AllowedValues": ["false"]}),
                     id="switch-parameter-constrained"),
        pytest.param(with_parameters(queue_policy(statement_to({"AWS": {"Ref": "Trusted"}})), Trusted={
            "Type": "String", "AllowedValues": ["111122223333", "444455556666"]}), id="principal-parameter-constrained"),
        pytest.param(one("AWS::IAM::Role", AssumeRolePolicyDocument={"Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
                     id="service-trust"),
        pytest.param(codebuild("version: 0.2\nphases:\n  build:\n    commands:\n"
                               "      - docker pull 111122223333.dkr.ecr.eu-west-1.amazonaws.com/base:1\n"),
                     id="docker-pull-from-the-mirror"),
        pytest.param(model(Environment={"SAGEMAKER_PROGRAM": "inference.py"},
                           ModelDataUrl={"Fn::Sub": "s3://models-${AWS::AccountId}/m.tar.gz"}), id="own-model-bucket"),
        pytest.param(one("AWS::SageMaker::StudioLifecycleConfig", StudioLifecycleConfigAppType="JupyterLab",
                         StudioLifecycleConfigName="l", StudioLifecycleConfigContent=b64(
                             "#!/bin/bash\nexport AWS_STS_REGIONAL_ENDPOINTS=regional\n"
                             "pip config set global.index-url https://aws:t@fmops-111122223333.d.codeartifact"
                             ".eu-west-1.amazonaws.com/pypi/pypi/simple/\n")), id="lifecycle-from-the-mirror"),
        pytest.param(firewall_group(("ALLOW", ("Aws",)), ("BLOCK", ("Everything",))), id="dns-allow-then-block"),
        pytest.param({"Resources": {
            "Repo": res("AWS::ECR::Repository", RepositoryName="r"),
            "Task": res("AWS::ECS::TaskDefinition", ContainerDefinitions=[{"Name": "c", "Image": {
                "Fn::Join": ["", [{"Fn::GetAtt": ["Repo", "RepositoryUri"]}, ":1.0"]]}}]),
        }}, id="image-of-a-template-repository"),
        pytest.param(one("AWS::SageMaker::NotebookInstanceLifecycleConfig", OnStart=[{"Content": {
            "Fn::Base64": "#!/bin/bash\necho start\n"}}]), id="lifecycle-fn-base64"),
        pytest.param(one("AWS::RAM::ResourceShare", Name="s", AllowExternalPrincipals=False,
                         Principals=[{"Ref": "AWS::AccountId"}]), id="share-with-own-account"),
    ],
)
def test_perimeter_near_misses_are_clean(template: dict) -> None:
    assert fired(template) == set()


def test_the_organisation_decides_what_is_outside() -> None:
    foreign_reader = queue_policy(statement_to({"AWS": "444455556666"}))
    assert fired(foreign_reader) == set()
    assert fired(foreign_reader, Organisation(frozenset({"111122223333"}))) == {"IF-POLICY-OUTSIDE-ORG"}
    org_only = queue_policy(statement_to("*", {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}))
    assert fired(org_only) == set()
    assert fired(org_only, Organisation(frozenset({"111122223333"}), "o-zzzzzzzzzz")) == {"IF-POLICY-OUTSIDE-ORG"}
    own = queue_policy(statement_to({"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}))
    assert fired(own, internet_free.UNKNOWN_ORGANISATION) == set()


def test_findings_name_perimeter_resource_and_fix() -> None:
    findings = [f for rule_id, template, _ in PERIMETER_ATTACKS for f in check_template(template, "t.json", ORG)]
    assert {f.perimeter for f in findings} == set(internet_free.PERIMETERS)
    assert all(f.logical_id and f.resource_type and f.fix and f.perimeter for f in findings)


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
    organisation = ["--account", "111122223333,444455556666", "--organization-id", "o-abcdefghij"]
    assert main([*organisation, str(clean)]) == 0
    assert capsys.readouterr().out == "internet-free: 1 templates checked, clean\n"
    # Without the organisation, only each template's own account is inside: the key policy's
    # literal account is outside.
    assert main([str(clean)]) == 1
    assert "IF-POLICY-OUTSIDE-ORG" in capsys.readouterr().out

    assert main([str(assembly)]) == 1
    captured = capsys.readouterr()
    rows = [line.split("\t") for line in captured.out.splitlines()]
    assert all(len(row) == 7 for row in rows)
    gateway = ["network", str(assembly / "Top.template.json"), "Igw", "AWS::EC2::InternetGateway", "IF-EC2-IGW"]
    assert gateway in [row[:5] for row in rows]
    assert all(row[6] for row in rows)  # every finding names its fix
    assert "3 templates checked" in captured.err

    assert main(["--account", "12345", str(clean)]) == 2
    assert "not a 12-digit account ID" in capsys.readouterr().err
    assert main(["--organization-id"]) == 2
    assert main(["--bogus", str(clean)]) == 2

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


def test_plugin_judges_against_its_organisation(tmp_path: Path) -> None:
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sqs as sqs

    def synth(organisation: Organisation, outdir: Path) -> None:
        app = cdk.App(outdir=str(outdir))
        cdk.Validations.of(app).add_plugins(InternetFreeChecks(organisation))
        queue = sqs.Queue(cdk.Stack(app, "Queue"), "Inbox")
        queue.add_to_resource_policy(iam.PolicyStatement(
            actions=["sqs:SendMessage"], resources=[queue.queue_arn], principals=[iam.AccountPrincipal("444455556666")]))
        app.synth()

    synth(ORG, tmp_path / "inside")
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        synth(Organisation(frozenset({"111122223333"}), "o-abcdefghij"), tmp_path / "outside")
    assert "IF-POLICY-OUTSIDE-ORG" in str(failure.value) and "[resource perimeter]" in str(failure.value)


def test_fmops_command_takes_the_organisation_from_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infra import REPO_ROOT, cli

    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(clean_template()))
    # The embedded default config's accounts are not the clean template's 111122223333.
    assert cli.main(["verify-internet-free", str(clean)]) == 1
    assert "account 111122223333 is outside the organisation" in capsys.readouterr().out
    assert cli.main(["verify-internet-free", str(clean), "--account", "111122223333"]) == 0
    config = tmp_path / "org.yaml"
    config.write_text((REPO_ROOT / "config" / "single-account.yaml").read_text().replace("123456789012", "111122223333"))
    assert cli.main(["verify-internet-free", str(clean), "--config", str(config)]) == 0
    assert "1 templates checked, clean" in capsys.readouterr().out
