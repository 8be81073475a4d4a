"""A Python Lambda function of a project, in the VPC, with its code from the template's seed bundle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Fn
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.product.grants import Grant, ProjectRole, network_interface_grants
from fmops_constructs.product.props import PlatformValue
from fmops_constructs.product.stack import ProjectProductStack

PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14.name


class ProjectFunction(Construct):
    """A Python Lambda function of a project: code from the template's seed bundle, in the VPC's
    isolated subnets with the team's project security group, logs in a project log group,
    environment encrypted with the project key, reserved concurrency so a runaway caller cannot
    starve the account.

    :param handler: ``module.function`` inside the seed bundle.
    :param name_suffix: names the function ``<team>-<project>-<suffix>`` and its log group.
    :param grants: what the function may do besides writing its logs and using the VPC.
    :param why: why the grants' wildcards are acceptable (their acknowledgment).
    :param dead_letters: where failed asynchronous invocations are published.
    :param timeout_seconds: Default: 60.
    :param memory_mb: Default: 512.
    :param reserved_concurrency: Default: 10.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack, handler: str,
                 name_suffix: str, description: str, environment: Mapping[str, str], grants: Sequence[Grant],
                 why: str, dead_letters: sns.ITopic, timeout_seconds: int = 60, memory_mb: int = 512,
                 reserved_concurrency: int = 10) -> None:
        super().__init__(scope, construct_id)
        self.log_group = stack.log_group("LogGroup", f"lambda/{name_suffix}")
        log_arn = Fn.sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
                         f"{stack.log_group_name_template(f'lambda/{name_suffix}')}:*")
        self.execution_role = ProjectRole(
            self, "Execution", service="lambda.amazonaws.com", description=f"Lambda function {name_suffix} of a project",
            grants=[Grant(("logs:CreateLogStream", "logs:PutLogEvents"), (log_arn,)),
                    *network_interface_grants(lambda_function=True), Grant(("sns:Publish",), (dead_letters.topic_arn,)),
                    *grants],
            why=why + "; ec2 network-interface calls have no resource-level scope (Lambda in the VPC)")
        self.function = lambda_.CfnFunction(
            self, "Function",
            function_name=stack.resource_name(name_suffix),
            description=description,
            runtime=PYTHON_RUNTIME,
            handler=handler,
            code=lambda_.CfnFunction.CodeProperty(
                s3_bucket=stack.platform_string(PlatformValue.SEED_BUCKET), s3_key=stack.seed_key),
            role=self.execution_role.role_arn,
            timeout=timeout_seconds,
            memory_size=memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            kms_key_arn=stack.project_key.key_arn,
            environment=lambda_.CfnFunction.EnvironmentProperty(variables=dict(environment)),
            vpc_config=lambda_.CfnFunction.VpcConfigProperty(
                subnet_ids=stack.platform_list(PlatformValue.SUBNET_IDS),
                security_group_ids=[stack.platform_string(PlatformValue.SECURITY_GROUP_ID)]),
            logging_config=lambda_.CfnFunction.LoggingConfigProperty(log_group=self.log_group.ref, log_format="JSON"),
            dead_letter_config=lambda_.CfnFunction.DeadLetterConfigProperty(target_arn=dead_letters.topic_arn),
        )
        acknowledge(self.function, "control-tower-computed-value")  # subnets: the catalog's SSM parameter
        self.function.node.add_dependency(self.execution_role)
        self.function_arn = self.function.attr_arn
