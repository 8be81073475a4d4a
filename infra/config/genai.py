"""A team's GenAI runtime: Bedrock models and guardrail, SageMaker FM endpoints."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from infra.config.base import S3_KEY_SEGMENT, SLUG, LocatedError, Strict, check_key_segments


class FilterStrength(StrEnum):
    NONE = "NONE"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class ContentFilter(Strict):
    input: FilterStrength = Field(default=FilterStrength.HIGH, description="Strength on prompts")
    output: FilterStrength = Field(default=FilterStrength.HIGH, description="Strength on model responses")


class ContentFilters(Strict):
    """Bedrock guardrail content filters, one strength per category for prompts and responses."""

    hate: ContentFilter = ContentFilter()
    insults: ContentFilter = ContentFilter()
    sexual: ContentFilter = ContentFilter()
    violence: ContentFilter = ContentFilter()
    misconduct: ContentFilter = ContentFilter()
    prompt_attack: ContentFilter = Field(
        default=ContentFilter(output=FilterStrength.NONE),
        description="Jailbreak and prompt-injection filter; applies to prompts only (output must be NONE)",
    )

    @model_validator(mode="after")
    def _prompt_attack_on_input_only(self) -> ContentFilters:
        if self.prompt_attack.output is not FilterStrength.NONE:
            raise LocatedError(("prompt_attack", "output"), "Bedrock filters prompt attacks on prompts only; set output: NONE")
        return self


PiiEntity = Literal[
    "ADDRESS", "AGE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY", "CREDIT_DEBIT_CARD_NUMBER", "DRIVER_ID", "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "IP_ADDRESS", "LICENSE_PLATE", "MAC_ADDRESS", "NAME", "PASSWORD",
    "PHONE", "PIN", "SWIFT_CODE", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", "URL", "USERNAME", "US_BANK_ACCOUNT_NUMBER", "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "US_PASSPORT_NUMBER", "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
]


class PiiPolicy(Strict):
    entities: list[PiiEntity] = Field(
        default_factory=lambda: ["EMAIL", "PHONE", "NAME", "ADDRESS", "CREDIT_DEBIT_CARD_NUMBER",
                                 "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "PASSWORD", "AWS_ACCESS_KEY", "AWS_SECRET_KEY"],
        description="PII types the guardrail detects in prompts and responses",
    )
    action: Literal["BLOCK", "ANONYMIZE"] = Field(default="ANONYMIZE", description="Block the message or mask the PII")


class DeniedTopic(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[0-9a-zA-Z\-_ !?.]+$")]
    definition: Annotated[str, Field(min_length=1, max_length=200, description="What the topic covers")]
    examples: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=5)


class GuardrailSettings(Strict):
    """The team's Bedrock guardrail; every invoke/converse call of the team must name it (IAM)."""

    content_filters: ContentFilters = ContentFilters()
    pii: PiiPolicy = PiiPolicy()
    denied_topics: list[DeniedTopic] = Field(default_factory=list, max_length=30)
    blocked_words: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)
    profanity_filter: bool = Field(default=True, description="Also block AWS's managed profanity word list")
    blocked_input_message: Annotated[str, Field(min_length=1, max_length=500)] = (
        "This request is not allowed by the team's AI usage policy.")
    blocked_output_message: Annotated[str, Field(min_length=1, max_length=500)] = (
        "The response was withheld by the team's AI usage policy.")


GpuInstanceType = Literal[tuple(GPU_INSTANCE_TYPES)]  # type: ignore[valid-type]
ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
                       r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")
# Set by the endpoint construct (local weights, no hub) or hub credentials: never from config.
RESERVED_CONTAINER_ENV = ("HF_MODEL_ID", "OPTION_MODEL_ID", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                          "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


class FmEndpointSettings(Strict):
    """A catalog model hosted on a private SageMaker endpoint in each of the team's accounts."""

    name: Annotated[str, Field(pattern=SLUG, description="Endpoint name within the team")]
    model: str = Field(description="FM catalog id (config/fm-catalog.yaml or models:)")
    instance_type: GpuInstanceType | None = Field(  # type: ignore[valid-type]
        default=None, description="Overrides the catalog's gpu_instance; one of the allowed GPU types")
    min_instances: int = Field(
        default=1, ge=0, le=20,
        description="0 scales to zero when idle: the model is then hosted as an inference component, the "
        "only SageMaker hosting that scales to zero instances",
    )
    max_instances: int = Field(default=2, ge=1, le=20)
    target_invocations_per_instance: int = Field(
        default=30, ge=1, description="Invocations per instance (per copy at scale to zero) and minute that "
        "target tracking keeps")
    weights: Annotated[str, Field(pattern=rf"^{S3_KEY_SEGMENT}(?:/{S3_KEY_SEGMENT})*(?:/|\.tar\.gz)$")] = Field(
        description="Where the weights are staged in the team's model bucket: a key prefix ending in / "
        "(uncompressed) or a .tar.gz key; no empty, '.' or '..' segments")
    image: str = Field(description="Serving image in ECR, in the organisation's region: "
                       "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>")
    environment: dict[Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")], str] = Field(
        default_factory=dict, description="Extra container variables (e.g. SM_NUM_GPUS); hub settings are not allowed")
    data_capture_percent: int = Field(default=20, ge=1, le=100, description="Share of requests captured to S3")

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: str) -> str:
        return check_key_segments(value)

    @field_validator("image")
    @classmethod
    def _ecr_image(cls, value: str) -> str:
        if not ECR_IMAGE.match(value):
            raise ValueError(f"{value!r} is not an ECR image URI; use <account>.dkr.ecr.<region>.amazonaws.com/"
                             "<repository>:<tag> (images come from ECR, never from a public registry)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FmEndpointSettings:
        if self.max_instances < max(self.min_instances, 1):
            raise LocatedError(("max_instances",), f"max_instances {self.max_instances} is below min_instances "
                               f"{self.min_instances} (and at least 1)")
        reserved = sorted(set(self.environment) & set(RESERVED_CONTAINER_ENV))
        if reserved:
            raise LocatedError(("environment", reserved[0]), f"{reserved[0]} is set by the platform (weights load from "
                               "/opt/ml/model, never from a hub); remove it")
        return self

    @property
    def image_region(self) -> str:
        return ECR_IMAGE.match(self.image)["region"]  # type: ignore[index]


class GenAi(Strict):
    """A team's GenAI runtime: allowed Bedrock models, its guardrail, and hosted FM endpoints."""

    commercial: bool = Field(description="The team ships a commercial product: every model must allow commercial use")
    bedrock_models: list[str] = Field(
        default_factory=list, description="FM catalog ids of the Bedrock models the team may invoke (needs feature bedrock)")
    cross_region_inference: Literal["us", "eu", "apac"] | None = Field(
        default=None, description="Invoke through the system-defined cross-Region inference profiles of this "
        "geography (e.g. eu.amazon.nova-pro-v1:0) instead of in-Region model ids")
    guardrail: GuardrailSettings = GuardrailSettings()
    endpoints: list[FmEndpointSettings] = Field(
        default_factory=list, description="Catalog models hosted on SageMaker endpoints (needs feature hosting)")
