"""Typed configuration: the one source of truth a platform team edits.

The YAML file is parsed with ruamel.yaml (which keeps line numbers) and validated with pydantic
models. Every error is reported as ``file:line: field: message`` so the user sees the exact line
to change. ``config/schema.json`` is generated from these models (``fmops schema``) and a test
proves it is current. No CDK and no policy logic here: the later layers derive from the config.

    base.py          the one strict pydantic base, ConfigError, LocatedError, the enums
    network.py       an account's VPC: new (cidr, az_count) or existing
    genai.py         a team's Bedrock models, guardrail and SageMaker FM endpoints
    team.py          a team: accounts, features, budget, project catalog, personas
    organisation.py  accounts, the organisation and its delivery settings, ``OrgConfig``
    validators.py    the cross-field checks of a whole config
    loader.py        ``load_config`` with file:line errors, ``load_config_or_exit``
    schema.py        ``json_schema`` and ``config/schema.json``
    fm_catalog.py    the FM catalog (``config/fm-catalog.yaml``)
    matrix.py        the persona x capability matrix as typed data (``infra/personas/matrix.yaml``)

Import from here: ``from infra.config import OrgConfig, load_config``.
"""

from __future__ import annotations

from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from infra.config.base import SLUG, ConfigError, ConfigIssue, Feature, LocatedError, Mode, SourceKind, Stage, Strict
from infra.config.fm_catalog import Availability, Catalog, CatalogError, FoundationModel, UnknownModelError, load_catalog
from infra.config.genai import (ECR_IMAGE, RESERVED_CONTAINER_ENV, ContentFilter, ContentFilters, DeniedTopic,
                                FilterStrength, FmEndpointSettings, GenAi, GpuInstanceType, GuardrailSettings,
                                PiiEntity, PiiPolicy)
from infra.config.data_lake import DataGrant, DataLake, LakePermission, Sensitivity
from infra.config.network import ExistingSubnet, ExistingVpc, Network
from infra.config.team import (CONNECTION_ARN, DeclaredProject, ProjectSource, Team, TeamAccounts, TeamBudget,
                               TeamCatalog)
from infra.config.validators import GEOGRAPHY_REGION_PREFIX, MAX_ENDPOINT_NAME, RESERVED_TEAM_NAME
from infra.config.organisation import (ACCOUNT_ID, DELIVERY_SOURCE_FIELDS, LOG_RETENTION_DAYS, Account, Delivery,
                                       DeliverySource, OrgConfig, Organisation)
from infra.config.loader import (DEFAULT_CONFIG, EXIT_INVALID_CONFIG, InvalidConfigExit, config_warnings,
                                 format_validation_error, issue_at, load_config, load_config_or_exit, load_config_text)
from infra.config.schema import SCHEMA_PATH, json_schema, schema_text

__all__ = [
    "ACCOUNT_ID", "CONNECTION_ARN", "DEFAULT_CONFIG", "DELIVERY_SOURCE_FIELDS", "ECR_IMAGE", "EXIT_INVALID_CONFIG",
    "GEOGRAPHY_REGION_PREFIX", "GPU_INSTANCE_TYPES", "LOG_RETENTION_DAYS", "MAX_ENDPOINT_NAME",
    "RESERVED_CONTAINER_ENV", "RESERVED_TEAM_NAME", "SCHEMA_PATH", "SLUG",
    "Account", "Availability", "Catalog", "CatalogError", "ConfigError", "ConfigIssue", "ContentFilter", "ContentFilters",
    "DataGrant", "DataLake", "LakePermission", "Sensitivity",
    "Delivery", "DeliverySource", "DeniedTopic", "ExistingSubnet", "ExistingVpc", "Feature", "FilterStrength",
    "FmEndpointSettings", "FoundationModel", "GenAi", "GpuInstanceType", "GuardrailSettings", "InvalidConfigExit",
    "LocatedError", "Mode", "Network", "OrgConfig", "Organisation", "PiiEntity", "PiiPolicy", "ProjectSource",
    "DeclaredProject", "SourceKind", "Stage", "Strict", "Team", "TeamAccounts", "TeamBudget", "TeamCatalog", "UnknownModelError",
    "config_warnings", "format_validation_error", "issue_at", "json_schema", "load_catalog", "load_config", "load_config_or_exit", "load_config_text", "schema_text",
]
