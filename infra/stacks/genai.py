"""``<org>-<account>-<team>-genai``, one per team and account where the team uses Bedrock or hosts FM
endpoints: the team's guardrail and governed model access, the model-artifact and data-capture
buckets of its endpoints, and its dashboard (the endpoints' alarms go to the team's alarm topic, in
its team stack).

Teams live in their own stacks, so adding or removing a team, a model or an endpoint never
touches another team's resources or logical IDs. The endpoints themselves are in the team's
endpoints stack (``infra/stacks/fm_endpoints.py``), the account's invocation logging and enforced
guardrail in ``infra/stacks/bedrock_logging.py``.

Bedrock spend per team: one application inference profile per model of the team, tagged with the
team and its cost centre (the stack's tags), its ARN in ``/<org>/genai/<team>/inference-profile/
<model>``; the personas' access allows the models only through these profiles, so the team's
budget (filtered on its tag) sees every token it spends.
"""

from __future__ import annotations

import re

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from fmops_constructs.bedrock import GovernedModelAccess, TeamInferenceProfile
from fmops_constructs.fm_endpoint import FmEndpointRef
from fmops_constructs.genai_dashboard import GenAiDashboard
from fmops_constructs.guardrail import Guardrail
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.log_group import retained_log_group
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.secure_bucket import SecureBucket
from infra import naming, personas
from infra.config import Team
from infra.plan import TeamPlan
from infra.plan.genai import team_guardrail_policy
from infra.plan.launchers import studio_personas


