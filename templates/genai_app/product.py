"""GenAI application on Bedrock: a private REST API and a Lambda function in the VPC, the team's
guardrail on every model call, a versioned prompt catalog in Bedrock Prompt Management and a
feedback store where end users rate the answers."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from aws_cdk import CfnOutput, Fn
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.cfn_text import json_text
from fmops_constructs.product import (Grant, PlatformValue, ProjectFunction, ProjectProductStack, ProjectTemplateProps,
                                      TeamGuardrailAccess)

PROMPTS = Path(__file__).with_name("seed") / "prompts"
PROMPT_VARIABLE = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")
STAGE = "prod"


def catalog_prompts() -> dict[str, str]:
    """Prompt name -> template text, from ``seed/prompts/<name>.txt``."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(PROMPTS.glob("*.txt"))}


class PromptCatalog(Construct):
    """One Bedrock prompt per seed prompt file, on the team's first model, each with a published
    version. The version's description carries a hash of the text, so editing a seed prompt
    publishes a new version; prompt engineers add versions with the Bedrock console or API
    (persona edit-prompt-catalog), and the application names the version it runs."""

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack, model_id: str) -> None:
        super().__init__(scope, construct_id)
        self.prompts: dict[str, bedrock.CfnPrompt] = {}
        self.versions: dict[str, bedrock.CfnPromptVersion] = {}
        for name, text in catalog_prompts().items():
            prompt = bedrock.CfnPrompt(
                self, name.capitalize(),
                name=Fn.sub(stack.name_template(name)),
                description=f"{name} prompt of the project (seeded from templates/genai_app/seed/prompts)",
                customer_encryption_key_arn=stack.project_key.key_arn,
                default_variant="default",
                variants=[bedrock.CfnPrompt.PromptVariantProperty(
                    name="default", template_type="TEXT", model_id=model_id,
                    inference_configuration=bedrock.CfnPrompt.PromptInferenceConfigurationProperty(
                        text=bedrock.CfnPrompt.PromptModelInferenceConfigurationProperty(
                            max_tokens=800, temperature=0.2, top_p=0.9)),
                    template_configuration=bedrock.CfnPrompt.PromptTemplateConfigurationProperty(
                        text=bedrock.CfnPrompt.TextPromptTemplateConfigurationProperty(
                            text=text,
                            input_variables=[bedrock.CfnPrompt.PromptInputVariableProperty(name=variable)
                                             for variable in dict.fromkeys(PROMPT_VARIABLE.findall(text))])),
                )],
            )
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            self.prompts[name] = prompt
            self.versions[name] = bedrock.CfnPromptVersion(
                self, f"{name.capitalize()}Version", prompt_arn=prompt.attr_arn,
                description=f"{name} {digest}")

    def references(self) -> dict[str, dict[str, str]]:
        """What the application needs per prompt: its ARN and the published version."""
        return {name: {"arn": self.prompts[name].attr_arn, "version": self.versions[name].attr_version}
                for name in self.prompts}


