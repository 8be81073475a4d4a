"""The IAM principals of one account, read from the synthesized templates with intrinsics resolved.

For every named role of the account's stacks: its identity policies (inline, managed by
reference, managed policies of other stacks attached by role name), its permission boundary and
its trust policy; plus the resource policies the workflows meet: bucket policies and key
policies. CloudFormation values are resolved as a deployment would resolve them: pseudo
parameters, ``Ref`` of named resources, ``Fn::GetAtt ...Arn`` (a key's ARN ends in its logical
ID), ``Fn::Join`` and ``Fn::Sub``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infra.assembly import StackArtifact
from infra.compliance.iam_eval import Layers

# What the GenAI stack's guardrail resolves to in an evaluation: this id, published version 1.
GUARDRAIL_ID = "gr0team1"

_NAME_PROPERTY = {"AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
                  "AWS::S3::Bucket": "BucketName", "AWS::Logs::LogGroup": "LogGroupName"}


DOMAIN_ID = "d-example"  # what a Studio domain's id resolves to (the recorded workflows use it)


@dataclass
class _Resolver:
    account: str
    region: str
    template: dict[str, Any]
    exports: dict[str, tuple["_Resolver", Any]] = field(default_factory=dict)
    stack_name: str = ""
    """Makes key ARNs unique in the account: two teams' stacks of one account have keys of the same logical ID."""

    def arn_of(self, logical_id: str) -> str:
        resource = self.template["Resources"].get(logical_id, {})
        kind, props = resource.get("Type", ""), resource.get("Properties", {})
        if kind == "AWS::KMS::Key":
            return f"arn:aws:kms:{self.region}:{self.account}:key/{logical_id}" + (
                f"-{self.stack_name}" if self.stack_name else "")
        if kind == "AWS::IAM::Role":
            path = props.get("Path", "/")
            return f"arn:aws:iam::{self.account}:role{path}{self.value(props.get('RoleName', logical_id))}"
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{self.account}:policy/{self.value(props.get('ManagedPolicyName', logical_id))}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{self.value(props.get('BucketName', logical_id.lower()))}"
        if kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{self.region}:{self.account}:log-group:{self.value(props.get('LogGroupName', logical_id))}:*"
        if kind == "AWS::Bedrock::Guardrail":
            return f"arn:aws:bedrock:{self.region}:{self.account}:guardrail/{GUARDRAIL_ID}"
        if kind == "AWS::Bedrock::ApplicationInferenceProfile":  # its id is generated: the logical ID stands for it
            return f"arn:aws:bedrock:{self.region}:{self.account}:application-inference-profile/{logical_id.lower()}"
        return f"arn:aws:unknown:{self.region}:{self.account}:{logical_id}"

    def ref(self, name: str) -> str:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": self.region, "AWS::AccountId": self.account,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "stack", "AWS::NoValue": ""}
        if name in pseudo:
            return pseudo[name]
        resource = self.template["Resources"].get(name)
        if resource is None:
            parameter = self.template.get("Parameters", {}).get(name, {})
            return str(parameter.get("Default", name))
        prop = _NAME_PROPERTY.get(resource["Type"])
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            return self.arn_of(name)
        if prop and prop in resource.get("Properties", {}):
            return self.value(resource["Properties"][prop])
        return name

    def getatt(self, logical_id: str, attribute: str) -> str:
        if attribute in ("Arn", "GuardrailArn", "InferenceProfileArn"):
            return self.arn_of(logical_id)
        if attribute == "Version":
            return "1"
        if attribute == "DomainId":
            return DOMAIN_ID
        if attribute in ("GuardrailId", "KeyId"):
            return GUARDRAIL_ID if attribute == "GuardrailId" else logical_id
        return f"{logical_id}.{attribute}"

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.value(v) for v in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.getatt(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(p) for p in self.value(parts))
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
                return re.sub(r"\$\{([^}!]+)\}", lambda m: str(variables.get(m.group(1)) if m.group(1) in variables
                                                               else self._sub_name(m.group(1))), text)
            if key == "Fn::Select":
                index, items = arg
                return self.value(items)[int(index)]
            if key == "Fn::If":
                return self.value(arg[1])
            if key == "Fn::ImportValue":
                name = self.value(arg)
                if name in self.exports:
                    resolver, value = self.exports[name]
                    return resolver.value(value)
                return name
        return {k: self.value(v) for k, v in node.items()}

    def _sub_name(self, name: str) -> str:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.getatt(logical_id, attribute)
        return self.ref(name)


