"""LLM-as-judge: ask a Bedrock model, through the project's inference profile and the team's
guardrail (at the version the team's GenAI stack published), to grade an answer 1-5."""

from __future__ import annotations

import json
import re
from typing import Any

INSTRUCTIONS = (
    "You grade answers of an AI assistant. Score the ANSWER to the PROMPT from 1 (wrong, unsafe or useless) to 5 "
    "(correct, complete, concise). If a REFERENCE is given, judge faithfulness to it. Reply with JSON only: "
    '{"score": <1-5>, "reason": "<one sentence>"}')
SCORE = re.compile(r'"score"\s*:\s*([1-5](?:\.\d+)?)')


def published_guardrail_version(ssm: Any, parameter: str) -> str:
    """The guardrail version the team's GenAI stack published, from its SSM parameter: the one
    source the project's policy is pinned to (never a version published outside the stack, never
    DRAFT, which changes unreviewed)."""
    version = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    if not version.isdigit():
        raise RuntimeError(f"SSM parameter {parameter} holds {version!r}, not a published guardrail version")
    return version


def judge_message(record: dict[str, Any]) -> str:
    parts = [f"PROMPT:\n{record['prompt']}", f"ANSWER:\n{record['output']}"]
    if record.get("reference"):
        parts.append(f"REFERENCE:\n{record['reference']}")
    return "\n\n".join(parts)


def parse_verdict(text: str) -> tuple[float, str]:
    """The score and reason of the judge's reply; tolerate text around the JSON object."""
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        try:
            verdict = json.loads(text[start:end + 1])
            score = float(verdict["score"])
            if 1 <= score <= 5:
                return score, str(verdict.get("reason", ""))
        except (ValueError, KeyError, TypeError):
            pass
    match = SCORE.search(text)
    if match:
        return float(match.group(1)), ""
    raise ValueError(f"the judge gave no score: {text[:200]!r}")


class Judge:
    """Grades records with ``model_id`` through the guardrail (Converse API)."""

    def __init__(self, runtime: Any, model_id: str, guardrail_id: str, guardrail_version: str) -> None:
        self.runtime = runtime
        self.model_id = model_id
        self.guardrail = {"guardrailIdentifier": guardrail_id, "guardrailVersion": guardrail_version}

    def score(self, record: dict[str, Any]) -> tuple[float, str]:
        reply = self.runtime.converse(
            modelId=self.model_id, system=[{"text": INSTRUCTIONS}],
            messages=[{"role": "user", "content": [{"text": judge_message(record)}]}],
            inferenceConfig={"maxTokens": 200, "temperature": 0}, guardrailConfig=self.guardrail)
        text = "".join(part.get("text", "") for part in reply["output"]["message"]["content"])
        return parse_verdict(text)
