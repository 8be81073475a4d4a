"""Who may launch a team's project templates, and through which IAM roles.

The persona matrix decides: launchers are the team personas whose ``create-project`` cell is
``allow`` (lead data scientist, fine-tuner, GenAI developer; never plain data scientists), Studio
users those whose ``use-studio`` cell is ``allow``. A launcher reaches the team's portfolio through
its persona role (console, CLI, ``fmops provision``) and, when the team has the ``studio`` feature,
through the execution role of its Studio user profile, which is what SageMaker Studio calls
Service Catalog with. Both roles have deterministic names, so the catalog stack associates them
with the portfolio, and the Studio stack names its roles, without any cross-stack reference.
"""

from __future__ import annotations

import hashlib

from infra import personas
from infra.config import Feature, OrgConfig, Team

CREATE_PROJECT = "create-project"
USE_STUDIO = "use-studio"
MAX_ROLE_NAME = 64  # IAM's limit on role names
STUDIO_ROLE_SUFFIX = "-studio"


def launcher_personas(team: Team) -> list[str]:
    """The team's personas that may launch projects: create-project is ``allow`` in the matrix."""
    matrix = personas.load_matrix()
    return [p for p in team.persona_names() if matrix.cell(p, CREATE_PROJECT) is personas.Cell.ALLOW]


def studio_personas() -> list[str]:
    """Team personas the persona matrix lets open Studio, in matrix order."""
    matrix = personas.load_matrix()
    return [persona for persona in matrix.team_personas() if matrix.cell(persona, USE_STUDIO) is personas.Cell.ALLOW]


def studio_launchers(team: Team) -> list[str]:
    """Launcher personas of the team that also have a Studio user profile (team feature studio)."""
    if Feature.STUDIO not in team.features:
        return []
    studio = set(studio_personas())
    return [p for p in launcher_personas(team) if p in studio]


def launcher_role_name(config: OrgConfig, team: Team, persona: str) -> str:
    """The persona role of ``persona`` in ``team`` (created by the team stack)."""
    return f"{config.organisation.name}-{team.name}-{persona}"


def studio_role_name(organisation: str, team: str, persona: str) -> str:
    """Name of the execution role of the Studio user profile ``<team>-<persona>``:
    ``<org>-<team>-<persona>-studio``, or, beyond IAM's 64 characters, its first 55 characters and
    a hash of the whole (still deterministic, still unique)."""
    name = f"{organisation}-{team}-{persona}{STUDIO_ROLE_SUFFIX}"
    if len(name) <= MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_ROLE_NAME - len(digest) - 1]}-{digest}"
