"""A Bedrock guardrail with a published version, encrypted with a customer-managed key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from aws_cdk import Duration, Fn
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from constructs import Construct

CONTENT_CATEGORIES = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT", "PROMPT_ATTACK")
GUARDRAIL_METRICS_NAMESPACE = "AWS/Bedrock/Guardrails"


@dataclass(frozen=True)
class ContentFilter:
    """Filter strength (NONE, LOW, MEDIUM, HIGH) of one category on prompts and on responses."""

    category: str
    input_strength: str = "HIGH"
    output_strength: str = "HIGH"

    def __post_init__(self) -> None:
        if self.category not in CONTENT_CATEGORIES:
            raise ValueError(f"unknown content filter category {self.category!r}; known: {CONTENT_CATEGORIES}")
        if self.category == "PROMPT_ATTACK" and self.output_strength != "NONE":
            raise ValueError("PROMPT_ATTACK filters prompts only; its output_strength must be NONE")


DEFAULT_CONTENT_FILTERS: tuple[ContentFilter, ...] = tuple(
    ContentFilter(category, output_strength="NONE" if category == "PROMPT_ATTACK" else "HIGH")
    for category in CONTENT_CATEGORIES
)
DEFAULT_PII_ENTITIES = ("EMAIL", "PHONE", "NAME", "ADDRESS", "CREDIT_DEBIT_CARD_NUMBER", "PASSWORD",
                        "AWS_ACCESS_KEY", "AWS_SECRET_KEY")


@dataclass(frozen=True)
class DeniedTopic:
    """A subject the guardrail refuses, described in natural language with optional examples."""

    name: str
    definition: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuardrailPolicy:
    """What the guardrail filters. Defaults: every content category HIGH (prompt attacks on
    prompts only), common PII masked, AWS's profanity list blocked."""

    content_filters: tuple[ContentFilter, ...] = DEFAULT_CONTENT_FILTERS
    pii_entities: tuple[str, ...] = DEFAULT_PII_ENTITIES
    pii_action: str = "ANONYMIZE"
    denied_topics: tuple[DeniedTopic, ...] = ()
    blocked_words: tuple[str, ...] = ()
    profanity_filter: bool = True
    blocked_input_message: str = "This request is not allowed by the AI usage policy."
    blocked_output_message: str = "The response was withheld by the AI usage policy."

    def fingerprint(self) -> str:
        """Short hash of the policy: a new value publishes a new guardrail version."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


class Guardrail(Construct):
    """A Bedrock guardrail (``AWS::Bedrock::Guardrail``) and a published, numbered version.

    The version's description carries a fingerprint of the policy, so a policy change replaces
    the ``GuardrailVersion`` resource and publishes a new version from the updated draft; IAM
    conditions built from :attr:`versioned_arn` follow it. Callers must name the published
    version, never DRAFT, which changes with every update.
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, encryption_key: kms.IKey,
                 policy: GuardrailPolicy = GuardrailPolicy(), description: str = "") -> None:
        super().__init__(scope, construct_id)
        self.encryption_key = encryption_key
        self.policy = policy
        self.resource = bedrock.CfnGuardrail(
            self, "Resource",
            name=name,
            description=description or None,
            kms_key_arn=encryption_key.key_arn,
            blocked_input_messaging=policy.blocked_input_message,
            blocked_outputs_messaging=policy.blocked_output_message,
            content_policy_config=bedrock.CfnGuardrail.ContentPolicyConfigProperty(filters_config=[
                bedrock.CfnGuardrail.ContentFilterConfigProperty(
                    type=f.category, input_strength=f.input_strength, output_strength=f.output_strength)
                for f in policy.content_filters
            ]),
            sensitive_information_policy_config=self._pii(policy),
            topic_policy_config=self._topics(policy),
            word_policy_config=self._words(policy),
        )
        self.version = bedrock.CfnGuardrailVersion(
            self, "Version",
            guardrail_identifier=self.resource.attr_guardrail_id,
            description=f"{name} policy {policy.fingerprint()}",
        )
        self.guardrail_arn: str = self.resource.attr_guardrail_arn
        self.guardrail_id: str = self.resource.attr_guardrail_id
        self.guardrail_version: str = self.version.attr_version

    @property
    def versioned_arn(self) -> str:
        """``<guardrail ARN>:<version>``, the value of ``bedrock:GuardrailIdentifier`` for calls
        that name this guardrail and its published version."""
        return Fn.join(":", [self.guardrail_arn, self.guardrail_version])

    def metric_interventions(self, period: Duration = Duration.minutes(5)) -> cloudwatch.IMetric:
        """Calls in which this guardrail intervened (blocked or masked), from CloudWatch search."""
        return cloudwatch.MathExpression(
            expression=(f"SEARCH('{{{GUARDRAIL_METRICS_NAMESPACE}}} MetricName=\"InvocationsIntervened\" "
                        f"\"{self.guardrail_id}\"', 'Sum', {int(period.to_seconds())})"),
            label="Guardrail interventions",
            period=period,
        )

    @staticmethod
    def _pii(policy: GuardrailPolicy) -> bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty | None:
        if not policy.pii_entities:
            return None
        return bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(pii_entities_config=[
            bedrock.CfnGuardrail.PiiEntityConfigProperty(type=entity, action=policy.pii_action)
            for entity in policy.pii_entities
        ])

    @staticmethod
    def _topics(policy: GuardrailPolicy) -> bedrock.CfnGuardrail.TopicPolicyConfigProperty | None:
        if not policy.denied_topics:
            return None
        return bedrock.CfnGuardrail.TopicPolicyConfigProperty(topics_config=[
            bedrock.CfnGuardrail.TopicConfigProperty(
                name=topic.name, definition=topic.definition, type="DENY", examples=list(topic.examples) or None)
            for topic in policy.denied_topics
        ])

    @staticmethod
    def _words(policy: GuardrailPolicy) -> bedrock.CfnGuardrail.WordPolicyConfigProperty | None:
        if not policy.blocked_words and not policy.profanity_filter:
            return None
        return bedrock.CfnGuardrail.WordPolicyConfigProperty(
            words_config=[bedrock.CfnGuardrail.WordConfigProperty(text=word) for word in policy.blocked_words] or None,
            managed_word_lists_config=(
                [bedrock.CfnGuardrail.ManagedWordsConfigProperty(type="PROFANITY")] if policy.profanity_filter else None),
        )
