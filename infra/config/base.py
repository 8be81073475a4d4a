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
        return f"{self.source}:{self.line}: {_printable(self.field)}: {_printable(self.message)}"


def _printable(text: str) -> str:
    """``text`` with every unprintable character (a line break among them) escaped: one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


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
    MLFLOW = "mlflow"
    DATA_LAKE = "data-lake"


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


# An S3 key or prefix: '/'-separated segments of these characters, none empty (the patterns), and
# none '.' or '..' (:func:`check_key_segments`): S3 keeps them literally, but every tool that maps
# keys to paths resolves them, so a '..' escapes the prefix.
S3_KEY_SEGMENT = r"[A-Za-z0-9!_.*'()-]+"


def check_key_segments(value: str) -> str:
    if any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError(f"{value!r} has a '.' or '..' segment; S3 keys are literal, give the path without them")
    return value


# An IAM role ARN, with an optional path: IAM paths are '/'-separated non-empty segments and role
# names are 1-64 of [\w+=,.@-] (IAM API Reference, CreateRole).
ROLE_ARN = r"^arn:aws:iam::\d{12}:(root|role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64})$"


def check_git_branch(value: str) -> str:
    """A branch name git accepts (git check-ref-format): CodePipeline fails on any other."""
    segments = value.split("/")
    if (any(not s or s.startswith(".") or s.endswith(".lock") for s in segments) or ".." in value
            or value.endswith(".") or "@{" in value or value == "@"):
        raise ValueError(f"{value!r} is not a git branch name: no empty segment or '//', no leading or trailing '/', "
                         "no '..', no segment starting with '.' or ending in '.lock'")
    return value
