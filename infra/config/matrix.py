"""The persona x capability matrix as typed data: its pydantic models and its loader.

The data is ``infra/personas/matrix.yaml``. The config layer needs it to check a team's
``personas``; ``infra.personas`` turns the same matrix into IAM policies (and re-exports these
names).
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from ruamel.yaml import YAML

from infra import REPO_ROOT
from infra.config.base import Strict

MATRIX_PATH = REPO_ROOT / "infra" / "personas" / "matrix.yaml"


class Cell(StrEnum):
    ALLOW = "allow"
    READ_ONLY = "read-only"
    DENY = "deny"
    NONE = "none"



class Grant(Strict):
    actions: list[str] = Field(min_length=1)
    resources: list[str] = Field(min_length=1)
    conditions: dict[str, dict[str, str | list[str]]] | None = None


class Workflows(Strict):
    """Names of the recorded workflows (``infra/personas/workflows``) that use a capability."""

    write: list[str] = Field(default_factory=list)
    read: list[str] = Field(default_factory=list)


class Capability(Strict):
    description: str
    boundary_denied: bool = False
    # "genai-stack": the Allow depends on a value only the team's GenAI stack knows (its
    # guardrail's published version), so that stack grants it to the roles of the personas with
    # an allow cell (``guarded_invoke_personas``); persona policies carry only the Deny cells.
    allow_from: Literal["matrix", "genai-stack"] = "matrix"
    # S3 objects of the team bucket are encrypted with the team's key: a cell that grants the
    # capability also grants the key, through S3 only, on keys tagged with the team (ABAC).
    kms_via_s3: bool = False
    read: Grant | None = None
    write: Grant | None = None
    create: Grant | None = None
    # Further statements a workflow of the capability needs (calls without a resource type, the
    # role a job runs as, tagging on create): ``read_also`` with read, ``also`` with write.
    read_also: list[Grant] = Field(default_factory=list)
    also: list[Grant] = Field(default_factory=list)
    workflows: Workflows

    def grants(self, cell: "Cell") -> list[tuple[str, Grant]]:
        """The (part, grant) pairs a cell value gives or, for deny, refuses."""
        parts: list[tuple[str, Grant | None]] = [("read", self.read),
                                                 *((f"read{i + 1}", g) for i, g in enumerate(self.read_also))]
        if cell is not Cell.READ_ONLY:
            parts += [("write", self.write), ("create", self.create), *((f"also{i + 1}", g) for i, g in enumerate(self.also))]
        return [(part, grant) for part, grant in parts if grant is not None]


class Persona(Strict):
    scope: Literal["team", "platform"]
    description: str
    cells: dict[str, Cell]


class Matrix(Strict):
    capabilities: dict[str, Capability]
    personas: dict[str, Persona]

    def cell(self, persona: str, capability: str) -> Cell:
        return self.personas[persona].cells.get(capability, Cell.NONE)

    def team_personas(self) -> list[str]:
        return [name for name, p in self.personas.items() if p.scope == "team"]

    def platform_personas(self) -> list[str]:
        return [name for name, p in self.personas.items() if p.scope == "platform"]


@cache
def load_matrix(path: Path = MATRIX_PATH) -> Matrix:
    matrix = Matrix.model_validate(YAML(typ="safe").load(path.read_text(encoding="utf-8")))
    for persona, spec in matrix.personas.items():
        unknown = set(spec.cells) - set(matrix.capabilities)
        if unknown:
            raise ValueError(f"persona {persona}: unknown capabilities {sorted(unknown)}")
        for capability, cell in spec.cells.items():
            if matrix.capabilities[capability].boundary_denied and cell in (Cell.ALLOW, Cell.READ_ONLY):
                raise ValueError(f"persona {persona}: {capability} is refused by the boundary; it cannot be {cell}")
    return matrix

