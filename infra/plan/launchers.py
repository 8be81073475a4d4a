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

from infra.config import Feature, Team
from infra.config.matrix import Cell, load_matrix

CREATE_PROJECT = "create-project"
USE_STUDIO = "use-studio"


def launcher_personas(team: Team) -> list[str]:
    """The team's personas that may launch projects: create-project is ``allow`` in the matrix."""
    matrix = load_matrix()
    return [p for p in team.persona_names() if matrix.cell(p, CREATE_PROJECT) is Cell.ALLOW]


def studio_personas() -> list[str]:
    """Team personas the persona matrix lets open Studio, in matrix order."""
    matrix = load_matrix()
    return [persona for persona in matrix.team_personas() if matrix.cell(persona, USE_STUDIO) is Cell.ALLOW]


def studio_launchers(team: Team) -> list[str]:
    """Launcher personas of the team that also have a Studio user profile (team feature studio)."""
    if Feature.STUDIO not in team.features:
        return []
    studio = set(studio_personas())
    return [p for p in launcher_personas(team) if p in studio]
