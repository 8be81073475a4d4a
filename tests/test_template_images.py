"""The templates run AWS-provided SageMaker images by default (resolved per Region by the pinned
SageMaker Python SDK, nothing to push), may opt in to a custom image of the organisation's
mirror per launch, and the app creates the mirror repositories those custom images go to."""

from __future__ import annotations

import json

import pytest

from fmops_constructs.sagemaker_images import SKLEARN_PROCESSING, TGI_SERVING, AwsImage, ecr_parts
from templates.registry import REGISTRY
from tests.conftest import resources
from tests.test_catalog import ORG, REGION, products  # noqa: F401  (the products fixture)

pytestmark = pytest.mark.xdist_group("catalog")

MIRROR_ACCOUNT = "111111111111"  # the default config's tooling account (the package mirror)
WITH_IMAGES = [entry for entry in REGISTRY if entry.images]


def test_images_are_resolved_per_region_from_the_sdk():
    ireland, virginia = SKLEARN_PROCESSING.uri("eu-west-1"), SKLEARN_PROCESSING.uri("us-east-1")
    assert ireland.endswith("/sagemaker-scikit-learn:1.2-1-cpu-py3") and ".eu-west-1." in ireland
    assert ecr_parts(ireland)[0] != ecr_parts(virginia)[0], "the SDK knows each Region's registry account"
    assert TGI_SERVING.repository_arn("eu-west-1") == (
        f"arn:${{AWS::Partition}}:ecr:eu-west-1:{ecr_parts(TGI_SERVING.uri('eu-west-1'))[0]}:repository/"
        "huggingface-pytorch-tgi-inference")
    assert TGI_SERVING.repository_prefix("eu-west-1").endswith("/huggingface-pytorch-tgi-inference:")
    with pytest.raises(ValueError):
        AwsImage("xgboost", "0.0-0").uri("eu-west-1")


@pytest.mark.parametrize("entry", WITH_IMAGES, ids=lambda e: e.id)
def test_a_launch_with_defaults_runs_aws_images_and_custom_ones_are_opt_in(entry, products):  # noqa: F811
    template = products[entry.id]
    text = json.dumps(template)
    for slot, image in entry.images.items():
        name = "".join(p.capitalize() for p in slot.split("-"))
        parameter = template["Parameters"][f"{name}ImageTag"]
        assert parameter["Default"] == "", "the AWS-provided image unless the user gives a tag"
        assert image.uri(REGION) in text
        assert ecr_parts(image.uri(REGION))[0] != MIRROR_ACCOUNT
    mirror = f"{MIRROR_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/"
    custom = {f"{mirror}{ORG}/{entry.id}-{slot}:" for slot in entry.images}
    found = {text[i:text.index(":", i) + 1] for i in _occurrences(text, mirror)}
    assert found == custom, "the mirror appears only as the opt-in custom image of a slot"


@pytest.mark.parametrize("entry", WITH_IMAGES, ids=lambda e: e.id)
def test_every_role_that_pulls_may_pull_the_aws_images_of_the_template(entry, products):  # noqa: F811
    template = products[entry.id]
    pulls = []
    for policy in [*resources(template, "AWS::IAM::ManagedPolicy").values(),
                   *resources(template, "AWS::IAM::Policy").values()]:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "ecr:BatchGetImage" in actions:
                pulls.append(json.dumps(statement["Resource"]))
    assert pulls, "some role runs the template's images"
    aws_repositories = {image.repository_arn(REGION) for image in entry.images.values()}
    granted = {arn for arn in aws_repositories if any(arn in p for p in pulls)}
    assert granted == aws_repositories
    assert not [p for p in pulls if ":repository/*" in p], "no pull from any repository of a registry"


def test_the_packages_stack_creates_the_custom_image_repositories(default_templates):
    packages = default_templates["fmops-tooling-packages"]
    names = {r["Properties"]["RepositoryName"] for r in resources(packages, "AWS::ECR::Repository").values()}
    expected = {f"{ORG}/{entry.id}-{slot}" for entry in WITH_IMAGES for slot in entry.images}
    assert expected <= names


def _occurrences(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


# -- every endpoint captures data ------------------------------------------------------------------

def _endpoint_configs(assembly) -> dict[str, dict]:
    """(stack or product) -> endpoint config, for every stack of the assembly and every product
    template its catalog stacks publish."""
    from tests.conftest import load_templates
    from tests.test_catalog import _product_templates

    found = {}
    for name, template in load_templates(assembly).items():
        documents = {name: template}
        if resources(template, "AWS::ServiceCatalog::CloudFormationProduct"):
            documents |= {f"{name}/{product}": t for product, t in _product_templates(assembly, name).items()}
        for where, document in documents.items():
            for logical_id, config in resources(document, "AWS::SageMaker::EndpointConfig").items():
                found[f"{where}/{logical_id}"] = config["Properties"]
    return found


@pytest.mark.parametrize("assembly", ["default_assembly", "single_assembly"])
def test_every_endpoint_config_captures_data_encrypted(assembly, request):
    configs = _endpoint_configs(request.getfixturevalue(assembly))
    assert len(configs) >= (18 if assembly == "default_assembly" else 2), sorted(configs)
    for where, config in configs.items():
        capture = config.get("DataCaptureConfig")
        assert capture and capture["EnableCapture"] is True, f"{where}: no data capture"
        assert capture.get("KmsKeyId"), f"{where}: captured data not encrypted with a key of the project"
        assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}, where
        destination = json.dumps(capture["DestinationS3Uri"])
        assert "s3://" in destination, f"{where}: {destination}"
        if where.count("/") == 2:  # a product: its project's prefix of the team bucket
            assert "-data-" in destination and "data-capture/" in destination, f"{where}: {destination}"


def test_promotion_admits_the_mirror_and_the_aws_images_of_the_teams_templates(default_templates):
    catalog = default_templates[f"{ORG}-genai-preprod-genai-catalog"]
    [allowed] = [f["Properties"]["Environment"]["Variables"]["IMAGE_REPOSITORIES"]
                 for f in resources(catalog, "AWS::Lambda::Function").values()
                 if "IMAGE_REPOSITORIES" in f["Properties"].get("Environment", {}).get("Variables", {})]
    prefixes = allowed.split(",")
    assert prefixes[0] == f"{MIRROR_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{ORG}/"
    assert {TGI_SERVING.repository_prefix(REGION), SKLEARN_PROCESSING.repository_prefix(REGION)} <= set(prefixes)
    assert all(p.endswith(("/", ":")) for p in prefixes), "whole repositories, never a name prefix"


def test_image_table_is_what_the_pinned_sdk_returns():
    """The synth reads fmops_constructs/sagemaker_image_uris.json instead of importing the SDK;
    it must hold exactly what the pinned SDK's image data gives, in every Region it lists."""
    from fmops_constructs import sagemaker_images

    assert sagemaker_images.TABLE.read_text() == sagemaker_images.table_text(sagemaker_images.generate_table()), \
        "stale: run `python -m fmops_constructs.sagemaker_images`"
    assert all(sagemaker_images.TABLE.read_text().count(region) for region in ("eu-west-1", "us-east-1"))
