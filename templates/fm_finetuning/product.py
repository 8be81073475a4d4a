"""FM fine-tuning (PEFT): a SageMaker pipeline that prepares the team's instruction data, fine-tunes
a staged base model with LoRA, evaluates it (ROUGE-L), and registers it pending manual approval
when the score reaches the threshold; the model package group and its approval gates. An approved
model is copied to the team's next stage account and registered there pending approval again
(the team's catalog stack: fmops_constructs/model_promotion.py), up to prod."""

from __future__ import annotations

from aws_cdk import CfnOutput, Fn
from constructs import Construct

from fmops_constructs.model_registry import PENDING_APPROVAL, ProjectModelRegistry
from fmops_constructs.product import ProjectProductStack, ProjectTemplateProps
from fmops_constructs.project_code import ProjectCode
from fmops_constructs.sagemaker_pipeline import JobSettings, PipelineDefinition, ProjectPipeline, get
from fmops_constructs.sagemaker_images import HUGGINGFACE_TRAINING, SKLEARN_PROCESSING, TGI_SERVING

# The AWS-provided images of its steps (slot -> image), resolved per Region by the SageMaker SDK.
# The registered model names the serving image (the one fm-hosting serves by default).
IMAGES = {"processing": SKLEARN_PROCESSING, "training": HUGGINGFACE_TRAINING, "serving": TGI_SERVING}
TRAINING_INSTANCES = ("ml.g5.2xlarge", "ml.g5.12xlarge", "ml.g5.48xlarge", "ml.p4d.24xlarge")
SERVING_INSTANCES = ("ml.g5.2xlarge", "ml.g5.12xlarge", "ml.g5.48xlarge")


class FmFineTuningProduct(ProjectProductStack):
    """The product stack of the fm-finetuning template."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ProjectTemplateProps, description: str) -> None:
        super().__init__(scope, construct_id, props=props, description=description)
        processing, training = self.image("processing", IMAGES["processing"]), self.image("training", IMAGES["training"])
        serving = self.image("serving", IMAGES["serving"])
        code = ProjectCode(self, "Code", stack=self)
        registry = ProjectModelRegistry(self, "Registry", stack=self, topic=self.team_topic(),
                                        description="Fine-tuned models of the project")
        bucket = f"s3://{self.team_bucket_template}"

        def build(jobs: JobSettings) -> PipelineDefinition:
            pipeline = PipelineDefinition(jobs)
            pipeline.code_parameter()
            dataset = pipeline.parameter("Dataset", "String", Fn.sub(f"{bucket}/data/fine-tuning/"))
            base_model = pipeline.parameter("BaseModel", "String", Fn.sub(f"{bucket}/models/base/"))
            instance = pipeline.parameter("TrainingInstanceType", "String", TRAINING_INSTANCES[0])
            threshold = pipeline.parameter("MinRougeL", "Float", 0.3)
            epochs = pipeline.parameter("Epochs", "String", "3")
            rank = pipeline.parameter("LoraRank", "String", "8")
            pipeline.processing("Prepare", image=processing, script="prepare.py",
                                instance_type="ml.m5.xlarge", inputs={"data": dataset},
                                outputs=["train", "validation"])
            split = "Steps.Prepare.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri"
            pipeline.training("FineTune", image=training, script="train.py",
                              instance_type=instance,
                              channels={"model": base_model, "train": get(split.format("train")),
                                        "validation": get(split.format("validation"))},
                              arguments=["--epochs", epochs, "--lora-rank", rank])
            artifacts = get("Steps.FineTune.ModelArtifacts.S3ModelArtifacts")
            pipeline.evaluate_and_register(
                image=training, instance_type="ml.g5.2xlarge", model_data=artifacts,
                inputs={"model": artifacts, "validation": get(split.format("validation"))},
                metric="rouge_l", minimum=threshold, check="CheckScore", failure="ScoreTooLow", label="ROUGE-L",
                registration={"group": registry.group_name, "image": serving,
                              "status": PENDING_APPROVAL, "instance_types": SERVING_INSTANCES,
                              "tags": self.model_package_tags},
                environment=self.mlflow_environment(get("Execution.PipelineExecutionId")))
            return pipeline

        pipeline = ProjectPipeline(self, "Pipeline", stack=self, name_suffix="finetune",
                                   description="Prepare, LoRA fine-tune, evaluate and register a foundation model",
                                   code_uri=code.code_uri, code_objects=code.code_objects, build=build,
                                   extra_grants=[ProjectModelRegistry.pipeline_grant(self), *self.mlflow_grants()])
        pipeline.pipeline.node.add_dependency(registry.group)
        CfnOutput(self, "PipelineName", value=pipeline.pipeline_name,
                  description="Start it with the team's data under data/fine-tuning/ and weights under models/base/")
        CfnOutput(self, "ModelPackageGroupName", value=registry.group_name,
                  description="Approve registered models here (lead data scientist): an approved model is promoted "
                              "to the team's next stage account, where it awaits approval again")
        CfnOutput(self, "CodeLocation", value=code.repository_description,
                  description="Where the project's code lives (repository, or S3 prefix for bundles)")
