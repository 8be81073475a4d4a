"""``<org>-<account>-bedrock-logging``, one per account whose VPC has Bedrock endpoints: the
account-and-Region-wide Bedrock settings, model invocation logging and the enforced guardrail.

The enforced guardrail (``AWS::Bedrock::EnforcedGuardrailConfiguration``) is the account's
guardrail, built from ``organisation.enforced_guardrail``: Bedrock applies it to every model call
of the account, from any role, besides the guardrail the call names. IAM requires each team's own
guardrail in the call (``bedrock:GuardrailIdentifier``), but only the caller decides what that
guardrail sees: guard-content tags and ``guardContent`` blocks narrow it to the parts the caller
marks. The enforced guardrail is configured ``COMPREHENSIVE`` for user messages and the system
prompt, so it evaluates all of them whatever the caller marks. Where both apply, Bedrock combines
them, the stricter control winning (docs/security-model.md#guardrails).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.guardrail import Guardrail
from fmops_constructs.invocation_logging import ModelInvocationLogging
from fmops_constructs.private_network import PrivateNetwork
from infra import naming
from infra.config import GuardrailSettings
from infra.plan import AccountPlan
from infra.plan.genai import guardrail_policy

# Evaluate every user message and the system prompt, ignoring the caller's guard-content tags.
COMPREHENSIVE = "COMPREHENSIVE"


class BedrockLoggingStack(Stack):
    """Model invocation logging of one account: every Bedrock call, logged and encrypted; and the
    account's enforced guardrail on every call."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: AccountPlan, network: PrivateNetwork,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org = plan.org.organisation
        self.invocation_logging = ModelInvocationLogging(
            self, "InvocationLogging",
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            access_logs=s3.Bucket.from_bucket_name(self, "AccessLogs", plan.access_log_bucket),
            vpc_endpoint_ids=[network.s3_endpoint_id],
            log_group_name=naming.bedrock_invocation_log_group(org.name),
            retention_days=org.log_retention_days,
            key_alias=f"alias/{org.name}/bedrock-invocation-logs",
        )
        self.enforced_guardrail = self._enforced_guardrail(org.name, org.enforced_guardrail)

    def _enforced_guardrail(self, org: str, settings: GuardrailSettings) -> Guardrail:
        """The account's guardrail, its published version enforced on every model call.

        Encrypted with the invocation-log key (no second key, no second fixed monthly cost): the
        principals of the account may decrypt with it only through Bedrock, which reads the
        guardrail, and the logs it protects are read through CloudWatch Logs and S3, never
        through Bedrock. The guardrail's resource policy lets the account's principals apply it,
        which every call of the account does."""
        key = self.invocation_logging.key
        guardrail = Guardrail(self, "EnforcedGuardrail", name=f"{org}-enforced", encryption_key=key,
                              policy=guardrail_policy(settings),
                              description="Account guardrail: Bedrock enforces it on every model call of the account")
        self.enforcement = bedrock.CfnEnforcedGuardrailConfiguration(
            self, "EnforcedGuardrailConfiguration",
            guardrail_identifier=guardrail.guardrail_arn, guardrail_version=guardrail.guardrail_version,
            selective_content_guarding=bedrock.CfnEnforcedGuardrailConfiguration.SelectiveContentGuardingProperty(
                messages=COMPREHENSIVE, system=COMPREHENSIVE))
        this_account = {"StringEquals": {"aws:PrincipalAccount": self.account}}
        bedrock.CfnResourcePolicy(
            self, "EnforcedGuardrailPolicy", resource_arn=guardrail.guardrail_arn,
            policy_document=iam.PolicyDocument(statements=[iam.PolicyStatement(
                sid="AccountPrincipalsApply", principals=[iam.AnyPrincipal()], actions=["bedrock:ApplyGuardrail"],
                resources=[guardrail.guardrail_arn], conditions=this_account)]).to_json())
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="AccountPrincipalsReadEnforcedGuardrail", principals=[iam.AnyPrincipal()], actions=["kms:Decrypt"],
            resources=["*"], conditions={"StringEquals": {
                "aws:PrincipalAccount": self.account, "kms:ViaService": f"bedrock.{self.region}.amazonaws.com"}}))
        acknowledge(key, "enforced-guardrail-key-account-callers")
        for kind, value in (("arn", guardrail.guardrail_arn), ("version", guardrail.guardrail_version)):
            ssm.StringParameter(self, f"EnforcedGuardrail{kind.capitalize()}",
                                parameter_name=naming.enforced_guardrail_parameter(org, kind), string_value=value,
                                description=f"{kind} of the account's enforced Bedrock guardrail")
        return guardrail
