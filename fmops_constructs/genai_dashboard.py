"""A team's CloudWatch dashboard for its Bedrock models, guardrail and FM endpoints."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from fmops_constructs.bedrock import BedrockModel
from fmops_constructs.fm_endpoint import FmEndpointRef
from fmops_constructs.guardrail import Guardrail

PERIOD = Duration.minutes(5)
WIDTH = 8


def bedrock_metric(model: BedrockModel, name: str, statistic: str) -> cloudwatch.Metric:
    """A metric of AWS/Bedrock for one model, under the id callers pass (profile id if any)."""
    return cloudwatch.Metric(namespace="AWS/Bedrock", metric_name=name, dimensions_map={"ModelId": model.invoke_id},
                             statistic=statistic, period=PERIOD, label=model.invoke_id)


class GenAiDashboard(Construct):
    """Per-model Bedrock invocations, latency and throttles, guardrail interventions, and per
    endpoint invocations, 5XX errors and model latency.

    Bedrock publishes model metrics per account and model, so teams sharing an account and a
    model see their combined traffic; the guardrail graph is the team's own.
    """

    def __init__(self, scope: Construct, construct_id: str, *, dashboard_name: str,
                 models: Sequence[BedrockModel] = (), guardrail: Guardrail | None = None,
                 endpoints: Sequence[FmEndpointRef] = ()) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(self, "Resource", dashboard_name=dashboard_name)
        rows: list[list[cloudwatch.IWidget]] = []
        if models:
            rows.append([
                self._graph("Bedrock invocations per model", [bedrock_metric(m, "Invocations", "Sum") for m in models]),
                self._graph("Bedrock latency per model (ms, p90)",
                            [bedrock_metric(m, "InvocationLatency", "p90") for m in models]),
                self._graph("Bedrock throttles per model",
                            [bedrock_metric(m, "InvocationThrottles", "Sum") for m in models]),
            ])
        if guardrail is not None:
            rows.append([self._graph("Guardrail interventions", [guardrail.metric_interventions(PERIOD)])])
        for endpoint in endpoints:
            rows.append([
                self._graph(f"{endpoint.endpoint_name}: invocations", [endpoint.invocations()]),
                self._graph(f"{endpoint.endpoint_name}: 5XX errors", [endpoint.server_errors()]),
                self._graph(f"{endpoint.endpoint_name}: model latency (us, p90)", [endpoint.model_latency()]),
            ])
        for row in rows:
            self.dashboard.add_widgets(*row)

    @staticmethod
    def _graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(title=title, left=list(metrics), width=WIDTH, height=6)
