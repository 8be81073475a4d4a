"""infra.assembly, the one reader of cdk.out: stacks of flat and nested assemblies, their files."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

from infra.assembly import (
    AssemblyError,
    cfn_text,
    endpoint_service,
    is_assembly,
    read_stacks,
    resources_of,
    template_files,
)


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stack with a nested stack in one account, and a stage with one stack in another."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    top = cdk.Stack(app, "Top", env=cdk.Environment(account="111111111111", region="eu-west-1"),
                    tags={"team": "a"})
    ec2.CfnInternetGateway(top, "Igw")
    s3.CfnBucket(cdk.NestedStack(top, "Nested"), "NestedBucket")
    stage = cdk.Stage(app, "Prod", env=cdk.Environment(account="222222222222", region="eu-west-1"))
    inner = cdk.Stack(stage, "Inner", stack_name="prod-inner")
    s3.CfnBucket(inner, "Bucket")
    cdk.Annotations.of(inner).add_warning_v2("fmops:test", "careful")
    app.synth()
    return outdir


def test_read_stacks_follows_stages(assembly: Path) -> None:
    stacks = {stack.name: stack for stack in read_stacks(assembly)}
    top, inner = stacks["Top"], stacks["prod-inner"]
    assert (top.account, top.region, top.tags, top.directory) == ("111111111111", "eu-west-1", {"team": "a"}, assembly)
    assert (inner.account, inner.directory) == ("222222222222", assembly / "assembly-Prod")
    assert inner.template_file == assembly / "assembly-Prod" / "ProdInner6AE3BBF4.template.json"
    assert [r["Type"] for r in inner.resources.values()] == ["AWS::S3::Bucket"]
    assert resources_of(top, "AWS::EC2::InternetGateway") == [{}]


def test_template_files_add_nested_stack_templates(assembly: Path) -> None:
    names = {path.relative_to(assembly).as_posix() for path in template_files(read_stacks(assembly))}
    assert names == {"Top.template.json", "TopNested131F2902.nested.template.json",
                     "assembly-Prod/ProdInner6AE3BBF4.template.json"}


def test_stack_metadata_inline_and_in_an_additional_file(assembly: Path, tmp_path: Path) -> None:
    inner = next(stack for stack in read_stacks(assembly) if stack.name == "prod-inner")
    warnings = [entry["data"] for entry in inner.metadata["/Prod/Inner"] if entry["type"] == "aws:cdk:warning"]
    assert warnings == ["careful [ack: fmops:test]"]
    # CDK moves the metadata of a large stack out of the manifest into additionalMetadataFile.
    (tmp_path / "S.template.json").write_text('{"Resources": {}}')
    (tmp_path / "S.metadata.json").write_text('{"/S/B": [{"type": "t", "data": 1}]}')
    (tmp_path / "manifest.json").write_text(
        '{"artifacts": {"S": {"type": "aws:cloudformation:stack", "environment": "aws://1/r", '
        '"properties": {"templateFile": "S.template.json"}, "additionalMetadataFile": "S.metadata.json", '
        '"metadata": {"/S": [{"type": "u", "data": 2}]}}}}')
    (stack,) = read_stacks(tmp_path)
    assert stack.metadata == {"/S": [{"type": "u", "data": 2}], "/S/B": [{"type": "t", "data": 1}]}
    assert (stack.name, stack.account, stack.region, stack.resources) == ("S", "1", "r", {})


def test_a_folder_without_manifest_is_not_an_assembly(tmp_path: Path) -> None:
    assert not is_assembly(tmp_path)
    with pytest.raises(AssemblyError, match="not a cloud assembly") as raised:
        read_stacks(tmp_path)
    assert isinstance(raised.value, ValueError)
    (tmp_path / "manifest.json").write_text("{oops")
    with pytest.raises(AssemblyError, match="cannot read JSON"):
        read_stacks(tmp_path)


def test_cfn_text_and_endpoint_service() -> None:
    region = {"Ref": "AWS::Region"}
    assert cfn_text({"Fn::Join": ["", ["com.amazonaws.", region, ".s3"]]}) == "com.amazonaws.region.s3"
    assert cfn_text({"Fn::Sub": "arn:${AWS::Partition}:s3:::b"}) == "arn:aws:s3:::b"
    assert cfn_text({"Fn::GetAtt": ["X", "Arn"]}) == "{token}"
    assert endpoint_service({"Fn::Join": ["", ["com.amazonaws.", region, ".sagemaker.api"]]}) == "sagemaker.api"
    assert endpoint_service("aws.sagemaker.eu-west-1.studio") == "studio"
