"""Per-team, per-account stack: the team's key, data bucket, permission boundary and persona roles.

One stack per team and account keeps teams independent: adding or removing a team adds or
removes its stacks and touches no other team's resources or logical IDs.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from fmops_constructs.aspects import exempt_from_internet_free
from fmops_constructs.alarm_topic import AlarmTopic, SlackTarget, TeamsTarget
from fmops_constructs.bedrock import invocation_allow_list
from fmops_constructs.budget import TeamBudgetAlarm
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.mlflow import MlflowTrackingServer
from fmops_constructs.persona import PermissionBoundary, PersonaRole
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.secure_bucket import SecureBucket
from infra import naming, personas
from infra.config import Feature
from infra.plan import TeamPlan


class TeamStack(Stack):
    """The team's data key and bucket, its permission boundary and one role per persona."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan, network: PrivateNetwork,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org, account, team = plan.org, plan.account, plan.team
        self.data_key = EncryptionKey(self, "DataKey", alias=naming.team_data_key_alias(org.name, team.name),
                                      services=("sagemaker",),  # jobs and Studio; S3: the team bucket only
                                      description=f"{org.name}: data of team {team.name} in {account.name}")
        access_logs = s3.Bucket.from_bucket_name(self, "AccessLogs", org.access_log_bucket(account))
        mlflow = Feature.MLFLOW in plan.features
        mlflow_role = naming.mlflow_role_name(org.name, team.name)
        outside: list[tuple[str, str]] = []  # (role ARN, why) of the roles the bucket admits from outside the VPC
        if mlflow:
            outside.append((naming.role_arn(self.partition, self.account, mlflow_role),
                            "SageMaker's managed MLflow tracking server reads and writes its artifacts from the VPC "
                            f"SageMaker manages: its role {mlflow_role}, assumable only by sagemaker.amazonaws.com for "
                            "this account's tracking server, reaches the mlflow/ prefix only."))
        if plan.has_data_lake:
            lake_role = naming.lake_registration_role_name(org.name, team.name)
            outside.append((naming.role_arn("aws", account.id, lake_role),
                            "Lake Formation vends credentials of the team's lake registration role to Athena and "
                            f"Glue, which read the registered lake/ prefix from the AWS service: {lake_role}, "
                            "assumable only by lakeformation.amazonaws.com of this account, allowed only lake/ of "
                            "this bucket."))
        self.data = SecureBucket(
            self, "DataBucket",
            encryption_key=self.data_key,
            access_logs=access_logs,
            vpc_endpoint_ids=[network.s3_endpoint_id],
            log_prefix=f"{team.name}/data",
            bucket_name=plan.bucket_name,
            # Services that read the bucket from their own network, not through this VPC (below).
            admit_outside_vpc=[arn for arn, _ in outside],
        )
        if outside:  # one exemption (metadata key) on the bucket, with every reason
            exempt_from_internet_free(
                self.data.node.default_child, ["IF-S3-VPCE-ONLY"],  # type: ignore[arg-type]
                "Besides requests through the VPC's S3 endpoint the bucket admits only these roles, from the AWS "
                "service that assumes them: " + " ".join(why for _, why in outside))
        self._personas(plan)
        self.mlflow = self._tracking_server(plan, mlflow_role) if mlflow else None
        if team.budget is not None:
            TeamBudgetAlarm(self, "Budget", team=team.name, tag_key=naming.TAG_TEAM,
                            monthly_usd=team.budget.monthly_usd, alert_emails=team.budget.alert_emails)
        self.alarms = self._alarm_topic(plan) if team.has_alarm_topic else None

    def _tracking_server(self, plan: TeamPlan, role_name: str) -> MlflowTrackingServer:
        """The team's MLflow tracking server of this account (stage), artifacts under mlflow/ of the bucket."""
        org, team = plan.org, plan.team
        return MlflowTrackingServer(
            self, "Mlflow", tracking_server_name=naming.mlflow_tracking_server_name(org.name, team.name),
            bucket_name=plan.bucket_name, key_arn=self.data_key.key_arn, role_name=role_name,
            permissions_boundary=self.boundary.policy, artifact_prefix=naming.MLFLOW_PREFIX,
            parameter_name=naming.mlflow_parameter(org.name, team.name),
            tags={naming.TAG_TEAM: team.name})

    def _alarm_topic(self, plan: TeamPlan) -> AlarmTopic:
        """The topic every alarm of the team in this account publishes to, and its subscribers."""
        org, team = plan.org, plan.team
        chat = team.alarms
        topic = AlarmTopic(
            self, "Alarms", topic_name=naming.alarm_topic_name(org.name, team.name),
            key_alias=f"alias/{org.name}/{team.name}/alarms",
            description=f"{org.name}: alarm notifications of team {team.name} in {plan.account.name}",
            emails=team.alarm_emails,
            slack=[SlackTarget(c.workspace_id, c.channel_id) for c in chat.slack] if chat else [],
            teams=[TeamsTarget(c.tenant_id, c.team_id, c.channel_id) for c in chat.teams] if chat else [],
            chosen_in=team.alarms_chosen_in)
        # Model approvals of the team's projects (rules <team>-<project>-decided, named by the
        # templates) and models arriving from the previous stage (the import function's rule).
        topic.allow_event_rules([f"{team.name}-*", naming.import_role_name(org.name, team.name)])
        return topic

    def _personas(self, plan: TeamPlan) -> None:
        """The boundary, then one role per team persona, each policy generated from the matrix."""
        team = plan.team
        scope = personas.Scope(org=plan.org.name, team=team.name, account=plan.account.id, region=plan.org.region,
                               model_arns=tuple(invocation_allow_list(self, plan.bedrock_models)),
                               features=tuple(f.value for f in plan.features))
        name = plan.boundary_name
        boundary_arn = naming.policy_arn("aws", self.account, name)
        approvers = personas.approver_role_arns(plan.org.name, team.name, self.account)
        self.boundary = PermissionBoundary(
            self, "Boundary", name=name,
            document=personas.boundary_document(boundary_arn, list(scope.model_arns), approvers,
                                                org=plan.org.name, team=team.name, data_lake=plan.has_data_lake),
        )
        # The launch role's own: it may create roles only with the team boundary (above).
        launch_name = naming.launch_boundary_name(plan.org.name, team.name)
        self.launch_boundary = PermissionBoundary(
            self, "LaunchBoundary", name=launch_name,
            document=personas.boundary_document(naming.policy_arn("aws", self.account, launch_name), [], approvers,
                                                org=plan.org.name, team=team.name, launch_for=boundary_arn),
        )
        matrix = personas.load_matrix()
        self.persona_roles = {
            persona: PersonaRole(
                self, f"Persona-{persona}", role_name=plan.persona_role_name(persona),
                persona=persona, description=matrix.personas[persona].description,
                policy_description=f"{persona} of {team.name}, generated from infra/personas/matrix.yaml",
                tags={naming.TAG_TEAM: team.name, naming.TAG_PERSONA: persona},
                statements=personas.persona_statements(persona, scope, matrix),
                boundary=self.boundary.policy, principal_arn=team.assume_principal,
            )
            for persona in team.persona_names()
        }
