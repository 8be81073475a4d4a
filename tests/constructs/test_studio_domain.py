"""StudioDomain: a VpcOnly, IAM-authenticated domain with its own retained key, the pip mirror
lifecycle configuration, idle shutdown and a security group for its apps."""

from __future__ import annotations

import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2

from fmops_constructs.package_mirror import PackageMirrorRef
from fmops_constructs.studio import HIDDEN_APP_TYPES, STUDIO_LOG_GROUP, StudioDomain, distribution_image_arns
from tests.constructs.bare import ACCOUNT, ORG, REGION, app_names, bare_stack, only, resources, template

MIRROR = PackageMirrorRef(account=ACCOUNT, region=REGION, domain_name=ORG, repository_name="pypi", image_prefix=ORG)


def domain(stack, **options) -> StudioDomain:
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.9.0.0/20",
                                      availability_zones=[f"{REGION}a"], isolated_subnet_ids=["subnet-01234567"])
    return StudioDomain(stack, "Studio", domain_name=f"{ORG}-dev", vpc=vpc,
                        subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED), vpc_cidr="10.9.0.0/20",
                        package_mirror=MIRROR, custom_image_prefix=ORG, log_retention_days=30, **options)


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    studio = domain(stack)
    return studio, template(stack)


def test_vpc_only_iam_domain_with_its_retained_key(built):
    _, synthesized = built
    properties = only(synthesized, "AWS::SageMaker::Domain")
    assert properties["AppNetworkAccessType"] == "VpcOnly" and properties["AuthMode"] == "IAM"
    assert properties["DomainName"] == f"{ORG}-dev" and properties["TagPropagation"] == "ENABLED"
    [resource] = resources(synthesized, "AWS::SageMaker::Domain").values()
    assert resource["DeletionPolicy"] == "Retain"
    assert only(synthesized, "AWS::KMS::Alias")["AliasName"] == f"alias/{ORG}-dev/studio"


def test_defaults_instance_idle_timeouts_and_hidden_apps(built):
    settings = only(built[1], "AWS::SageMaker::Domain")["DefaultUserSettings"]
    lab = settings["JupyterLabAppSettings"]
    assert lab["DefaultResourceSpec"]["InstanceType"] == "ml.t3.medium"
    idle = lab["AppLifecycleManagement"]["IdleSettings"]
    assert (idle["IdleTimeoutInMinutes"], idle["MinIdleTimeoutInMinutes"], idle["MaxIdleTimeoutInMinutes"]) == (60, 60, 240)
    assert settings["StudioWebPortalSettings"]["HiddenAppTypes"] == list(HIDDEN_APP_TYPES)
    assert settings["SharingSettings"] == {"NotebookOutputOption": "Disabled"}


def test_allowed_images_are_sagemakers_and_the_custom_prefix(built):
    studio, _ = built
    assert studio.allowed_image_arns == [*distribution_image_arns(REGION),
                                         f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:image/{ORG}-*"]


def test_studio_logs_encrypted_and_retained(built):
    group = only(built[1], "AWS::Logs::LogGroup")
    assert group["LogGroupName"] == STUDIO_LOG_GROUP and group["RetentionInDays"] == 30


def test_idle_timeout_is_a_prop_checked_against_the_maximum():
    with pytest.raises(ValueError, match="idle_timeout"):
        domain(bare_stack(), idle_timeout=Duration.hours(5), max_idle_timeout=Duration.hours(4))


def test_carries_no_app_names(built):
    assert app_names(built[1]) == []
