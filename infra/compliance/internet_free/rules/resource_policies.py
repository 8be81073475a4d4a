"""Resource and trust policies of every other resource type: none open to everyone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.compliance.internet_free.intrinsics import MISSING, parse_json, render
from infra.compliance.internet_free.policies import public_statements
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "resource"


_OWN_POLICY_RULES = ("AWS::S3::BucketPolicy", "AWS::EC2::VPCEndpoint")


def policy_documents(node: Any, template: dict) -> Iterator[Any]:
    """Every policy document below ``node``: objects with a Statement, or strings building one."""
    if isinstance(node, dict):
        if "Statement" in node:
            yield node
        elif node.keys() & {"Fn::Join", "Fn::Sub"} and '"Statement"' in render(node, template):
            yield node
        else:
            for value in node.values():
                yield from policy_documents(value, template)
    elif isinstance(node, list):
        for item in node:
            yield from policy_documents(item, template)
    elif isinstance(node, str) and '"Statement"' in node:
        yield node


def _legacy_event_bus_statement(props: dict) -> dict:
    """The one statement an old-style EventBusPolicy (Principal/Condition properties) grants."""
    condition = props.get("Condition")
    converted = MISSING
    if isinstance(condition, dict) and {"Type", "Key", "Value"} <= condition.keys():
        converted = {condition["Type"]: {condition["Key"]: condition["Value"]}}
    return {"Effect": "Allow", "Principal": props.get("Principal"), "Condition": converted}


@rule("IF-POLICY-PUBLIC", "No public resource policy", "*")
def resource_policy_public(s: Subject) -> list[str]:
    """Any resource policy or trust policy below the properties of any resource (SNS, SQS, KMS,
    Secrets Manager, ECR, EventBridge, Logs, OpenSearch, API Gateway, IAM trust, backup, Glue,
    DynamoDB...) that allows Principal '*' without a restricting condition is public. Policies
    built as strings are parsed; an unparseable one is a finding. Bucket policies have their
    own rule; VPC endpoint policies only narrow the endpoint and are skipped.

    Fix: name principals, or add a StringEquals condition on aws:SourceVpce, aws:PrincipalOrgID,
    aws:SourceAccount or aws:SourceArn.
    """
    if s.type in _OWN_POLICY_RULES:
        return []
    documents = list(policy_documents(s.props, s.template))
    if s.type == "AWS::Events::EventBusPolicy" and "Principal" in s.props:
        documents.append({"Statement": [_legacy_event_bus_statement(s.props)]})
    messages = []
    for document in documents:
        for parsed in parse_json(document, s.template):
            if parsed is MISSING:
                messages.append("policy document cannot be parsed")
            else:
                messages += public_statements(parsed, s.template)
    return messages