class GenAiAppProduct(ProjectProductStack):
    """The product stack of the genai-app template."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ProjectTemplateProps, description: str) -> None:
        super().__init__(scope, construct_id, props=props, description=description)
        if not props.bedrock_models:
            raise ValueError("genai-app needs at least one Bedrock model of the team")
        access = TeamGuardrailAccess(self, "TeamGuardrail", stack=self)
        catalog = PromptCatalog(self, "PromptCatalog", stack=self, model_id=props.bedrock_models[0].invoke_id)
        store = self.project_prefix + "app/"
        why = (f"the project's application role: its prompts, the team bucket's {store} prefix and the "
               "project key")
        topic = self.dead_letter_topic()
        backend = ProjectFunction(
            self, "Backend", stack=self, handler="handler.handler", name_suffix="api", dead_letters=topic,
            description="GenAI application back-end: catalog prompts through the team guardrail, ratings",
            environment={
                "PROMPTS": json_text(catalog.references()),
                "GUARDRAIL_ARN": access.guardrail_arn,
                "GUARDRAIL_VERSION_PARAMETER": access.version_parameter_name,
                "MODEL_ID": access.profile_arn,
                "STORE_BUCKET": self.team_bucket_name,
                "STORE_PREFIX": Fn.sub(store),
                "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            },
            grants=[
                Grant(("bedrock:GetPrompt",),
                      tuple(Fn.join("", [prompt.attr_arn, "*"]) for prompt in catalog.prompts.values())),
                Grant(("s3:PutObject",), (f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/{store}*",)),
                Grant(("kms:GenerateDataKey", "kms:Decrypt"), (self.project_key.key_arn,)),
                Grant(("kms:GenerateDataKey",), (self.data_key.key_arn,)),
            ],
            why=why,
        )
        backend.execution_role.add_policy("ModelAccess", access.policy_statements(),
                                          "Invoke the team's Bedrock model through the project's inference profile, "
                                          "only with the team guardrail's published version")
        self.api = self._private_api(backend)
        CfnOutput(self, "ApiUrl", value=self.api.url_for_path("/"),
                  description="Private API (reachable through the VPC's execute-api endpoint; IAM-signed requests)")
        for name, version in catalog.versions.items():
            CfnOutput(self, f"{name.capitalize()}PromptVersionArn", value=version.attr_arn,
                      description=f"Published version of the {name} prompt")
        CfnOutput(self, "FeedbackLocation", value=self.team_bucket_uri(store),
                  description="Generations and ratings (feedback/) of the application, for evaluation jobs")

    def _private_api(self, backend: ProjectFunction) -> apigateway.RestApi:
        """PRIVATE REST API on the VPC's execute-api endpoint, IAM-authorized, requests validated,
        access-logged; its resource policy admits the account's principals through that endpoint only."""
        endpoint_id = self.platform_string(PlatformValue.API_ENDPOINT_ID)
        endpoint = ec2.InterfaceVpcEndpoint.from_interface_vpc_endpoint_attributes(
            self, "ApiEndpoint", vpc_endpoint_id=endpoint_id, port=443)
        access_logs = self.log_group("ApiAccessLogs", "api-access")
        invoke = "execute-api:/*"
        policy = iam.PolicyDocument(statements=[
            iam.PolicyStatement(principals=[iam.AccountRootPrincipal()], actions=["execute-api:Invoke"],
                                resources=[invoke]),
            iam.PolicyStatement(effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()], actions=["execute-api:Invoke"],
                                resources=[invoke], conditions={"StringNotEquals": {"aws:SourceVpce": endpoint_id}}),
        ])
        api = apigateway.RestApi(
            self, "Api",
            rest_api_name=self.resource_name("api"),
            description="GenAI application API (private)",
            endpoint_configuration=apigateway.EndpointConfiguration(
                types=[apigateway.EndpointType.PRIVATE], vpc_endpoints=[endpoint]),
            policy=policy,
            cloud_watch_role=False,
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigateway.LogGroupLogDestination(
                    logs.LogGroup.from_log_group_arn(self, "ApiAccessLogGroup", access_logs.attr_arn)),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True, http_method=True, ip=True, protocol=True, request_time=True, resource_path=True,
                    response_length=True, status=True, user=True),
                tracing_enabled=True,
            ),
            default_method_options=apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.IAM),
        )
        function = lambda_.Function.from_function_attributes(self, "BackendFunction",
                                                             function_arn=backend.function_arn, same_environment=True)
        integration = apigateway.LambdaIntegration(function)
        validator = api.add_request_validator("RequestValidator", validate_request_body=True,
                                              validate_request_parameters=True)
        schemas = {
            "generate": apigateway.JsonSchema(
                type=apigateway.JsonSchemaType.OBJECT, required=["prompt"], additional_properties=False,
                properties={"prompt": apigateway.JsonSchema(type=apigateway.JsonSchemaType.STRING, max_length=100),
                            "variables": apigateway.JsonSchema(type=apigateway.JsonSchemaType.OBJECT)}),
            "feedback": apigateway.JsonSchema(
                type=apigateway.JsonSchemaType.OBJECT, required=["generationId", "rating"],
                additional_properties=False,
                properties={"generationId": apigateway.JsonSchema(type=apigateway.JsonSchemaType.STRING, max_length=36),
                            "rating": apigateway.JsonSchema(type=apigateway.JsonSchemaType.INTEGER, minimum=1,
                                                            maximum=5),
                            "comment": apigateway.JsonSchema(type=apigateway.JsonSchemaType.STRING,
                                                             max_length=1000)}),
        }
        for path, schema in schemas.items():
            model = api.add_model(f"{path.capitalize()}Request", content_type="application/json", schema=schema)
            api.root.add_resource(path).add_method(
                "POST", integration, request_validator=validator, request_models={"application/json": model})
        acknowledge(api, "private-api-stage", "api-iam-authorization",
                    "control-tower-computed-value")  # the Lambda permissions' SourceArn (Fn::Join)
        return api
