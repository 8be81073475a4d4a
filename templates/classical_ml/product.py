"""Classical ML train and deploy: a SageMaker pipeline (preprocess, XGBoost training, evaluation,
registration pending manual approval when the AUC reaches the threshold), the model registry
with its approval gates, and a private endpoint of an approved model package, created when the
project is updated with that package (the deployment gate: a launcher persona decides). The
package may be the project's own or one of the team's promoted from its previous stage account
(registered in the group of the same name, artifacts in the account's promoted-models bucket)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Fn
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from fmops_constructs.fm_endpoint import data_capture
from fmops_constructs.model_promotion import INCOMING
from fmops_constructs.model_registry import PENDING_APPROVAL, ProjectModelRegistry
from fmops_constructs.product import (Grant, PlatformValue, ProjectProductStack, ProjectRole, ProjectTemplateProps,
                                      network_interface_grants)
from fmops_constructs.project_code import ProjectCode
from fmops_constructs.sagemaker_pipeline import JobSettings, PipelineDefinition, ProjectPipeline, get, image_pull_grant
from fmops_constructs.sagemaker_images import SKLEARN_PROCESSING, XGBOOST

# The AWS-provided images of its steps (slot -> image), resolved per Region by the SageMaker SDK.
IMAGES = {"processing": SKLEARN_PROCESSING, "xgboost": XGBOOST}
ENDPOINT_INSTANCES = ("ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge", "ml.c5.2xlarge")
MODEL_PACKAGE_ARN = r"^$|^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[A-Za-z0-9-]+/[0-9]+$"


class ClassicalMlProduct(ProjectProductStack):
    """The product stack of the classical-ml template."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ProjectTemplateProps, description: str) -> None:
        super().__init__(scope, construct_id, props=props, description=description)
        processing, xgboost = self.image("processing", IMAGES["processing"]), self.image("xgboost", IMAGES["xgboost"])
        code = ProjectCode(self, "Code", stack=self)
        registry = ProjectModelRegistry(self, "Registry", stack=self, topic=self.team_topic(),
                                        description="Classical models of the project")
        bucket = f"s3://{self.team_bucket_template}"

        def build(jobs: JobSettings) -> PipelineDefinition:
            pipeline = PipelineDefinition(jobs)
            pipeline.code_parameter()
            dataset = pipeline.parameter("Dataset", "String", Fn.sub(f"{bucket}/data/classical/"))
            target = pipeline.parameter("TargetColumn", "String", "label")
            threshold = pipeline.parameter("MinAuc", "Float", 0.75)
            rounds = pipeline.parameter("NumRound", "String", "200")
            pipeline.processing("Preprocess", image=processing, script="preprocess.py",
                                instance_type="ml.m5.xlarge", inputs={"data": dataset},
                                outputs=["train", "validation", "test"], arguments=["--target", target])
            output = "Steps.Preprocess.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri"
            pipeline.training("Train", image=xgboost, instance_type="ml.m5.xlarge",
                              channels={"train": get(output.format("train")),
                                        "validation": get(output.format("validation"))},
                              content_type="text/csv",
                              hyperparameters={"objective": "binary:logistic", "eval_metric": "auc",
                                               "num_round": rounds, "max_depth": "5", "eta": "0.2",
                                               "subsample": "0.8"})
            artifacts = get("Steps.Train.ModelArtifacts.S3ModelArtifacts")
            pipeline.evaluate_and_register(
                image=xgboost, instance_type="ml.m5.xlarge", model_data=artifacts,
                inputs={"model": artifacts, "test": get(output.format("test"))},
                metric="auc", minimum=threshold, check="CheckAuc", failure="AucTooLow", label="AUC",
                registration={"group": registry.group_name, "image": xgboost,
                              "status": PENDING_APPROVAL, "instance_types": ENDPOINT_INSTANCES,
                              "tags": self.model_package_tags},
                environment=self.mlflow_environment(get("Execution.PipelineExecutionId")))
            return pipeline

        pipeline = ProjectPipeline(self, "Pipeline", stack=self, name_suffix="train",
                                   description="Preprocess, train XGBoost, evaluate and register a classifier",
                                   code_uri=code.code_uri, code_objects=code.code_objects, build=build,
                                   extra_grants=[ProjectModelRegistry.pipeline_grant(self), *self.mlflow_grants()])
        pipeline.pipeline.node.add_dependency(registry.group)
        self._endpoint()
        CfnOutput(self, "PipelineName", value=pipeline.pipeline_name,
                  description="Start it with the team's CSV data under data/classical/")
        CfnOutput(self, "ModelPackageGroupName", value=registry.group_name,
                  description="Approve a model (it is then promoted to the next stage account), and update the "
                              "project with its ModelPackageArn to deploy it here")
        CfnOutput(self, "CodeLocation", value=code.repository_description, description="Where the project's code lives")

    def _endpoint(self) -> None:
        """A private endpoint of ``ModelPackageArn``, only when the parameter is set."""
        package = self.choice("ModelPackageArn", type="String", default="", allowed_pattern=MODEL_PACKAGE_ARN,
                              description="Approved model package to deploy (empty: no endpoint yet)")
        instance = self.choice("EndpointInstanceType", type="String", default=ENDPOINT_INSTANCES[0],
                               allowed_values=list(ENDPOINT_INSTANCES), description="Endpoint instance type")
        deploy = self.condition("Deploy", Fn.condition_not(Fn.condition_equals(package.value_as_string, "")))
        logs_arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group"
        promoted = f"arn:${{AWS::Partition}}:s3:::{self.promoted_models_bucket_template}/{INCOMING}/*"
        serving = ProjectRole(
            self, "Serving", service="sagemaker.amazonaws.com", description="Endpoint of the project's approved model",
            grants=[
                Grant(("s3:GetObject",), (f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/"
                                          f"{self.project_prefix}runs/*", promoted)),
                Grant(("kms:Decrypt", "kms:GenerateDataKey"), (self.project_key.key_arn,)),
                Grant(("s3:PutObject",), (f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/"
                                          f"{self.project_prefix}data-capture/*",)),
                image_pull_grant(self),
                Grant(("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
                      (f"{logs_arn}:/aws/sagemaker/Endpoints/{self.name_template()}:*",)),
                *network_interface_grants(),
                Grant(("sagemaker:DescribeModelPackage",),
                      (f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:model-package/"
                       f"{self.name_prefix}*/*",)),
            ],
            why="the project endpoint's execution role: model artifacts of the project's runs and of the team's "
                "promoted models (incoming/ of the account's promoted-models bucket), the team's model packages "
                "(the project's own, or one promoted from the previous stage), the project key, its data capture "
                "prefix, its own endpoint log group; ENI, ECR "
                "login and Describe calls have no resource-level scope")
        model = sagemaker.CfnModel(
            self, "Model", execution_role_arn=serving.role_arn, enable_network_isolation=True,
            containers=[sagemaker.CfnModel.ContainerDefinitionProperty(model_package_name=package.value_as_string)],
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=self.platform_list(PlatformValue.SUBNET_IDS),
                security_group_ids=[self.platform_string(PlatformValue.SECURITY_GROUP_ID)]))
        model.node.add_dependency(serving)
        capture = self.team_bucket_uri(f"{self.project_prefix}data-capture/")
        config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig", kms_key_id=self.project_key.key_arn,
            production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="AllTraffic", model_name=model.attr_model_name, instance_type=instance.value_as_string,
                initial_instance_count=1, initial_variant_weight=1)],
            data_capture_config=data_capture(capture, self.project_key.key_arn))
        endpoint = sagemaker.CfnEndpoint(self, "Endpoint", endpoint_name=self.resource_name(),
                                         endpoint_config_name=config.attr_endpoint_config_name)
        for resource in (model, config, endpoint):
            resource.cfn_options.condition = deploy
        CfnOutput(self, "EndpointName", value=endpoint.endpoint_name, condition=deploy,
                  description="Private endpoint of the deployed model package")
        CfnOutput(self, "DataCaptureLocation", value=capture, condition=deploy,
                  description="Sampled requests and responses of the endpoint (project key)")
