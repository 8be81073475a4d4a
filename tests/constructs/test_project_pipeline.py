"""ProjectPipeline: a SageMaker pipeline of jobs in the VPC, encrypted with the project key, code
from a zip bundle, output below the project's runs, and its bounded execution role."""

from __future__ import annotations

import json

import pytest

from fmops_constructs.product import ProjectProductStack
from fmops_constructs.sagemaker_images import SKLEARN_PROCESSING
from fmops_constructs.sagemaker_pipeline import JobSettings, PipelineDefinition, ProjectPipeline, get
from tests.constructs.bare import (ACCOUNT, ORG, PROJECT_ID_DESCRIPTION, REGION, TEAM, app_names, bare_stack, only,
                                   product_props, product_template, resources)

class Demo(ProjectProductStack):
    def __init__(self, scope, construct_id, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        image = self.image("processing", SKLEARN_PROCESSING)

        def build(jobs: JobSettings) -> PipelineDefinition:
            pipeline = PipelineDefinition(jobs)
            pipeline.code_parameter()
            data = pipeline.parameter("Dataset", "String", "s3://data/")
            pipeline.processing("Prepare", image=image, script="prepare.py", instance_type="ml.m5.large",
                                inputs={"data": data}, outputs=["train"])
            pipeline.training("Train", image=image, instance_type="ml.m5.large", script="train.py",
                              channels={"train": get("Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri")})
            return pipeline

        self.pipeline = ProjectPipeline(self, "Pipeline", stack=self, name_suffix="train", description="train it",
                                        code_uri=self.seed_uri, code_objects=[self.SEED_OBJECT_ARN], build=build)


@pytest.fixture(scope="module")
def built():
    product = Demo(bare_stack(), "Product", props=product_props(), description="demo")
    return product, product_template(product)


def _definition(template) -> str:
    body = only(template, "AWS::SageMaker::Pipeline")["PipelineDefinition"]["PipelineDefinitionBody"]
    return "".join(p if isinstance(p, str) else json.dumps(p) for p in body["Fn::Join"][1])


def test_named_pipeline_with_its_role(built):
    pipeline = only(built[1], "AWS::SageMaker::Pipeline")
    assert pipeline["PipelineName"] == {"Fn::Sub": f"{TEAM}-${{SageMakerProjectName}}-train"}
    assert pipeline["RoleArn"]["Fn::GetAtt"][1] == "Arn"


def test_jobs_in_the_vpc_encrypted_with_code_from_the_bundle(built):
    text = _definition(built[1])
    assert '"EnableInterContainerTrafficEncryption":true' in text
    assert '"VpcConfig":{"Subnets":["' in text and "PlatformSecurityGroupId" in text
    assert text.count('"PlatformProjectKeyArn"') >= 4  # volumes and outputs of both jobs
    assert '"Name":"CodeBundle"' in text and "/opt/ml/processing/input/code" in text


def test_output_below_the_projects_runs_in_the_team_bucket(built):
    text = _definition(built[1])
    assert f"s3://{ORG}-{TEAM}-lake-${{AWS::AccountId}}-${{AWS::Region}}/projects/${{SageMakerProjectName}}/runs" in text


def test_role_runs_pipeline_jobs_reads_data_and_passes_only_itself(built):
    [policy] = resources(built[1], "AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    jobs = statements[0]
    assert "sagemaker:CreateTrainingJob" in jobs["Action"]
    assert all("pipelines-*" in r["Fn::Sub"] for r in jobs["Resource"])
    images = next(s for s in statements if "ecr:BatchGetImage" in s["Action"])
    template_id = built[0].props.template_id
    assert images["Resource"] == [{"Fn::Sub": SKLEARN_PROCESSING.repository_arn(REGION)}, {
        "Fn::Sub": f"arn:${{AWS::Partition}}:ecr:{REGION}:{ACCOUNT}:repository/{ORG}/{template_id}-processing"}], \
        "the AWS-provided image it runs and its custom-image repository, no wildcard"
    passing = statements[-1]
    assert passing["Action"] == "iam:PassRole"
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_carries_no_app_names(built):
    assert app_names(built[1]) == [PROJECT_ID_DESCRIPTION]
