"""The genai section of a team: catalog models only, commercial use, hosting limits, guardrail rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import aws_bedrock as bedrock

from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from infra.config import DEFAULT_CONFIG, ConfigError, load_config
from infra.plan.genai import endpoint_instance_type, guardrail_policy

DEFAULT_TEXT = DEFAULT_CONFIG.read_text()
GENAI_MODELS = "bedrock_models: [amazon-nova-pro, amazon-nova-lite]"
FALCON = "model: tii-falcon-7b-instruct"
FLAN = "model: google-flan-t5-xxl"


def error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def valid(tmp_path: Path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_config(path)


def test_default_config_resolves_models_through_the_catalog():
    config = load_config()
    genai = config.teams[1].genai
    assert genai is not None and genai.commercial
    assert [config.catalog.get(m).bedrock_model_id for m in genai.bedrock_models] == [
        "amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0"]
    assert endpoint_instance_type(config, genai.endpoints[0]) == "ml.g5.xlarge"  # the catalog's gpu_instance
    assert {m.id for m in config.models} <= set(config.catalog.ids)


def test_config_bedrock_model_ids_are_ids_aws_cdk_lib_knows():
    """Offline check of the ids added under models: against aws-cdk-lib's FoundationModelIdentifier."""
    known = {getattr(bedrock.FoundationModelIdentifier, name).model_id
             for name in dir(bedrock.FoundationModelIdentifier) if name.isupper()}
    for path in (DEFAULT_CONFIG, DEFAULT_CONFIG.parent / "single-account.yaml"):
        for model in load_config(path).models:
            assert model.bedrock_model_id in known, model.id


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (GENAI_MODELS, "bedrock_models: [amazon-nova-prp]",
         ["teams[1](name=genai).genai.bedrock_models[0]", "unknown model id 'amazon-nova-prp'",
          "did you mean: amazon-nova-pro"]),
        (FALCON, "model: lmsys-vicuna-13b",
         ["teams[1](name=genai).genai.endpoints[0](name=falcon-7b).model", "'lmsys-vicuna-13b' (LMSYS Org Vicuna-13B) cannot be used "
          "commercially", "commercial: true"]),
        (FLAN, "model: meta-llama-65b",
         ["teams[0](name=risk).genai.endpoints[0](name=flan-t5).model", "cannot be used commercially"]),
        (GENAI_MODELS, "bedrock_models: [anthropic-claude]",
         ["genai.bedrock_models[0]", "no bedrock_model_id", "add the current Bedrock model under models:"]),
        (FALCON, "model: cohere-command",
         ["genai.endpoints[0](name=falcon-7b).instance_type", "no gpu_instance in the catalog; set instance_type"]),
        (FALCON, "model: amazon-titan-text-large",
         ["genai.endpoints[0](name=falcon-7b).model", "not available on SageMaker"]),
        (FALCON, f"{FALCON}\n          instance_type: ml.t3.medium",
         ["genai.endpoints[0](name=falcon-7b).instance_type", "'ml.t3.medium'", "ml.g5.xlarge"]),
        ("          max_instances: 2\n          weights: falcon", "          max_instances: 0\n          weights: falcon",
         ["genai.endpoints[0](name=falcon-7b).max_instances", "greater than or equal to 1"]),
        ("          min_instances: 1\n          max_instances: 2", "          min_instances: 3\n          max_instances: 2",
         ["teams[0](name=risk).genai.endpoints[0](name=flan-t5).max_instances", "below min_instances 3"]),
        ('"111111111111.dkr.ecr.eu-west-1.amazonaws.com/fmops/tgi-inference:2.4.0"\n          environment',
         '"111111111111.dkr.ecr.us-east-1.amazonaws.com/fmops/tgi-inference:2.4.0"\n          environment',
         ["genai.endpoints[0](name=falcon-7b).image", "image is in us-east-1", "only in eu-west-1"]),
        ('"111111111111.dkr.ecr.eu-west-1.amazonaws.com/fmops/tgi-inference:2.4.0"\n          environment',
         '"ghcr.io/huggingface/text-generation-inference:2.4.0"\n          environment',
         ["genai.endpoints[0](name=falcon-7b).image", "not an ECR image URI", "never from a public registry"]),
        ('environment: {MAX_INPUT_TOKENS: "1024"', 'environment: {HF_TOKEN: "hf_x", MAX_INPUT_TOKENS: "1024"',
         ["genai.endpoints[0](name=falcon-7b).environment.HF_TOKEN", "set by the platform", "never from a hub"]),
        ("misconduct: {input: HIGH, output: MEDIUM}", "prompt_attack: {input: HIGH, output: HIGH}",
         ["genai.guardrail.content_filters.prompt_attack.output", "set output: NONE"]),
        ("misconduct: {input: HIGH, output: MEDIUM}", "misconduct: {input: HIGHEST, output: MEDIUM}",
         ["genai.guardrail.content_filters.misconduct.input", "'HIGHEST' is not allowed"]),
        ("action: ANONYMIZE", "action: REDACT", ["genai.guardrail.pii.action", "'REDACT'"]),
        ("cross_region_inference: eu", "cross_region_inference: us",
         ["genai.cross_region_inference", "us inference profiles cannot be called from eu-west-1"]),
        ("features: [studio, pipelines, hosting, bedrock, bedrock-agents, service-catalog, private-api, data-lake]",
         "features: [studio, pipelines, hosting, service-catalog, private-api, data-lake]",
         ["teams[1](name=genai).genai.bedrock_models", "needs feature bedrock"]),
        ("features: [studio, pipelines, hosting, service-catalog, mlflow, data-lake]\n",
         "features: [studio, pipelines, service-catalog, mlflow, data-lake]\n",
         ["teams[0](name=risk).genai.endpoints", "need feature hosting"]),
        ("        - name: flan-t5\n", "        - name: flan-t5-with-a-long-name\n",
         ["genai.endpoints[0](name=flan-t5-with-a-long-name).name", "String should match pattern"]),
        ("  - id: anthropic-claude-3-haiku\n", "  - id: anthropic-claude\n",
         ["models", "extra model id 'anthropic-claude' is already in the catalog"]),
        ("    bedrock_model_id: amazon.nova-lite-v1:0\n",
         "    bedrock_model_id: amazon.nova-lite-v1:0\n    colour: blue\n", ["models[1](name=Nova Lite).colour", "unknown key 'colour'"]),
    ],
    ids=["model-not-in-catalog", "non-commercial-endpoint", "non-commercial-risk", "no-bedrock-id",
         "no-gpu-instance", "not-on-sagemaker", "instance-not-allowed", "max-zero", "max-below-min",
         "image-other-region", "image-not-ecr", "hub-token", "prompt-attack-output", "bad-strength",
         "bad-pii-action", "geography-mismatch", "bedrock-feature-missing", "hosting-feature-missing",
         "endpoint-name-too-long", "duplicate-catalog-id", "unknown-model-key"],
)
def test_bad_genai_config_names_the_field(tmp_path, old, new, expected):
    assert old in DEFAULT_TEXT, old
    message = error_for(tmp_path, DEFAULT_TEXT.replace(old, new, 1))
    for part in expected:
        assert part in message, message


