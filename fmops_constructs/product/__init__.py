"""The product SDK: building blocks of self-service project templates, Service Catalog product
stacks a team launches in one of its accounts, from Service Catalog, SageMaker Studio or
``fmops provision``.

A product template knows names at synth time (the team, its models, and every name of
something it does not create, all given by the app in :class:`ProjectTemplateProps`) and reads
every deploy-time ID of the account (VPC, subnets, keys, guardrail, seed bundle) from SSM
parameters that the team's catalog stack writes below ``props.parameter_prefix``. Its
CloudFormation parameters are the two SageMaker passes (``SageMakerProjectName``,
``SageMakerProjectId``), the template's own choices, and those SSM parameters (typed
``AWS::SSM::Parameter::Value``, with defaults, grouped as "Platform (do not change)"). So one
template works in each account of the team, which is what sharing a portfolio from the
governance account needs, and it can also be registered as an S3-based SageMaker project
template unchanged.

Every role a product creates lives under the IAM path ``props.role_path`` and carries the
team's permission boundary ``props.boundary_name``; every resource is named
``<team>-<project>-<suffix>`` where it takes a name, and tagged with the project, so the launch
role's policy (:mod:`fmops_constructs.launch_role`) can be narrow.

Modules: :mod:`~fmops_constructs.product.props` (what a template is built from),
:mod:`~fmops_constructs.product.stack` (the product stack), :mod:`~fmops_constructs.product.grants`
(service roles), :mod:`~fmops_constructs.product.function` (Lambda functions) and
:mod:`~fmops_constructs.product.guardrail_access` (Bedrock through the team's guardrail); the
pipelines, code sources and model registry of projects are :mod:`fmops_constructs.sagemaker_pipeline`,
:mod:`fmops_constructs.project_code` and :mod:`fmops_constructs.model_registry`.
"""

from fmops_constructs.product.function import PYTHON_RUNTIME, ProjectFunction
from fmops_constructs.product.grants import Grant, ProjectRole, network_interface_grants
from fmops_constructs.product.guardrail_access import TeamGuardrailAccess
from fmops_constructs.product.props import (PROJECT_ID_PATTERN, PROJECT_ID_TAG, PROJECT_NAME_PATTERN, PROJECT_NAME_TAG,
                                            ImageRegistry, PlatformValue, ProjectTemplateProps, SourceSpec)
from fmops_constructs.product.stack import PROJECTS, ProjectProductStack

__all__ = ["PROJECTS", "PROJECT_ID_PATTERN", "PROJECT_ID_TAG", "PROJECT_NAME_PATTERN", "PROJECT_NAME_TAG",
           "PYTHON_RUNTIME", "Grant", "ImageRegistry", "PlatformValue", "ProjectFunction", "ProjectProductStack",
           "ProjectRole", "ProjectTemplateProps", "SourceSpec", "TeamGuardrailAccess", "network_interface_grants"]