class GenAiStack(Stack):
    """A team's GenAI runtime in one account: guardrail, governed model access, the buckets and
    log groups its FM endpoints use, and its dashboard.

    ``model_access`` (when the team has Bedrock models) is what callers receive:
    ``stack.model_access.grant_invoke(role)``. The persona roles the matrix allows ``invoke-fm``
    get it here, as the managed policy ``<org>-<team>-guarded-invoke`` attached by role name.
    """

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan, network: PrivateNetwork,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org, team = plan.org, plan.team
        self.key = EncryptionKey(self, "Key", alias=f"alias/{org.name}/{team.name}/genai",
                                 # the guardrail, FM endpoint volumes, the alarm topic; S3: its buckets only
                                 services=("bedrock", "sagemaker", "sns"),
                                 description=f"{org.name}: GenAI runtime of team {team.name} in {plan.account.name}")
        models = list(plan.bedrock_models)
        self.guardrail: Guardrail | None = None
        self.model_access: GovernedModelAccess | None = None
        self.inference_profiles: list[TeamInferenceProfile] = []
        if plan.uses_bedrock:
            self.guardrail = Guardrail(self, "Guardrail", name=f"{org.name}-{team.name}", encryption_key=self.key,
                                       policy=team_guardrail_policy(team),
                                       description=f"Guardrail of team {team.name}: required on every model call")
            self._publish_guardrail(org.name, team, self.guardrail)
            if models:
                self.inference_profiles = self._inference_profiles(org.name, team, models)
                self.model_access = GovernedModelAccess(models=models, guardrail=self.guardrail,
                                                        profiles=self.inference_profiles)
                self._grant_personas_guarded_invoke(plan)
        self.endpoint_refs: dict[str, FmEndpointRef] = {}
        self.endpoint_log_groups: dict[str, list[logs.LogGroup]] = {}
        if plan.hosts_endpoints:
            self._hosting_storage(plan, network)
        GenAiDashboard(self, "Dashboard", dashboard_name=f"{org.name}-{team.name}-genai", models=models,
                       guardrail=self.guardrail, endpoints=list(self.endpoint_refs.values()))

    def _publish_guardrail(self, org: str, team: Team, guardrail: Guardrail) -> None:
        """The guardrail's ARN and published version as SSM parameters
        (``/<org>/genai/<team>/guardrail-arn`` and ``guardrail-version``): callers pass both on
        every call, and a policy change publishes a new version, so they read them, not a copy."""
        self.guardrail_parameters = [
            ssm.StringParameter(self, f"Guardrail{kind.capitalize()}", parameter_name=naming.guardrail_parameter(org, team.name, kind),
                                string_value=value, description=f"{kind} of Bedrock guardrail {org}-{team.name}")
            for kind, value in (("arn", guardrail.guardrail_arn), ("version", guardrail.guardrail_version))]

    def _inference_profiles(self, org: str, team: Team, models: list) -> list[TeamInferenceProfile]:
        """One application inference profile per model, tagged with the team (the stack's tags:
        team, cost centre, organisation), its ARN in an SSM parameter for the callers."""
        profiles = []
        for model in models:
            profile = TeamInferenceProfile(
                self, f"Profile{pascal(model.slug)}", name=naming.inference_profile_name(org, team.name, model.slug),
                model=model, tags={naming.TAG_TEAM: team.name, naming.TAG_COST_CENTRE: team.cost_centre},
                description=f"Bedrock spend of team {team.name} on {model.invoke_id}")
            ssm.StringParameter(self, f"Profile{pascal(model.slug)}Arn",
                                parameter_name=naming.inference_profile_parameter(org, team.name, model.slug),
                                string_value=profile.profile_arn,
                                description=f"Application inference profile of {model.invoke_id} for team {team.name}: "
                                            "pass it as modelId")
            profiles.append(profile)
        return profiles

    def _grant_personas_guarded_invoke(self, plan: TeamPlan) -> None:
        """The persona roles allowed ``invoke-fm`` by the matrix, and their Studio execution roles
        when the team has Studio, get the team's governed model access: its models, only with
        this guardrail's published version (any other guardrail, or none, is denied) and only
        through the team's inference profiles, and read access to the guardrail and profile
        parameters. Roles are referenced by their deterministic names, so
        this stack deploys after the team (and Studio) stacks and creates no cross-stack reference."""
        org, team = plan.org.name, plan.team
        names = personas.genai_stack_personas("invoke-fm", team.persona_names())
        if not names:
            return
        role_names = [plan.persona_role_name(name) for name in names]
        if plan.has_studio:
            role_names += [plan.studio_role_name(name) for name in names if name in studio_personas()]
        roles = [iam.Role.from_role_name(self, f"Persona-{name}", name) for name in role_names]
        parameters = [naming.guardrail_parameter(org, team.name, kind) for kind in ("arn", "version")] + [
            naming.inference_profile_parameter(org, team.name, model.slug) for model in plan.bedrock_models]
        statements = [*self.model_access.policy_statements(),  # type: ignore[union-attr]
                      iam.PolicyStatement(actions=["ssm:GetParameter", "ssm:GetParameters"],
                                          resources=[self.format_arn(service="ssm", resource="parameter",
                                                                     resource_name=name[1:]) for name in parameters])]
        document = iam.PolicyDocument(statements=statements)
        policy = iam.ManagedPolicy(
            self, "GuardedInvoke", managed_policy_name=naming.guarded_invoke_policy_name(org, team.name),
            description=f"invoke-fm of team {team.name}'s personas: allowed models, only through guardrail "
                        f"{org}-{team.name} at its published version", document=document, roles=roles)
        self.model_access.acknowledge_wildcards(policy)  # type: ignore[union-attr]

    def _hosting_storage(self, plan: TeamPlan, network: PrivateNetwork) -> None:
        """Created before any endpoint (in an earlier stack), so weights can be staged first."""
        team = plan.team
        self.key.grant_logs("/aws/sagemaker/")
        access_logs = s3.Bucket.from_bucket_name(self, "AccessLogs", plan.org.access_log_bucket(plan.account))
        bucket_props = {"encryption_key": self.key, "access_logs": access_logs,
                        "vpc_endpoint_ids": [network.s3_endpoint_id]}
        self.model_bucket = SecureBucket(self, "ModelArtifacts", log_prefix=f"{team.name}/model-artifacts",
                                         **bucket_props)
        self.capture_bucket = SecureBucket(self, "DataCapture", log_prefix=f"{team.name}/data-capture", **bucket_props)
        CfnOutput(self, "ModelArtifactsBucketName", value=self.model_bucket.bucket_name,
                  description="Stage FM weights here, under the weights prefix of each endpoint in config")
        for endpoint in team.genai.endpoints:  # type: ignore[union-attr]
            ref = FmEndpointRef(naming.endpoint_name(plan.org.name, team.name, endpoint.name), endpoint.min_instances == 0)
            self.endpoint_refs[endpoint.name] = ref
            self.endpoint_log_groups[endpoint.name] = [
                self._log_group(f"{pascal(endpoint.name)}Logs{index}", name, plan.org.organisation.log_retention_days)
                for index, name in enumerate(ref.log_group_names)
            ]
        self._admit_endpoint_roles()

    def _log_group(self, construct_id: str, name: str, retention_days: int) -> logs.LogGroup:
        return retained_log_group(self, construct_id, name=name, key=self.key, retention_days=retention_days)

    def _admit_endpoint_roles(self) -> None:
        """Bucket policies for the execution roles of the team's endpoints, by role name: the roles
        are created later, in the endpoints stack. Each reads the weights and writes only its own
        capture prefix."""
        anyone = [iam.AnyPrincipal()]
        role_arns = {
            ref.endpoint_name: naming.role_arn(self.partition, self.account, naming.endpoint_role_name(ref.endpoint_name))
            for ref in self.endpoint_refs.values()
        }
        weights = self.model_bucket
        weights.add_to_resource_policy(iam.PolicyStatement(
            sid="EndpointsReadWeights", principals=anyone, actions=["s3:GetObject", "s3:ListBucket"],
            resources=[weights.bucket_arn, weights.arn_for_objects("*")],
            conditions={"ArnEquals": {"aws:PrincipalArn": sorted(role_arns.values())}}))
        capture = self.capture_bucket
        for name, role_arn in role_arns.items():
            capture.add_to_resource_policy(iam.PolicyStatement(
                sid=f"CaptureOf{pascal(name)}", principals=anyone, actions=["s3:PutObject"],
                resources=[capture.arn_for_objects(f"{name}/*")], conditions={"ArnEquals": {"aws:PrincipalArn": role_arn}}))


def pascal(name: str) -> str:
    """``my-endpoint`` -> ``MyEndpoint``: construct ids of per-endpoint resources."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", name))
