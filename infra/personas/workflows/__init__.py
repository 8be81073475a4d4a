"""Workflows of the persona matrix: recorded from real clients, evaluated against every policy layer.

- :mod:`.clients`: what a person runs (SageMaker Python SDK, boto3, console/Studio calls);
- :mod:`.recorder`: runs them offline (moto) and captures each operation;
- :mod:`.iam`: maps each operation to the IAM requests AWS authorizes for it;
- ``traces/*.json``: the recorded traces, checked in (``python -m infra.personas.workflows`` rewrites them;
  a test proves they are current).
"""

from __future__ import annotations

import json
from pathlib import Path

TRACES = Path(__file__).parent / "traces"


def load_trace(name: str) -> list[dict]:
    return json.loads((TRACES / f"{name}.json").read_text(encoding="utf-8"))


def record_all(names: list[str] | None = None) -> dict[str, str]:
    """Record every workflow (or ``names``) and return name -> trace text."""
    from infra.personas.workflows.clients import WORKFLOWS
    from infra.personas.workflows.recorder import dumps, record

    return {name: dumps(record(WORKFLOWS[name].client)) for name in (names or list(WORKFLOWS))}


def write_traces() -> list[Path]:
    TRACES.mkdir(exist_ok=True)
    written = []
    for name, text in record_all().items():
        path = TRACES / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
