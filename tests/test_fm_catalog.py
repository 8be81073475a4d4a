"""Tests for the FM catalog (config/fm-catalog.yaml and infra/config/fm_catalog.py) against the seed deck."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.config.fm_catalog import (
    DEFAULT_CATALOG_PATH,
    SCHEMA_PATH,
    Availability,
    Catalog,
    CatalogError,
    FoundationModel,
    ModelSource,
    UnknownModelError,
    load_catalog,
    render_schema,
)

# The deck's "Totals" row of the EU AI Act grading table (out of 48).
DECK_COLUMN_TOTALS = {
    "GPT-4": 25,
    "Cohere Command": 23,
    "Stable Diffusion v2": 22,
    "Claude": 7,
    "PaLM 2": 27,
    "BLOOM": 36,
    "LLaMA": 21,
    "Jurassic-2": 8,
    "Luminous": 5,
    "GPT-NeoX": 29,
}
# The deck's "Totals" column of the same table.
DECK_ROW_TOTALS = {
    "data_sources": 22,
    "data_governance": 19,
    "copyrighted_data": 7,
    "compute": 17,
    "energy": 16,
    "capabilities_and_limitations": 27,
    "risks_and_mitigations": 16,
    "evaluations": 15,
    "testing": 10,
    "machine_generated_content": 21,
    "member_states": 9,
    "downstream_documentation": 24,
}
# Where the deck's dots do not add up to its own stated totals: (cells sum, stated).
INCONSISTENT_ROWS = {
    "data_sources": (23, 22),
    "data_governance": (21, 19),
    "capabilities_and_limitations": (28, 27),
    "risks_and_mitigations": (17, 16),
    "downstream_documentation": (25, 24),
}
INCONSISTENT_COLUMNS = {"GPT-4": (26, 25), "PaLM 2": (28, 27), "BLOOM": (37, 36), "LLaMA": (24, 21)}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The repository's catalog."""
    return load_catalog()


def _extra(model_id: str = "amazon-nova-pro", **overrides: object) -> dict[str, object]:
    """Return a valid extra-model mapping, as a user config would add it."""
    entry: dict[str, object] = {
        "id": model_id,
        "provider": "Amazon",
        "name": "Nova Pro",
        "source": "proprietary",
        "commercial_use": True,
        "availability": ["bedrock"],
        "fine_tunable": False,
        "bedrock_model_id": "amazon.nova-pro-v1:0",
    }
    entry.update(overrides)
    return entry


def test_counts_match_the_deck_matrices(catalog: Catalog) -> None:
    proprietary = [m for m in catalog.models if m.source is ModelSource.PROPRIETARY]
    open_source = [m for m in catalog.models if m.source is ModelSource.OPEN_SOURCE]
    assert len(proprietary) == 9
    assert len(open_source) == 10
    assert catalog.ids[0] == "ai21-j2-ultra-instruct"
    assert catalog.ids[-1] == "stabilityai-sd-2-1"


def test_falcon_40b_instruct_cells(catalog: Catalog) -> None:
    falcon = catalog.get("tii-falcon-40b-instruct")
    assert (falcon.provider, falcon.name) == ("TII", "Falcon-40B-Instruct")
    assert falcon.parameters_billions == 40
    assert falcon.gpu_instance == "ml.g5.12xlarge"
    assert falcon.context_window_tokens == 2 * 1024
    assert falcon.fine_tunable is True
    assert falcon.commercial_use is True
    assert falcon.availability == (Availability.JUMPSTART, Availability.SAGEMAKER)
    assert falcon.trained_on == ("Internet Data", "Code", "Instructions")


def test_claude_is_bedrock_only_with_12k_context(catalog: Catalog) -> None:
    claude = catalog.get("anthropic-claude")
    assert claude.availability == (Availability.BEDROCK,)
    assert claude.context_window_tokens == 12 * 1024
    assert claude.gpu_instance is None
    assert claude.parameters_billions is None
    assert "Human feedback" in claude.trained_on


def test_special_cells_keep_a_note(catalog: Catalog) -> None:
    command = catalog.get("cohere-command")
    assert command.parameters_billions == 50
    assert any("n/a (50 B)" in note for note in command.notes)
    summarize = catalog.get("ai21-summarize")
    assert summarize.context_window_tokens == 13000
    assert any("~13 K" in note for note in summarize.notes)
    assert catalog.get("lighton-lyra-fr-10b").context_window_tokens is None
    assert catalog.get("stabilityai-sdxl").context_window_tokens is None
    assert catalog.get("bigcode-santacoder").parameters_billions == 1.1
    assert catalog.get("google-flan-t5-xxl").context_window_tokens == 512


