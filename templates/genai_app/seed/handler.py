"""Back-end of a GenAI application: answers with a prompt of the project's prompt catalog through
the team's guardrail, and stores end users' ratings of the answers.

Routes (private REST API, IAM-authorized):

``POST /generate``  ``{"prompt": "answer", "variables": {"question": "...", "context": "..."}}``
    Reads the published prompt version from Bedrock Prompt Management, fills its ``{{variables}}``,
    calls the model through the project's application inference profile (``MODEL_ID``, the
    project's Bedrock spend) with the Converse API and the team's guardrail at the version the
    team's GenAI stack published (read from its SSM parameter once per container), stores the
    exchange under ``generations/`` and returns ``{"generationId", "output", "stopReason", "prompt"}``.
``POST /feedback``  ``{"generationId": "...", "rating": 1-5, "comment": "..."}``
    Stores the rating under ``feedback/<yyyy>/<mm>/<dd>/``, where evaluation jobs read it.

Environment: ``PROMPTS`` (JSON: prompt name -> {"arn", "version"}), ``GUARDRAIL_ARN``,
``GUARDRAIL_VERSION_PARAMETER`` (the SSM parameter of the guardrail's published version, the one
the project's IAM policy pins), ``MODEL_ID`` (the project's inference profile ARN),
``STORE_BUCKET`` and ``STORE_PREFIX`` (the project's prefix in the team bucket). Everything runs
inside the VPC: bedrock, bedrock-agent, bedrock-runtime and S3 are reached through VPC endpoints.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import uuid
from typing import Any

VARIABLE = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")
MAX_COMMENT = 1000
MAX_VARIABLE = 20_000


class BadRequest(ValueError):
    """The caller's request is invalid; the message is returned with status 400."""


def render(template: str, variables: dict[str, Any]) -> str:
    """Fill ``{{name}}`` placeholders; every placeholder needs a value, extra values are refused."""
    wanted = set(VARIABLE.findall(template))
    missing = sorted(wanted - set(variables))
    extra = sorted(set(variables) - wanted)
    if missing:
        raise BadRequest(f"missing variables: {', '.join(missing)}")
    if extra:
        raise BadRequest(f"unknown variables: {', '.join(extra)}")
    for name, value in variables.items():
        if not isinstance(value, (str, int, float)) or len(str(value)) > MAX_VARIABLE:
            raise BadRequest(f"variable {name} must be a string of at most {MAX_VARIABLE} characters")
    return VARIABLE.sub(lambda match: str(variables[match.group(1)]), template)


def parse_feedback(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a rating: a known generation id, an integer 1-5 and an optional short comment."""
    generation = body.get("generationId")
    try:
        generation = str(uuid.UUID(str(generation)))
    except ValueError:
        raise BadRequest("generationId must be the id /generate returned") from None
    rating = body.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise BadRequest("rating must be an integer from 1 to 5")
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise BadRequest(f"comment must be a string of at most {MAX_COMMENT} characters")
    return {"generationId": generation, "rating": rating, "comment": comment}


def published_guardrail_version(ssm: Any, parameter: str) -> str:
    """The guardrail version the team's GenAI stack published, from its SSM parameter: the one
    source the project's policy is pinned to (never a version published outside the stack, never
    DRAFT, which changes unreviewed)."""
    version = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    if not version.isdigit():
        raise RuntimeError(f"SSM parameter {parameter} holds {version!r}, not a published guardrail version")
    return version


def inference_config(variant: dict[str, Any]) -> dict[str, Any]:
    """The Converse inferenceConfig from a prompt variant's text inference configuration."""
    text = variant.get("inferenceConfiguration", {}).get("text", {})
    keys = {"maxTokens": "maxTokens", "temperature": "temperature", "topP": "topP", "stopSequences": "stopSequences"}
    return {target: text[source] for source, target in keys.items() if source in text}


class App:
    """The two routes, with AWS clients and settings injected (tests pass fakes)."""

    def __init__(self, *, agent: Any, runtime: Any, s3: Any, settings: dict[str, str], guardrail_version: str) -> None:
        self.agent, self.runtime, self.s3 = agent, runtime, s3
        self.prompts = json.loads(settings["PROMPTS"])
        self.model_id = settings["MODEL_ID"]
        self.guardrail = {"guardrailIdentifier": settings["GUARDRAIL_ARN"], "guardrailVersion": guardrail_version,
                          "trace": "disabled"}
        self.bucket = settings["STORE_BUCKET"]
        self.prefix = settings["STORE_PREFIX"]

    def generate(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("prompt")
        if name not in self.prompts:
            raise BadRequest(f"unknown prompt {name!r}; known: {', '.join(sorted(self.prompts))}")
        variables = body.get("variables", {})
        if not isinstance(variables, dict):
            raise BadRequest("variables must be an object")
        reference = self.prompts[name]
        prompt = self.agent.get_prompt(promptIdentifier=reference["arn"], promptVersion=reference["version"])
        variant = next(v for v in prompt["variants"] if v["name"] == prompt.get("defaultVariant", v["name"]))
        text = render(variant["templateConfiguration"]["text"]["text"], variables)
        answer = self.runtime.converse(
            modelId=self.model_id, messages=[{"role": "user", "content": [{"text": text}]}],
            inferenceConfig=inference_config(variant), guardrailConfig=self.guardrail)
        output = "".join(part.get("text", "") for part in answer["output"]["message"]["content"])
        generation = str(uuid.uuid4())
        record = {"generationId": generation, "prompt": name, "promptVersion": reference["version"],
                  "modelId": variant["modelId"], "inferenceProfile": self.model_id, "variables": variables, "output": output,
                  "stopReason": answer["stopReason"], "createdAt": _now().isoformat()}
        self._put(f"generations/{generation}.json", record)
        return {"generationId": generation, "output": output, "stopReason": answer["stopReason"],
                "prompt": f"{name}:{reference['version']}"}

    def feedback(self, body: dict[str, Any]) -> dict[str, Any]:
        rating = parse_feedback(body)
        now = _now()
        key = f"feedback/{now:%Y/%m/%d}/{rating['generationId']}-{uuid.uuid4()}.json"
        self._put(key, {**rating, "createdAt": now.isoformat()})
        return {"stored": key}

    def _put(self, key: str, document: dict[str, Any]) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=f"{self.prefix}{key}", Body=json.dumps(document).encode(),
                           ContentType="application/json")

    def route(self, event: dict[str, Any]) -> dict[str, Any]:
        routes = {("POST", "/generate"): (self.generate, 200), ("POST", "/feedback"): (self.feedback, 202)}
        target = routes.get((event.get("httpMethod"), event.get("resource")))
        if target is None:
            return _response(404, {"message": "not found"})
        try:
            body = json.loads(event.get("body") or "{}")
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
            return _response(target[1], target[0](body))
        except (BadRequest, json.JSONDecodeError) as error:
            return _response(400, {"message": str(error)})


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


_APP: App | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (API Gateway proxy integration)."""
    global _APP
    if _APP is None:
        import boto3

        version = published_guardrail_version(boto3.client("ssm"), os.environ["GUARDRAIL_VERSION_PARAMETER"])
        _APP = App(agent=boto3.client("bedrock-agent"), runtime=boto3.client("bedrock-runtime"),
                   s3=boto3.client("s3"), settings=dict(os.environ), guardrail_version=version)
    return _APP.route(event)
