"""The prompt-test result record testers write to the project's prompt-test repository
(``s3://<team bucket>/prompt-tests/<project>/results/``), one JSON object per line."""

from __future__ import annotations

from typing import Any

FIELDS = {"model": str, "prompt_id": str, "prompt": str, "output": str}
OPTIONAL = {"reference": str, "tester": str, "comment": str}


class InvalidResult(ValueError):
    """A record that cannot be used; the message says which field and why."""


def validate(record: Any) -> dict[str, Any]:
    """A clean copy of a result record: required text fields, an optional human score 1-5 and an
    optional latency in milliseconds."""
    if not isinstance(record, dict):
        raise InvalidResult("a result is a JSON object")
    clean: dict[str, Any] = {}
    for name, kind in FIELDS.items():
        value = record.get(name)
        if not isinstance(value, kind) or not value.strip():
            raise InvalidResult(f"{name} is required (non-empty text)")
        clean[name] = value
    for name, kind in OPTIONAL.items():
        if record.get(name) is not None:
            if not isinstance(record[name], kind):
                raise InvalidResult(f"{name} must be text")
            clean[name] = record[name]
    score = record.get("human_score")
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not 1 <= score <= 5:
            raise InvalidResult("human_score must be a number from 1 to 5")
        clean["human_score"] = float(score)
    latency = record.get("latency_ms")
    if latency is not None:
        if isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency < 0:
            raise InvalidResult("latency_ms must be a non-negative number")
        clean["latency_ms"] = float(latency)
    unknown = sorted(set(record) - set(FIELDS) - set(OPTIONAL) - {"human_score", "latency_ms"})
    if unknown:
        raise InvalidResult(f"unknown fields: {', '.join(unknown)}")
    return clean