def test_other_deck_cells(catalog: Catalog) -> None:
    ultra = catalog.get("ai21-j2-ultra-instruct")
    assert (ultra.parameters_billions, ultra.gpu_instance) == (178, "ml.p4d.24xlarge")
    assert set(ultra.availability) == {Availability.BEDROCK, Availability.JUMPSTART, Availability.SAGEMAKER}
    assert catalog.get("meta-llama-65b").gpu_instance == "ml.g5.48xlarge"
    assert catalog.get("bigcode-starcoder").availability == (Availability.SAGEMAKER,)
    not_commercial = {m.id for m in catalog.models if not m.commercial_use}
    assert not_commercial == {"lmsys-vicuna-13b", "meta-llama-65b"}
    assert all(m.speed is None for m in catalog.models)  # the deck's Speed column is blank


def test_fine_tunable_exactly_the_open_source_models(catalog: Catalog) -> None:
    for model in catalog.models:
        assert model.fine_tunable is (model.source is ModelSource.OPEN_SOURCE)


def test_relative_cost_only_where_derivable(catalog: Catalog) -> None:
    for model in catalog.models:
        if model.source is ModelSource.PROPRIETARY:
            assert model.relative_cost is None
    assert catalog.get("eleutherai-gpt-j").relative_cost == 1
    assert catalog.get("tii-falcon-40b-instruct").relative_cost == 2
    assert catalog.get("meta-llama-65b").relative_cost == 3


def test_no_bedrock_model_id_is_invented(catalog: Catalog) -> None:
    assert all(m.bedrock_model_id is None for m in catalog.models)


def test_eu_ai_act_stated_totals_equal_the_deck(catalog: Catalog) -> None:
    grading = catalog.eu_ai_act
    assert {g.model: g.stated_total for g in grading.grades} == DECK_COLUMN_TOTALS
    assert {r.id: r.stated_total for r in grading.requirements} == DECK_ROW_TOTALS
    assert grading.max_total == 48
    assert sum(DECK_COLUMN_TOTALS.values()) == sum(DECK_ROW_TOTALS.values()) == 203


def test_eu_ai_act_cell_sums_and_the_decks_inconsistencies(catalog: Catalog) -> None:
    grading = catalog.eu_ai_act
    for requirement in grading.requirements:
        expected = INCONSISTENT_ROWS.get(requirement.id, (requirement.stated_total,))[0]
        assert grading.row_sum(requirement.id) == expected, requirement.id
    for grade in grading.grades:
        expected = INCONSISTENT_COLUMNS.get(grade.model, (grade.stated_total,))[0]
        assert grade.computed_total == expected, grade.model
    assert sum(g.computed_total for g in grading.grades) == 209
    assert len(grading.discrepancies()) == len(INCONSISTENT_ROWS) + len(INCONSISTENT_COLUMNS)
    assert "column 'LLaMA': cells sum to 24, stated total 21" in grading.discrepancies()


def test_eu_ai_act_totals_on_catalog_models(catalog: Catalog) -> None:
    expected = {
        "anthropic-claude": 7,
        "ai21-j2-ultra-instruct": 8,
        "cohere-command-light": 23,
        "google-flan-ul2": 27,
        "eleutherai-gpt-j": 29,
        "meta-llama-65b": 21,
        "stabilityai-sdxl": 22,
    }
    for model_id, total in expected.items():
        assert catalog.get(model_id).eu_ai_act_total == total, model_id
    assert catalog.get("tii-falcon-40b-instruct").eu_ai_act_total is None
    assert catalog.get("amazon-titan-text-large").eu_ai_act_graded_model is None
    assert catalog.eu_ai_act.grade_for("PaLM 2").provider == "Google"


def test_catalog_file_cites_its_sources() -> None:
    header = DEFAULT_CATALOG_PATH.read_text(encoding="utf-8").split("\nmodels:")[0]
    assert "Seed deck" in header
    assert "Stanford" in header and "crfm.stanford.edu" in header
    for deck_field in ("provider", "parameters_billions", "gpu_instance", "context_window_tokens", "fine_tunable"):
        assert deck_field in header


def test_extra_models_are_appended(catalog: Catalog) -> None:
    merged = load_catalog(extra_models=[_extra()])
    assert merged.ids[: len(catalog.ids)] == catalog.ids
    assert merged.ids[-1] == "amazon-nova-pro"
    assert merged.get("amazon-nova-pro").bedrock_model_id == "amazon.nova-pro-v1:0"


