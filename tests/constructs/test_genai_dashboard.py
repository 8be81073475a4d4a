"""GenAiDashboard: a row of model graphs, the guardrail's interventions, a row per endpoint."""

from __future__ import annotations

import json

import pytest

from fmops_constructs.bedrock import BedrockModel
from fmops_constructs.fm_endpoint import FmEndpointRef
from fmops_constructs.genai_dashboard import GenAiDashboard
from fmops_constructs.guardrail import Guardrail
from fmops_constructs.kms import EncryptionKey
from tests.constructs.bare import ORG, TEAM, app_names, bare_stack, only, template

MODEL = BedrockModel("amazon.nova-pro-v1:0", geography="eu")


@pytest.fixture(scope="module")
def synthesized():
    stack = bare_stack()
    guardrail = Guardrail(stack, "Guardrail", name=f"{ORG}-{TEAM}",
                          encryption_key=EncryptionKey(stack, "Key", alias="alias/g", description="g"))
    GenAiDashboard(stack, "Dashboard", dashboard_name=f"{ORG}-{TEAM}-genai", models=[MODEL], guardrail=guardrail,
                   endpoints=[FmEndpointRef(f"{TEAM}-chat"), FmEndpointRef(f"{TEAM}-lazy", scales_to_zero=True)])
    return template(stack)


def _body(template) -> str:
    """The dashboard body, tokens joined as their logical ids."""
    parts = only(template, "AWS::CloudWatch::Dashboard")["DashboardBody"]["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else json.dumps(p) for p in parts)


def test_named_dashboard_with_models_guardrail_and_endpoints(synthesized):
    assert only(synthesized, "AWS::CloudWatch::Dashboard")["DashboardName"] == f"{ORG}-{TEAM}-genai"
    body = _body(synthesized)
    for title in ("Bedrock invocations per model", "Bedrock latency per model (ms, p90)", "Bedrock throttles per model",
                  "Guardrail interventions", f"{TEAM}-chat: invocations", f"{TEAM}-lazy: 5XX errors"):
        assert title in body, title
    assert MODEL.invoke_id in body
    assert "InferenceComponentName" in body and f"{TEAM}-lazy-model" in body


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == []
