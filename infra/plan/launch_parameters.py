"""The launch parameters of a project template, checked before anything is created: by
``fmops provision`` (infra/tools/provision.py) and, at build time, for the projects a config
declares (infra/stacks/catalog/projects.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

EXIT_INPUT = 2


class ProvisionError(Exception):
    """Something the user must fix; ``exit_code`` says which kind."""

    def __init__(self, message: str, exit_code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code



def check_parameters(declared: Sequence[dict[str, Any]], values: dict[str, str],
                     provided: Sequence[str] = ()) -> dict[str, str]:
    """Every value names a parameter of the product and meets its allowed values; every
    parameter without a default has a value, except those in ``provided`` (SageMaker's). Returns
    what to send (given values only)."""
    by_key = {p["ParameterKey"]: p for p in declared}
    unknown = sorted(set(values) - set(by_key))
    if unknown:
        raise ProvisionError(f"bad parameter {unknown[0]!r}: the product has no such parameter; its parameters: "
                             f"{', '.join(sorted(by_key))}")
    for key, value in values.items():
        allowed = by_key[key].get("ParameterConstraints", {}).get("AllowedValues") or []
        if allowed and value not in allowed:
            raise ProvisionError(f"bad parameter {key}={value!r}: allowed values are {', '.join(allowed)}")
        pattern = by_key[key].get("ParameterConstraints", {}).get("AllowedPattern")
        if pattern and not re.fullmatch(pattern, value):
            description = by_key[key].get("ParameterConstraints", {}).get("ConstraintDescription") or pattern
            raise ProvisionError(f"bad parameter {key}={value!r}: must match {description}")
    missing = sorted(k for k, p in by_key.items()
                     if k not in values and k not in provided and p.get("DefaultValue") is None)
    if missing:
        raise ProvisionError(f"missing parameter {missing[0]}: {by_key[missing[0]].get('Description', '')} "
                             f"(give --param {missing[0]}=...)")
    return dict(values)