@dataclass
class RoleLayers:
    name: str
    arn: str
    layers: Layers
    trust: dict[str, Any]
    tags: dict[str, str]
    boundary_name: str = ""  # the name of its permission boundary policy, if it has one


@dataclass(frozen=True)
class InferenceProfile:
    """An application inference profile: its tags and what Bedrock authorizes a call through it
    against besides the profile (the model it copies and, for a cross-Region profile, the
    foundation model in this Region, one of those it routes to)."""

    arn: str
    tags: dict[str, str]
    routes: tuple[str, ...]


def _profile_routes(copy_from: str, region: str) -> tuple[str, ...]:
    if ":inference-profile/" not in copy_from:
        return (copy_from,)
    model = copy_from.rsplit("/", 1)[-1].split(".", 1)[1]  # eu.amazon.nova-pro-v1:0 -> amazon.nova-pro-v1:0
    return (copy_from, f"arn:aws:bedrock:{region}::foundation-model/{model}")


@dataclass
class AccountPrincipals:
    """Roles, bucket policies and key policies of one account."""

    account: str
    region: str
    roles: dict[str, RoleLayers] = field(default_factory=dict)  # by role name
    bucket_policies: dict[str, dict] = field(default_factory=dict)  # by bucket name
    key_policies: dict[str, dict] = field(default_factory=dict)  # by key ARN
    keys_by_tag: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    s3_gateway_endpoint: str = ""  # its id, as the bucket policies' aws:SourceVpce resolves it
    inference_profiles: dict[str, InferenceProfile] = field(default_factory=dict)  # by profile ARN
    endpoint_policies: dict[str, dict] = field(default_factory=dict)
    """Policy of each VPC endpoint of the account's VPC, by service (``s3``, ``sagemaker.api``...)."""
    organization_id: str | None = None  # the account's AWS Organizations ID (mode organisation)

    def session_context(self) -> dict[str, Any]:
        """What every call from inside the VPC carries: TLS, the S3 gateway endpoint it goes through, and
        the caller's organisation."""
        context = {"aws:SecureTransport": True, "s3:TlsVersion": "1.3", "aws:SourceVpce": self.s3_gateway_endpoint,
                   "aws:PrincipalIsAWSService": False, "aws:ViaAWSService": False}
        if self.organization_id:
            context["aws:PrincipalOrgID"] = self.organization_id
        return context

    def endpoint_policy(self, action: str) -> dict | None:
        """The policy of the VPC endpoint a call of ``action`` goes through, if the VPC has one for it."""
        service, _, name = action.partition(":")
        for candidate in _ENDPOINT_SERVICES.get((service, name), ()) or _ENDPOINT_SERVICES.get((service, "*"), ()):
            if candidate in self.endpoint_policies:
                return self.endpoint_policies[candidate]
        return None

    def role(self, name_or_arn: str) -> RoleLayers | None:
        return self.roles.get(name_or_arn.rsplit("/", 1)[-1])


_RUNTIME_ACTIONS = ("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream", "ApplyGuardrail")
_ENDPOINT_SERVICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "*"): ("s3",), ("sagemaker", "*"): ("sagemaker.api",),
    ("sagemaker", "InvokeEndpoint"): ("sagemaker.runtime",),
    ("sagemaker", "InvokeEndpointWithResponseStream"): ("sagemaker.runtime",),
    ("bedrock", "*"): ("bedrock",), **{("bedrock", a): ("bedrock-runtime",) for a in _RUNTIME_ACTIONS},
    **{(s, "*"): (s,) for s in ("kms", "logs", "ssm", "sts", "servicecatalog", "events", "ec2", "execute-api",
                                  "monitoring", "codeartifact")},
    ("ecr", "*"): ("ecr.api",), ("lambda", "*"): ("lambda",),
    ("sagemaker-mlflow", "*"): ("experiments",),
}
"""Which endpoint of the VPC a call goes through (the endpoints' service names without the
``com.amazonaws.<region>.`` prefix)."""


