"""FM evaluation and prompt testing: the project's prompt-test repository (a prefix of the team
bucket that prompt testers write to) and an evaluation pipeline that grades every tested answer
with an LLM judge on Bedrock (through the team's guardrail), joins the testers' human scores and
writes the result in the `fmops select-fm --scores` format."""

from __future__ import annotations

from aws_cdk import CfnOutput, Fn
from constructs import Construct

from fmops_constructs.product import Grant, ProjectProductStack, ProjectTemplateProps, TeamGuardrailAccess
from fmops_constructs.project_code import ProjectCode
from fmops_constructs.sagemaker_pipeline import JobSettings, PipelineDefinition, ProjectPipeline, get
from fmops_constructs.sagemaker_images import PYTHON_CPU

IMAGES = {"judge": PYTHON_CPU}


class FmEvaluationProduct(ProjectProductStack):
    """The product stack of the fm-evaluation template."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ProjectTemplateProps, description: str) -> None:
        super().__init__(scope, construct_id, props=props, description=description)
        if not props.bedrock_models:
            raise ValueError("fm-evaluation needs a Bedrock model of the team (the judge)")
        image = self.image("judge", IMAGES["judge"])
        access = TeamGuardrailAccess(self, "TeamGuardrail", stack=self)
        code = ProjectCode(self, "Code", stack=self)
        tests = "prompt-tests/${SageMakerProjectName}/"
        bucket = f"s3://{self.team_bucket_template}"

        def build(jobs: JobSettings) -> PipelineDefinition:
            pipeline = PipelineDefinition(jobs)
            pipeline.code_parameter()
            # The project's inference profile (its Bedrock spend): the model is allowed only through it.
            judge = pipeline.parameter("JudgeModelId", "String", access.profile_arn)
            weight = pipeline.parameter("HumanWeight", "String", "0.5")
            pipeline.processing(
                "JudgeAndScore", image=image, script="evaluate_candidates.py",
                instance_type="ml.m5.large", inputs={"results": Fn.sub(f"{bucket}/{tests}results/")},
                outputs={"scores": Fn.sub(f"{bucket}/{tests}scores/"), "evaluation": jobs.run_uri("evaluation")},
                arguments=["--judge-model", judge, "--human-weight", weight],
                environment={"GUARDRAIL_ARN": access.guardrail_arn,
                             "GUARDRAIL_VERSION_PARAMETER": access.version_parameter_name,
                             "AWS_STS_REGIONAL_ENDPOINTS": "regional",
                             **self.mlflow_environment(get("Execution.PipelineExecutionId"))})
            return pipeline

        tests_arn = f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/{tests}"
        pipeline = ProjectPipeline(
            self, "Pipeline", stack=self, name_suffix="evaluate",
            description="Grade prompt-test results with an LLM judge and human scores; write select-fm scores",
            code_uri=code.code_uri, code_objects=code.code_objects, build=build,
            extra_grants=[Grant(("s3:GetObject",), (f"{tests_arn}results/*",)),
                          Grant(("s3:PutObject",), (f"{tests_arn}scores/*",)), *self.mlflow_grants()])
        pipeline.role.add_policy("ModelAccess", access.policy_statements(),
                                 "The LLM judge: the team's model through the project's inference profile, "
                                 "only with the team guardrail's published version")
        CfnOutput(self, "PromptTestRepository", value=Fn.sub(f"{bucket}/{tests}results/"),
                  description="Prompt testers write their results here (seed: record_test.py)")
        CfnOutput(self, "ScoresLocation", value=Fn.sub(f"{bucket}/{tests}scores/scores.json"),
                  description="Latest scores: fmops select-fm --scores <downloaded file> --priorities ...")
        CfnOutput(self, "PipelineName", value=pipeline.pipeline_name, description="Run after each test campaign")