def test_extra_models_accept_model_objects() -> None:
    model = FoundationModel.model_validate(_extra("team-model"))
    assert load_catalog(extra_models=[model]).get("team-model") == model


def test_extra_model_reusing_a_catalog_id_is_rejected() -> None:
    with pytest.raises(CatalogError, match="'anthropic-claude' is already in the catalog"):
        load_catalog(extra_models=[_extra("anthropic-claude")])


def test_extra_models_repeating_an_id_are_rejected() -> None:
    with pytest.raises(CatalogError, match="'team-model' is listed more than once"):
        load_catalog(extra_models=[_extra("team-model"), _extra("team-model")])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gpu_instance": "p4d.24xl", "availability": ["sagemaker"]}, "gpu_instance"),
        ({"availability": ["jumpstart"]}, "'jumpstart' requires 'sagemaker'"),
        ({"gpu_instance": "ml.g5.xlarge"}, "gpu_instance is only meaningful"),
        ({"availability": ["sagemaker"]}, "bedrock_model_id requires 'bedrock'"),
        ({"availability": []}, "availability"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"id": "Not A Slug"}, "extra_models\\[0\\]: id"),
        ({"eu_ai_act_total": 7}, "must be set together"),
        ({"relative_cost": 5}, "relative_cost"),
    ],
)
def test_invalid_extra_models_are_rejected_with_the_field(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        load_catalog(extra_models=[_extra(**overrides)])


def test_extra_model_eu_reference_must_match_the_grading() -> None:
    wrong = _extra(eu_ai_act_graded_model="Claude", eu_ai_act_total=9)
    with pytest.raises(CatalogError, match="differs from the stated total 7"):
        load_catalog(extra_models=[wrong])
    unknown = _extra(eu_ai_act_graded_model="Gemini", eu_ai_act_total=9)
    with pytest.raises(CatalogError, match="'Gemini' is not graded"):
        load_catalog(extra_models=[unknown])


@pytest.mark.parametrize("instance", ["ml.g5.xlarge", "ml.p4d.24xlarge", "ml.m5.large", "ml.trn1.32xlarge"])
def test_instance_types_accepted(instance: str) -> None:
    FoundationModel.model_validate(_extra(gpu_instance=instance, availability=["bedrock", "sagemaker"]))


@pytest.mark.parametrize("instance", ["g5.xl", "ml.g5.xl", "p4d.24xlarge", "ml.g5.12xlarge "])
def test_instance_types_rejected(instance: str) -> None:
    with pytest.raises(ValidationError):
        FoundationModel.model_validate(_extra(gpu_instance=instance, availability=["bedrock", "sagemaker"]))


def test_get_unknown_id_lists_close_matches(catalog: Catalog) -> None:
    with pytest.raises(KeyError) as info:
        catalog.get("falcon-40b")
    error = info.value
    assert isinstance(error, UnknownModelError)
    assert "tii-falcon-40b-instruct" in error.suggestions
    assert str(error).startswith("unknown model id 'falcon-40b'; did you mean: tii-falcon-40b-instruct")


def test_get_unknown_id_without_matches(catalog: Catalog) -> None:
    with pytest.raises(UnknownModelError) as info:
        catalog.get("zzzz")
    assert str(info.value) == "unknown model id 'zzzz'"


def test_invalid_catalog_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("models: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(broken)
    duplicated = tmp_path / "dup.yaml"
    text = DEFAULT_CATALOG_PATH.read_text(encoding="utf-8")
    duplicated.write_text(text.replace("id: ai21-j2-mid-instruct", "id: ai21-j2-ultra-instruct"), encoding="utf-8")
    with pytest.raises(CatalogError, match="duplicate model ids: ai21-j2-ultra-instruct"):
        load_catalog(duplicated)


def test_catalog_in_json_loads(tmp_path: Path, catalog: Catalog) -> None:
    as_json = tmp_path / "catalog.json"
    as_json.write_text(catalog.model_dump_json(), encoding="utf-8")
    assert load_catalog(as_json) == catalog


def test_schema_file_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "config/fm-catalog.schema.json is stale: run `python -m infra.config.fm_catalog`"
    )


def test_schema_forbids_unknown_keys() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["additionalProperties"] is False
    model = schema["$defs"]["FoundationModel"]
    assert model["additionalProperties"] is False
    assert set(schema["required"]) == {"models", "eu_ai_act"}
