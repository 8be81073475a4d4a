"""``config/schema.json``: the JSON schema of the typed config, for editors and reviewers.

``fmops schema`` writes it and ``fmops schema --check`` (and ``tests/test_config.py``) prove it
is current.
"""

from __future__ import annotations

import json
from typing import Any

from infra import REPO_ROOT
from infra.config.organisation import OrgConfig

SCHEMA_PATH = REPO_ROOT / "config" / "schema.json"


def json_schema() -> dict[str, Any]:
    schema = OrgConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "FMOps Foundation configuration"
    return schema


def schema_text() -> str:
    """The exact text of ``config/schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def schema_is_current() -> bool:
    return SCHEMA_PATH.exists() and SCHEMA_PATH.read_text() == schema_text()


def write_schema() -> None:
    SCHEMA_PATH.write_text(schema_text())