def _endpoint_service(service_name: str) -> str:
    """``com.amazonaws.eu-west-1.sagemaker.api`` -> ``sagemaker.api``; ``aws.sagemaker.eu-west-1.studio`` -> ``studio``."""
    parts = service_name.split(".")
    return ".".join(parts[3:]) if parts[:2] == ["com", "amazonaws"] else parts[-1]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def account_principals(stacks: list[StackArtifact], scp_levels: list[list[dict]],
                       organization_id: str | None = None) -> AccountPrincipals:
    """Everything :mod:`~infra.personas.workflows` needs of the stacks of one account (in mode
    organisation, ``organization_id``: the caller's ``aws:PrincipalOrgID``)."""
    account, region = stacks[0].account, stacks[0].region
    principals = AccountPrincipals(account, region, organization_id=organization_id)
    policies_by_name: dict[str, dict] = {}
    attachments: dict[str, list[dict]] = {}
    roles: list[tuple[_Resolver, str, dict]] = []
    exports: dict[str, tuple[_Resolver, Any]] = {}
    resolvers = [(_Resolver(account, region, stack.template, exports, stack.name), stack) for stack in stacks]
    for resolver, stack in resolvers:
        for output in stack.template.get("Outputs", {}).values():
            if "Export" in output:
                exports[resolver.value(output["Export"]["Name"])] = (resolver, output["Value"])
    for resolver, stack in resolvers:
        for logical_id, resource in stack.template.get("Resources", {}).items():
            kind, props = resource["Type"], resource.get("Properties", {})
            if kind == "AWS::IAM::ManagedPolicy":
                document = resolver.value(props["PolicyDocument"])
                name = resolver.value(props.get("ManagedPolicyName", logical_id))
                policies_by_name[name] = document
                for role in _as_list(props.get("Roles", [])):
                    attachments.setdefault(resolver.value(role), []).append(document)
            elif kind == "AWS::IAM::Policy":
                document = resolver.value(props["PolicyDocument"])
                for role in _as_list(props.get("Roles", [])):
                    attachments.setdefault(resolver.value(role), []).append(document)
            elif kind == "AWS::IAM::Role" and "RoleName" in props:
                roles.append((resolver, logical_id, props))
            elif kind == "AWS::S3::BucketPolicy":
                principals.bucket_policies[resolver.value(props["Bucket"])] = resolver.value(props["PolicyDocument"])
            elif kind == "AWS::EC2::VPCEndpoint":
                service = _endpoint_service(str(resolver.value(props.get("ServiceName"))))
                if "PolicyDocument" in props:
                    principals.endpoint_policies[service] = resolver.value(props["PolicyDocument"])
                if props.get("VpcEndpointType") == "Gateway" and service == "s3":
                    principals.s3_gateway_endpoint = logical_id
            elif kind == "AWS::Bedrock::ApplicationInferenceProfile":
                arn = resolver.arn_of(logical_id)
                tags = {t["Key"]: resolver.value(t["Value"]) for t in props.get("Tags", [])}
                copy_from = resolver.value(props["ModelSource"]["CopyFrom"])
                principals.inference_profiles[arn] = InferenceProfile(arn, tags, _profile_routes(copy_from, region))
            elif kind == "AWS::KMS::Key":
                arn = resolver.arn_of(logical_id)
                principals.key_policies[arn] = resolver.value(props.get("KeyPolicy", {}))
                for tag in props.get("Tags", []):
                    principals.keys_by_tag.setdefault((tag["Key"], resolver.value(tag["Value"])), []).append(arn)
    for resolver, logical_id, props in roles:
        name = resolver.value(props["RoleName"])
        identity = [resolver.value(p["PolicyDocument"]) for p in props.get("Policies", [])]
        for arn in props.get("ManagedPolicyArns", []):
            policy_name = resolver.value(arn).rsplit("/", 1)[-1]
            if policy_name in policies_by_name:
                identity.append(policies_by_name[policy_name])
        identity += attachments.get(name, [])
        boundary, boundary_name = None, ""
        if "PermissionsBoundary" in props:
            boundary_name = resolver.value(props["PermissionsBoundary"]).rsplit("/", 1)[-1]
            boundary = policies_by_name.get(boundary_name)
        tags = {t["Key"]: resolver.value(t["Value"]) for t in props.get("Tags", [])}
        principals.roles[name] = RoleLayers(name, resolver.arn_of(logical_id), Layers(identity, boundary, scp_levels),
                                            resolver.value(props["AssumeRolePolicyDocument"]), tags, boundary_name)
    return principals
