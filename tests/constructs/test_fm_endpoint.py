"""FmEndpoint: a model in the VPC with network isolation and offline weights, a KMS-encrypted
endpoint with data capture, autoscaling and alarms; at min_instances 0, an inference component
that scales to zero."""

from __future__ import annotations

import pytest
from aws_cdk import CfnCondition, Fn
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from fmops_constructs.fm_endpoint import OFFLINE_ENVIRONMENT, VARIANT, FmEndpoint, FmEndpointRef
from fmops_constructs.kms import EncryptionKey
from tests.constructs.bare import ACCOUNT, ORG, REGION, TEAM, app_names, bare_stack, only, resources, template

NAME = f"{ORG}-{TEAM}-chat"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{ORG}/tgi:2.4@sha256:abc"


def _endpoint(stack, name, *, min_instances=1, **options):
    vpc = ec2.Vpc.from_vpc_attributes(stack, f"Vpc{name}", vpc_id="vpc-0123456789abcdef0",
                                      availability_zones=[f"{REGION}a"], isolated_subnet_ids=["subnet-01234567"])
    key = EncryptionKey(stack, f"Key{name}", alias=f"alias/{name}", description=name)
    ref = FmEndpointRef(name, scales_to_zero=min_instances == 0)
    groups = [logs.LogGroup.from_log_group_name(stack, f"Logs{name}{i}", n) for i, n in enumerate(ref.log_group_names)]
    return FmEndpoint(stack, name, endpoint_name=name, vpc=vpc, image=IMAGE,
                      model_data_url=f"s3://{ORG}-{TEAM}-models/chat/", instance_type="ml.g5.2xlarge",
                      encryption_key=key, data_capture_uri=f"s3://{ORG}-{TEAM}-capture/{name}",
                      log_groups=groups, alarm_action=cw_actions.SnsAction(sns.Topic(stack, f"Alarms{name}")),
                      min_instances=min_instances, **options)


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    boundary = iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", f"{ORG}-{TEAM}-ceiling")
    endpoint = _endpoint(stack, NAME, role_name=f"{NAME}-exec", permissions_boundary=boundary,
                         environment={"MAX_INPUT_LENGTH": "4096"})
    endpoint.serve_model_package("kite-chat/3", when=CfnCondition(stack, "FromPackage",
                                                                   expression=Fn.condition_equals("a", "b")))
    return endpoint, template(stack)


@pytest.fixture(scope="module")
def to_zero():
    stack = bare_stack()
    _endpoint(stack, "scales", min_instances=0)
    return template(stack)


def test_model_in_the_vpc_isolated_with_offline_staged_weights(built):
    model = only(built[1], "AWS::SageMaker::Model")
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"]["Subnets"] == ["subnet-01234567"]
    assert model["PrimaryContainer"]["Fn::If"][2]["Environment"] == {"MAX_INPUT_LENGTH": "4096",
                                                                     **OFFLINE_ENVIRONMENT}
    staged = model["PrimaryContainer"]["Fn::If"][2]["ModelDataSource"]["S3DataSource"]
    assert staged == {"S3Uri": f"s3://{ORG}-{TEAM}-models/chat/", "S3DataType": "S3Prefix", "CompressionType": "None"}
    assert model["PrimaryContainer"]["Fn::If"][1] == {"ModelPackageName": "kite-chat/3",
                                                      "Environment": {"MAX_INPUT_LENGTH": "4096", **OFFLINE_ENVIRONMENT}}


def test_endpoint_config_encrypted_with_data_capture(built):
    config = only(built[1], "AWS::SageMaker::EndpointConfig")
    assert config["KmsKeyId"]["Fn::GetAtt"][1] == "Arn"
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True and capture["InitialSamplingPercentage"] == 20
    assert capture["DestinationS3Uri"] == f"s3://{ORG}-{TEAM}-capture/{NAME}"
    [variant] = config["ProductionVariants"]
    assert variant["VariantName"] == VARIANT and variant["InitialInstanceCount"] == 1
    assert only(built[1], "AWS::SageMaker::Endpoint")["EndpointName"] == NAME


def test_execution_role_named_bounded_and_limited_to_its_image_key_and_logs(built):
    [role] = [r["Properties"] for r in resources(built[1], "AWS::IAM::Role").values()
              if r["Properties"].get("RoleName") == f"{NAME}-exec"]
    assert role["PermissionsBoundary"]["Fn::Join"][1][-1].endswith(f":policy/{ORG}-{TEAM}-ceiling")
    [policy] = [p["Properties"] for p in resources(built[1], "AWS::IAM::Policy").values()
                if "ExecutionRole" in p["Properties"]["Roles"][0]["Ref"]]
    statements = policy["PolicyDocument"]["Statement"]
    [pull] = [s for s in statements if "ecr:BatchGetImage" in s["Action"]]
    assert pull["Resource"]["Fn::Join"][1][-1] == f":ecr:{REGION}:{ACCOUNT}:repository/{ORG}/tgi"
    [key] = [s for s in statements if s["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]]
    assert key["Resource"]["Fn::GetAtt"][1] == "Arn"
    [network] = [s for s in statements if "ec2:CreateNetworkInterface" in s["Action"]]
    assert network["Condition"] == {"StringEquals": {"aws:RequestedRegion": REGION}}


def test_autoscaling_between_min_and_max_on_invocations(built):
    target = only(built[1], "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)
    assert target["ResourceId"] == f"endpoint/{NAME}/variant/{VARIANT}"
    policy = only(built[1], "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 30


def test_alarms_on_latency_errors_and_invocations(built):
    alarms = resources(built[1], "AWS::CloudWatch::Alarm").values()
    assert sorted(a["Properties"]["MetricName"] for a in alarms) == [
        "Invocation5XXErrors", "Invocations", "ModelLatency"]
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def test_scale_to_zero_hosts_an_inference_component(to_zero):
    component = only(to_zero, "AWS::SageMaker::InferenceComponent")
    assert component["InferenceComponentName"] == "scales-model"
    [variant] = only(to_zero, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert variant["ManagedInstanceScaling"] == {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2}
    assert only(to_zero, "AWS::ApplicationAutoScaling::ScalableTarget")["MinCapacity"] == 0
    assert "AWS::ApplicationAutoScaling::ScalingPolicy" in {r["Type"] for r in to_zero["Resources"].values()}


@pytest.mark.parametrize(("option", "message"), [({"instance_type": "ml.m5.large"}, "instance type"),
                                                 ({"model_data_url": "s3://b/weights.bin"}, "model_data_url"),
                                                 ({"min_instances": 3}, "min_instances")])
def test_props_are_validated(option, message):
    stack = bare_stack()
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=[f"{REGION}a"],
                                      isolated_subnet_ids=["subnet-01234567"])
    props = dict(endpoint_name="e", vpc=vpc, image=IMAGE, model_data_url="s3://b/w/", instance_type="ml.g5.2xlarge",
                 encryption_key=EncryptionKey(stack, "Key", alias="alias/e", description="e"),
                 data_capture_uri="s3://b/c", log_groups=[], alarm_action=cw_actions.SnsAction(sns.Topic(stack, "T")))
    with pytest.raises(ValueError, match=message):
        FmEndpoint(stack, "E", **{**props, **option})


def test_carries_no_app_names(built, to_zero):
    assert app_names(built[1]) == [] and app_names(to_zero) == []
