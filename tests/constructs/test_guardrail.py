"""Guardrail: a KMS-encrypted Bedrock guardrail with a published version whose description
fingerprints the policy; defaults filter every content category and mask common PII."""

from __future__ import annotations

import pytest

from fmops_constructs.guardrail import (CONTENT_CATEGORIES, DEFAULT_PII_ENTITIES, ContentFilter, DeniedTopic, Guardrail,
                                        GuardrailPolicy)
from fmops_constructs.kms import EncryptionKey
from tests.constructs.bare import ORG, TEAM, app_names, bare_stack, only, template

STRICT = GuardrailPolicy(denied_topics=(DeniedTopic("advice", "Investment advice", ("Buy this stock?",)),),
                         blocked_words=("codename",), pii_entities=())


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    key = EncryptionKey(stack, "Key", alias="alias/guardrail", description="guardrail")
    guardrail = Guardrail(stack, "Guardrail", name=f"{ORG}-{TEAM}", encryption_key=key)
    return guardrail, template(stack)


@pytest.fixture(scope="module")
def strict():
    stack = bare_stack()
    key = EncryptionKey(stack, "Key", alias="alias/guardrail", description="guardrail")
    Guardrail(stack, "Guardrail", name=f"{ORG}-{TEAM}", encryption_key=key, policy=STRICT, description="strict")
    return template(stack)


def test_defaults_filter_every_category_and_mask_pii(built):
    properties = only(built[1], "AWS::Bedrock::Guardrail")
    assert properties["Name"] == f"{ORG}-{TEAM}" and "Description" not in properties
    assert properties["KmsKeyArn"]["Fn::GetAtt"][1] == "Arn"
    filters = {f["Type"]: (f["InputStrength"], f["OutputStrength"])
               for f in properties["ContentPolicyConfig"]["FiltersConfig"]}
    assert set(filters) == set(CONTENT_CATEGORIES)
    assert filters["PROMPT_ATTACK"] == ("HIGH", "NONE") and filters["HATE"] == ("HIGH", "HIGH")
    pii = properties["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]
    assert [p["Type"] for p in pii] == list(DEFAULT_PII_ENTITIES) and {p["Action"] for p in pii} == {"ANONYMIZE"}
    assert properties["WordPolicyConfig"] == {"ManagedWordListsConfig": [{"Type": "PROFANITY"}]}
    assert "TopicPolicyConfig" not in properties


def test_published_version_fingerprints_the_policy(built):
    guardrail, synthesized = built
    version = only(synthesized, "AWS::Bedrock::GuardrailVersion")
    assert version["Description"] == f"{ORG}-{TEAM} policy {GuardrailPolicy().fingerprint()}"
    assert GuardrailPolicy().fingerprint() != STRICT.fingerprint()
    assert guardrail.guardrail_version and guardrail.versioned_arn


def test_policy_props_become_topics_words_and_no_pii(strict):
    properties = only(strict, "AWS::Bedrock::Guardrail")
    assert properties["Description"] == "strict"
    assert properties["TopicPolicyConfig"]["TopicsConfig"] == [
        {"Name": "advice", "Definition": "Investment advice", "Type": "DENY", "Examples": ["Buy this stock?"]}]
    assert properties["WordPolicyConfig"]["WordsConfig"] == [{"Text": "codename"}]
    assert "SensitiveInformationPolicyConfig" not in properties


def test_filters_are_validated():
    with pytest.raises(ValueError, match="unknown content filter"):
        ContentFilter("GOSSIP")
    with pytest.raises(ValueError, match="PROMPT_ATTACK"):
        ContentFilter("PROMPT_ATTACK", output_strength="HIGH")


def test_carries_no_app_names(built, strict):
    assert app_names(built[1]) == [] and app_names(strict) == []
