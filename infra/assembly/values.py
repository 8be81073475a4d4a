"""Best-effort text of CloudFormation values, for tools that describe a synthesized app."""

from __future__ import annotations

from typing import Any

_PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "region", "AWS::URLSuffix": "amazonaws.com",
           "AWS::AccountId": "self"}


def cfn_text(value: Any) -> str:
    """Best-effort text of a CloudFormation value: literals, Fn::Join, Fn::Sub and pseudo parameters."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
            return str(argument[0]).join(cfn_text(part) for part in argument[1])
        if function == "Fn::Sub":
            text = argument if isinstance(argument, str) else cfn_text(argument[0])
            for name, literal in _PSEUDO.items():
                text = text.replace("${%s}" % name, literal)
            return text
        if function == "Ref":
            return _PSEUDO.get(str(argument), "{%s}" % argument)
    return "{token}"


def endpoint_service(service: Any) -> str:
    """The short name of a VPC endpoint's ServiceName: 'com.amazonaws.eu-west-1.sagemaker.api' ->
    'sagemaker.api'; 'aws.sagemaker.<region>.studio' -> 'studio'."""
    parts = cfn_text(service).split(".")
    if parts[0] == "aws":
        return parts[-1]
    return ".".join(parts[3:])
