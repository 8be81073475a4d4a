"""``<org>-<account>-<team>-endpoints``, where the team hosts FM endpoints: the endpoints, on the
storage of the team's GenAI stack (``infra/stacks/genai.py``)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from fmops_constructs.fm_endpoint import FmEndpoint
from fmops_constructs.private_network import PrivateNetwork
from infra import naming
from infra.config import FmEndpointSettings
from infra.plan import TeamPlan
from infra.stacks.genai import GenAiStack, pascal


class FmEndpointsStack(Stack):
    """A team's FM endpoints in one account, on the buckets, key and log groups of its GenAI
    stack; their alarms go to the team's alarm topic (``alarm_topic``, of its team stack). A separate stack because an endpoint only starts once its weights are staged
    in the model bucket: a failed first deployment rolls back the endpoints, never the storage.
    Execution roles carry the team's permission boundary, so deploy after the team stack."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan, genai: GenAiStack,
                 network: PrivateNetwork, alarm_topic: sns.ITopic, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.alarm_topic = alarm_topic
        boundary = iam.ManagedPolicy.from_managed_policy_name(self, "TeamBoundary", plan.boundary_name)
        self.endpoints = [self._endpoint(plan, genai, network, boundary, endpoint)
                          for endpoint in plan.team.genai.endpoints]  # type: ignore[union-attr]

    def _endpoint(self, plan: TeamPlan, genai: GenAiStack, network: PrivateNetwork,
                  boundary: iam.IManagedPolicy, endpoint: FmEndpointSettings) -> FmEndpoint:
        name = naming.endpoint_name(plan.org.name, plan.team.name, endpoint.name)
        return FmEndpoint(
            self, pascal(endpoint.name),
            endpoint_name=name,
            role_name=naming.endpoint_role_name(name),
            permissions_boundary=boundary,
            vpc=network.vpc,
            image=endpoint.image,
            model_data_url=genai.model_bucket.s3_url_for_object(endpoint.weights),
            instance_type=plan.endpoint_instance_types[endpoint.name],
            encryption_key=genai.key,
            data_capture_uri=genai.capture_bucket.s3_url_for_object(name),
            log_groups=genai.endpoint_log_groups[endpoint.name],
            alarm_action=cw_actions.SnsAction(self.alarm_topic),
            min_instances=endpoint.min_instances,
            max_instances=endpoint.max_instances,
            target_invocations_per_instance=endpoint.target_invocations_per_instance,
            data_capture_percent=endpoint.data_capture_percent,
            environment=endpoint.environment,
        )
