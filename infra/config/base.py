"""The building blocks every config model shares: the one strict pydantic base, the errors, the enums.

Every model of the config layer (``infra.config``), of the FM catalog (``fm_catalog.py``) and of
the persona matrix (``matrix.py``) derives from :class:`Strict`, so an unknown key is an error
everywhere and no model can be changed after validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

SLUG = r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$"


@dataclass(frozen=True)
class ConfigIssue:
    """One error of a config file: ``str()`` is its one line ``file:line: field: message``."""

    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"


class ConfigError(Exception):
    """A configuration file that cannot be used; ``str()`` is the message for the user, one
    ``file:line: field: message`` line per error (``issues``)."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class LocatedError(ValueError):
    """A cross-field error that knows which field (path below the model) the user must change."""

    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class Feature(StrEnum):
    """Capabilities a team or account switches on; each one decides which VPC endpoints exist."""

    STUDIO = "studio"
    PIPELINES = "pipelines"
    HOSTING = "hosting"
    BEDROCK = "bedrock"
    BEDROCK_AGENTS = "bedrock-agents"
    SERVICE_CATALOG = "service-catalog"
    PRIVATE_API = "private-api"


class Stage(StrEnum):
    DEV = "dev"
    PREPROD = "preprod"
    PROD = "prod"


class Mode(StrEnum):
    ORGANISATION = "organisation"
    SINGLE_ACCOUNT = "single-account"


class SourceKind(StrEnum):
    """Where the code of a project launched from the catalog lives."""

    S3 = "s3"
    CODECOMMIT = "codecommit"
    CODECONNECTIONS = "codeconnections"


class Strict(BaseModel):
    """Base model: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)