def test_error_is_reported_on_the_line_of_the_model(tmp_path):
    text = DEFAULT_TEXT.replace(FALCON, "model: lmsys-vicuna-13b")
    message = error_for(tmp_path, text)
    line = next(i for i, content in enumerate(text.splitlines(), 1) if "model: lmsys-vicuna-13b" in content)
    assert message.split(":")[1] == str(line)


def test_non_commercial_model_is_fine_for_a_non_commercial_team(tmp_path):
    text = DEFAULT_TEXT.replace(FALCON, "model: lmsys-vicuna-13b").replace(
        "    genai:\n      commercial: true\n      # Nova", "    genai:\n      commercial: false\n      # Nova")
    config = valid(tmp_path, text)
    assert config.teams[1].genai.endpoints[0].model == "lmsys-vicuna-13b"


def test_instance_type_override_within_the_allowed_list(tmp_path):
    config = valid(tmp_path, DEFAULT_TEXT.replace(FALCON, f"{FALCON}\n          instance_type: ml.g6.xlarge"))
    assert endpoint_instance_type(config, config.teams[1].genai.endpoints[0]) == "ml.g6.xlarge"
    # Every GPU type the deck's catalog asks for can be hosted.
    assert {m.gpu_instance for m in config.catalog.models if m.gpu_instance} <= set(GPU_INSTANCE_TYPES)


def test_endpoint_name_leaves_room_for_the_inference_component(tmp_path):
    text = DEFAULT_TEXT.replace("  name: fmops\n", "  name: fmops-organisation-x\n", 1).replace(
        "- name: genai\n", "- name: generative-ai-labs\n", 1).replace("- name: falcon-7b\n", "- name: falcon-7b-instruct\n")
    message = error_for(tmp_path, text)
    assert "teams[1](name=generative-ai-labs).genai.endpoints[0](name=falcon-7b-instruct).name" in message
    assert "'fmops-organisation-x-generative-ai-labs-falcon-7b-instruct' has 58 characters" in message


def test_guardrail_defaults_are_strict_and_prompt_attacks_filter_prompts_only():
    policy = guardrail_policy(load_config().teams[0].genai.guardrail)  # the risk team sets no guardrail
    strengths = {f.category: (f.input_strength, f.output_strength) for f in policy.content_filters}
    assert strengths == {"HATE": ("HIGH", "HIGH"), "INSULTS": ("HIGH", "HIGH"), "SEXUAL": ("HIGH", "HIGH"),
                         "VIOLENCE": ("HIGH", "HIGH"), "MISCONDUCT": ("HIGH", "HIGH"),
                         "PROMPT_ATTACK": ("HIGH", "NONE")}
    assert policy.pii_action == "ANONYMIZE" and "AWS_SECRET_KEY" in policy.pii_entities
    assert policy.profanity_filter
