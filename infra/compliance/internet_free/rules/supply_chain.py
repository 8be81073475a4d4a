"""Supply chain: code, packages, images, models and data come only from the organisation's
mirror, AWS-owned registries and the organisation's S3. Embedded documents (build specs,
lifecycle scripts, state machines, pipeline definitions, job arguments, container environments)
are parsed and scanned; one kept outside the template is a finding.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import yaml

from infra.compliance.internet_free.identity import bucket_outside, fetches, image_outside, template_local
from infra.compliance.internet_free.intrinsics import MISSING, at, find_keys, is_intrinsic, texts
from infra.compliance.internet_free.predicates import present
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "supply-chain"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: same result, faster

_IMAGE_KEYS = ("Image", "ImageUri", "ContainerImage")
_IMAGE_TYPES = (
    "AWS::SageMaker::Model",
    "AWS::SageMaker::ModelPackage",
    "AWS::SageMaker::InferenceComponent",
    "AWS::ECS::TaskDefinition",
    "AWS::Batch::JobDefinition",
    "AWS::Lambda::Function",
    "AWS::CodeBuild::Project",
    "AWS::BedrockAgentCore::Runtime",
)


@rule("IF-IMAGE-SOURCE", "Images only from the organisation's ECR or AWS-owned registries", *_IMAGE_TYPES)
def image_source(s: Subject) -> list[str]:
    """A container image from Docker Hub, GitHub, Quay, ECR Public, any other host, or an ECR
    registry of an account that is neither the organisation's nor AWS's (the accounts of
    AWS-provided images, from the SageMaker Python SDK's image URI data) is code from outside.
    CodeBuild's curated ``aws/codebuild/`` images are accepted. Every value a parameter or Fn::If
    can give is judged.

    Fix: mirror the image into the organisation's ECR (pull-through cache or a private
    repository) and use that URI.
    """
    return [
        reason
        for _, value in find_keys(s.props, _IMAGE_KEYS)
        if not template_local(value, s.template)
        for text in texts(value, s.template)
        if (reason := image_outside(text, s.organisation))
    ]


_CODE_BUCKETS = {
    "AWS::Lambda::Function": (("Code", "S3Bucket"),),
    "AWS::Lambda::LayerVersion": (("Content", "S3Bucket"),),
    "AWS::SageMaker::Model": (("PrimaryContainer", "ModelDataUrl"),
                              ("PrimaryContainer", "ModelDataSource", "S3DataSource", "S3Uri")),
    "AWS::Glue::Job": (("Command", "ScriptLocation"),),
    "AWS::CodeBuild::Project": (("Source", "Location"),),
}


@rule("IF-CODE-BUCKET", "Code and model data only from the organisation's buckets", *_CODE_BUCKETS)
def code_bucket(s: Subject) -> list[str]:
    """Lambda code and layers, model artefacts (ModelDataUrl, ModelDataSource, every container
    of a multi-container model), Glue scripts and S3 build sources read from a bucket not named
    for an account of the organisation come from outside (S3 names carry no owner: see
    ``identity.bucket_outside``).

    Fix: stage code and weights in the organisation's buckets (CDK assets do).
    """
    paths = list(_CODE_BUCKETS[s.type])
    values = [value for path in paths for value in s.at(*path) if value is not MISSING]
    if s.type == "AWS::SageMaker::Model":
        values += [value for container in s.flat("Containers") if isinstance(container, dict)
                   for path in paths for value in at(container, s.template, *path[1:]) if value is not MISSING]
    if s.type == "AWS::CodeBuild::Project" and "S3" not in s.at("Source", "Type"):
        return []
    return [reason for value in values for reason in bucket_outside(value, s.template, s.organisation)]


def _scan(value: Any, s: Subject, label: str) -> list[str]:
    """Every string below ``value`` (each text it can take) scanned for fetches from outside."""
    found = []
    if isinstance(value, dict) and not set(value) & {"Ref", "Fn::Join", "Fn::Sub", "Fn::If", "Fn::Select"}:
        for inner in value.values():
            found += _scan(inner, s, label)
    elif isinstance(value, list):
        for inner in value:
            found += _scan(inner, s, label)
    else:
        for text in texts(value, s.template):
            found += [f"{label}: {reason}" for reason in fetches(text, s.organisation)]
    return found


def _scan_document(document: Any, s: Subject, label: str) -> list[str]:
    """A parsed document (plain JSON values) scanned as one text: its strings cannot span values."""
    return [f"{label}: {reason}" for reason in fetches(json.dumps(document), s.organisation)]


def _documents(value: Any, s: Subject, kind: str) -> tuple[list[Any], list[str]]:
    """Parsed documents (JSON or YAML) from every text a value can take, and parse problems."""
    parsed, problems = [], []
    if isinstance(value, (dict, list)) and not set(value if isinstance(value, dict) else {}) & {
        "Ref", "Fn::Join", "Fn::Sub", "Fn::If", "Fn::Select", "Fn::GetAtt", "Fn::ImportValue"
    }:
        return [value], []
    for text in texts(value, s.template):
        try:
            document = json.loads(text) if kind == "json" else yaml.load(text.replace("{?}", "UNKNOWN"), Loader=_YAML_LOADER)
        except (ValueError, yaml.YAMLError):
            problems.append(f"{kind.upper()} document cannot be parsed, so it cannot be checked")
            continue
        parsed.append(document)
    return parsed, problems


def _base64_scripts(value: Any, s: Subject, label: str) -> list[str]:
    if isinstance(value, dict) and set(value) == {"Fn::Base64"}:  # the script itself, encoded at deploy time
        return [f"{label}: {reason}" for text in texts(value["Fn::Base64"], s.template)
                for reason in fetches(text, s.organisation)]
    found = []
    for text in texts(value, s.template):
        try:
            script = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            found.append(f"{label}: not a base64 script, so it cannot be checked")
            continue
        found += [f"{label}: {reason}" for reason in fetches(script, s.organisation)]
    return found


_ENV_KEYS = ("Environment", "EnvironmentVariables", "Variables", "DefaultArguments", "NonOverridableArguments")


@rule(
    "IF-EMBEDDED-FETCH",
    "Embedded documents fetch nothing from outside",
    "AWS::CodeBuild::Project",
    "AWS::SageMaker::StudioLifecycleConfig",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig",
    "AWS::StepFunctions::StateMachine",
    "AWS::SageMaker::Pipeline",
    "AWS::Glue::Job",
    "AWS::SageMaker::Model",
    "AWS::ECS::TaskDefinition",
    "AWS::Lambda::Function",
    "AWS::Batch::JobDefinition",
)
def embedded_fetch(s: Subject) -> list[str]:
    """Build specs (inline YAML), Studio and notebook lifecycle scripts (base64, decoded), Step
    Functions definitions (DefinitionString, Definition, with Fn::Join/Fn::Sub), SageMaker
    pipeline definitions (PipelineDefinitionBody), Glue job arguments
    (--additional-python-modules, --extra-py-files...) and container environments (PIP_INDEX_URL,
    HF_ENDPOINT...) are parsed and every string scanned: a URL to a host outside AWS, a
    CodeArtifact domain, ECR registry or S3 bucket of another account, a public package or model
    host (pypi.org, huggingface.co, github.com, docker.io...), a hub download command
    (huggingface-cli download, snapshot_download) or a docker pull of an outside image is a
    finding. A document that cannot be parsed is a finding.

    Fix: install from the organisation's CodeArtifact mirror, pull images from its ECR, read
    models and data from its buckets.
    """
    messages: list[str] = []
    if s.type == "AWS::CodeBuild::Project":
        specs = [v for v in s.at("Source", "BuildSpec") if v is not MISSING]
        specs += [v for source in s.flat("SecondarySources") if isinstance(source, dict)
                  for v in at(source, s.template, "BuildSpec") if v is not MISSING]
        for spec in specs:
            if all(_spec_file(t) for t in texts(spec, s.template)):
                spec = [text for t in texts(spec, s.template) if (text := _beside(s, t)) is not None]
                if not spec:
                    continue  # a file in the source: IF-EMBEDDED-OUTSIDE
                spec = spec[0]
            documents, problems = _documents(spec, s, "yaml")
            messages += problems + [m for d in documents for m in _scan_document(d, s, "buildspec")]
    elif s.type == "AWS::SageMaker::StudioLifecycleConfig":
        messages += _base64_scripts(s.props.get("StudioLifecycleConfigContent", MISSING), s, "lifecycle script")
    elif s.type == "AWS::SageMaker::NotebookInstanceLifecycleConfig":
        for key in ("OnCreate", "OnStart"):
            for hook in s.flat(key):
                if isinstance(hook, dict):
                    messages += _base64_scripts(hook.get("Content", MISSING), s, f"{key} script")
    elif s.type == "AWS::StepFunctions::StateMachine":
        for key in ("DefinitionString", "Definition"):
            for value in s.at(key):
                if isinstance(value, dict) and not is_intrinsic(value):
                    messages += _scan(value, s, "state machine")  # an object: its strings may be intrinsics
                elif value is not MISSING:
                    documents, problems = _documents(value, s, "json")
                    messages += problems + [m for d in documents for m in _scan_document(d, s, "state machine")]
    elif s.type == "AWS::SageMaker::Pipeline":
        for value in s.at("PipelineDefinition", "PipelineDefinitionBody"):
            if value is not MISSING:
                documents, problems = _documents(value, s, "json")
                messages += problems + [m for d in documents for m in _scan_document(d, s, "pipeline definition")]
                messages += [f"pipeline definition: {r}" for d in documents for _, image in find_keys(d, ("ImageUri",))
                             for t in texts(image, s.template) if (r := image_outside(t, s.organisation))]
    for _, env in find_keys(s.props, _ENV_KEYS):
        messages += _scan(env, s, "environment/arguments")
    return list(dict.fromkeys(messages))


@rule(
    "IF-EMBEDDED-OUTSIDE",
    "No embedded document kept outside the template",
    "AWS::CodeBuild::Project",
    "AWS::StepFunctions::StateMachine",
    "AWS::SageMaker::Pipeline",
)
def embedded_outside(s: Subject) -> list[str]:
    """A build spec that names a file of the source, a state machine from DefinitionS3Location or
    a pipeline from PipelineDefinitionS3Location is not in the template, so what it fetches
    cannot be checked. The project's own templates need no exception.

    Fix: inline the document (CDK: BuildSpec.from_object, DefinitionBody.from_chainable,
    PipelineDefinitionBody) so it is checked.
    """
    messages = []
    if s.type == "AWS::CodeBuild::Project":
        specs = [v for v in s.at("Source", "BuildSpec") if v is not MISSING]
        specs += [v for source in s.flat("SecondarySources") if isinstance(source, dict)
                  for v in at(source, s.template, "BuildSpec") if v is not MISSING]
        messages += [f"BuildSpec {t}: a file of the source, outside the template" for spec in specs
                     for t in texts(spec, s.template) if _spec_file(t) and _beside(s, t) is None]
        if not specs and s.at("Source", "Type") != ["NO_SOURCE"]:
            messages.append("no BuildSpec: the source's buildspec.yml is used, outside the template")
    elif s.type == "AWS::StepFunctions::StateMachine":
        messages += when_present(s, ("DefinitionS3Location",), "DefinitionS3Location: definition kept in S3")
    else:
        messages += when_present(s, ("PipelineDefinition", "PipelineDefinitionS3Location"),
                                 "PipelineDefinitionS3Location: definition kept in S3")
    return messages


def _spec_file(text: str) -> bool:
    return "\n" not in text and text.endswith((".yml", ".yaml", ".json"))


def _beside(s: Subject, name: str) -> str | None:
    """A build spec file CDK Pipelines wrote into the cloud assembly beside the template, or None.

    CodeBuild reads it from the pipeline's synth output, which is that assembly, so it is checked
    like an inline one.
    """
    if not s.template_path or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = Path(s.template_path).parent / name
    return path.read_text() if path.is_file() else None


def when_present(s: Subject, path: tuple[str, ...], message: str) -> list[str]:
    return [message] if present(s.at(*path)) else []
