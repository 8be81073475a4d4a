"""SageMaker and Bedrock AgentCore: domains, notebooks, models, jobs and agent runtimes inside
the VPC, and no model weights from the internet.
"""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import MISSING, find_keys, is_intrinsic, render, values
from infra.compliance.internet_free.predicates import (
    is_false,
    may_be_absent,
    may_be_other_than,
    no_vpc,
    present,
    when,
)
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


@rule("IF-SM-DOMAIN-VPC-ONLY", "SageMaker domains are VpcOnly", "AWS::SageMaker::Domain")
def sagemaker_domain(s: Subject) -> list[str]:
    """A domain that is not VpcOnly gives Studio apps SageMaker-managed internet access
    (missing means PublicInternetOnly).

    Fix: AppNetworkAccessType VpcOnly.
    """
    mode = s.at("AppNetworkAccessType")
    message = "AppNetworkAccessType is not VpcOnly (missing means PublicInternetOnly)"
    return when(may_be_other_than(mode, "VpcOnly"), message)


@rule(
    "IF-SM-NOTEBOOK-INTERNET",
    "No notebook with direct internet access",
    "AWS::SageMaker::NotebookInstance",
)
def notebook_internet(s: Subject) -> list[str]:
    """A notebook instance has direct internet access unless DirectInternetAccess is Disabled
    (missing means Enabled), and without SubnetId it cannot be placed in the VPC at all.

    Fix: DirectInternetAccess Disabled with SubnetId and SecurityGroupIds.
    """
    messages = []
    if may_be_other_than(s.at("DirectInternetAccess"), "Disabled"):
        messages.append("DirectInternetAccess is not Disabled (missing means Enabled)")
    if may_be_absent(s.at("SubnetId")):
        messages.append("no SubnetId: not in the VPC")
    return messages


@rule("IF-SM-NOTEBOOK-ROOT", "No notebook with root access", "AWS::SageMaker::NotebookInstance")
def notebook_root(s: Subject) -> list[str]:
    """Root on a notebook lets its user change the network configuration and install from
    anywhere the network allows (missing means Enabled).

    Fix: RootAccess Disabled.
    """
    root = s.at("RootAccess")
    return when(may_be_other_than(root, "Disabled"), "RootAccess is not Disabled (missing means Enabled)")


@rule("IF-SM-MODEL-VPC", "Every SageMaker model in the VPC", "AWS::SageMaker::Model")
def model_vpc(s: Subject) -> list[str]:
    """A model without VpcConfig serves from the SageMaker service network, which reaches the
    internet, and reads S3 outside the VPC endpoint.

    Fix: VpcConfig with Subnets and SecurityGroupIds.
    """
    missing = no_vpc(s, ("VpcConfig", "Subnets"), ("VpcConfig", "SecurityGroupIds"))
    return when(missing, "no VpcConfig: container runs with internet access")


@rule("IF-SM-MODEL-ISOLATION", "No model that turns network isolation off", "AWS::SageMaker::Model")
def model_isolation(s: Subject) -> list[str]:
    """Network isolation cuts the container off every network, the VPC included: defence in
    depth on top of IF-SM-MODEL-VPC. Many serving containers (LMI, TGI) cannot run isolated, so
    only an explicit false (or an unresolved value) is a finding: a deliberate opt-out must be
    justified with an exemption reason. A missing flag is the service default and not flagged.

    Fix: EnableNetworkIsolation true, or exempt with the reason the container needs the network.
    """
    flag = s.at("EnableNetworkIsolation")
    turned_off = any(is_false(value) or is_intrinsic(value) for value in flag)
    return when(turned_off, "EnableNetworkIsolation is false")


_MONITORING_JOBS = (
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition",
)


@rule(
    "IF-SM-JOB-VPC",
    "Every SageMaker monitoring job and cluster in the VPC",
    *_MONITORING_JOBS,
    "AWS::SageMaker::MonitoringSchedule",
    "AWS::SageMaker::Cluster",
)
def sagemaker_job_vpc(s: Subject) -> list[str]:
    """Monitoring job definitions (and schedules with an inline definition) without
    NetworkConfig.VpcConfig, and HyperPod clusters without VpcConfig, run on the SageMaker
    service network, which reaches the internet.

    Fix: NetworkConfig.VpcConfig (or VpcConfig) with Subnets and SecurityGroupIds.
    """
    if s.type == "AWS::SageMaker::Cluster":
        prefix: tuple[str, ...] = ("VpcConfig",)
    elif s.type == "AWS::SageMaker::MonitoringSchedule":
        prefix = ("MonitoringScheduleConfig", "MonitoringJobDefinition", "NetworkConfig", "VpcConfig")
        if not present(s.at(*prefix[:2])):
            return []
    else:
        prefix = ("NetworkConfig", "VpcConfig")
    missing = no_vpc(s, (*prefix, "Subnets"), (*prefix, "SecurityGroupIds"))
    return when(missing, f"no {'.'.join(prefix)}: runs with internet access")


_HUB_MODEL_KEYS = ("HF_MODEL_ID", "OPTION_MODEL_ID")
_HUB_TOKEN_KEYS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


@rule(
    "IF-SM-HUB-PULL",
    "No model weights pulled from a hub at run time",
    "AWS::SageMaker::Model",
    "AWS::SageMaker::InferenceComponent",
    perimeter="supply-chain",
)
def hub_pull(s: Subject) -> list[str]:
    """A container told to load a model by hub id (HF_MODEL_ID, OPTION_MODEL_ID not an s3:// or
    local path) or given a hub token downloads weights from the internet when it starts. An
    unresolved model id is a finding.

    Fix: stage the weights in S3 and point the container at s3:// or /opt/ml/model.
    """
    messages = []
    for key, value in find_keys(s.props, _HUB_MODEL_KEYS):
        for candidate in values(value, s.template):
            text = render(candidate, s.template)
            if candidate is not MISSING and not text.startswith(("s3://", "/")):
                messages.append(f"{key} {text}: loads from a model hub")
    messages += [f"{key}: hub credential in the container" for key, _ in find_keys(s.props, _HUB_TOKEN_KEYS)]
    return messages


_AGENTCORE_MODES = {
    "AWS::BedrockAgentCore::Runtime": ("VPC",),
    "AWS::BedrockAgentCore::BrowserCustom": ("VPC",),
    "AWS::BedrockAgentCore::CodeInterpreterCustom": ("VPC", "SANDBOX", MISSING),
}


@rule("IF-AGENTCORE-PUBLIC", "AgentCore runtimes and tools in the VPC", *_AGENTCORE_MODES)
def agentcore_network(s: Subject) -> list[str]:
    """An AgentCore runtime, browser or code interpreter in PUBLIC network mode reaches the
    internet (a browser's default is PUBLIC; a code interpreter's is SANDBOX, which is fine).

    Fix: NetworkConfiguration.NetworkMode VPC (or SANDBOX for a code interpreter).
    """
    mode = s.at("NetworkConfiguration", "NetworkMode")
    return when(may_be_other_than(mode, *_AGENTCORE_MODES[s.type]), "network mode is PUBLIC")
