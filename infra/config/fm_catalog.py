"""Typed foundation-model catalog: the seed deck's FM capability matrices and EU AI Act grading.

The data lives in ``config/fm-catalog.yaml``; this module validates it with pydantic, merges
models a user config adds (``extra_models``), answers look-ups with close-match hints, and
writes the catalog's JSON schema to ``config/fm-catalog.schema.json``.

Run ``python -m infra.config.fm_catalog`` to regenerate the schema file.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from infra import REPO_ROOT
from infra.config.base import Strict

DEFAULT_CATALOG_PATH = REPO_ROOT / "config" / "fm-catalog.yaml"
SCHEMA_PATH = REPO_ROOT / "config" / "fm-catalog.schema.json"

MODEL_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
INSTANCE_TYPE_PATTERN = r"^ml\.[a-z][a-z0-9-]*\.(?:[0-9]+x|x)?large$"
BEDROCK_MODEL_ID_PATTERN = r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z0-9][a-z0-9.:-]*$"
REQUIREMENT_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
MAX_RELATIVE_COST = 4
MAX_SPEED = 5

ModelId = Annotated[str, Field(pattern=MODEL_ID_PATTERN, description="Slug, e.g. ai21-j2-ultra-instruct.")]
NonEmptyStr = Annotated[str, Field(min_length=1)]
RelativeCost = Annotated[
    int, Field(ge=1, le=MAX_RELATIVE_COST, description="Relative cost 1-4, the deck's $ .. $$$$.")
]
SpeedRating = Annotated[
    int, Field(ge=1, le=MAX_SPEED, description="Speed rating, the deck's count of lightning bolts.")
]


class CatalogError(ValueError):
    """The catalog, or a model added to it, is invalid."""


class UnknownModelError(KeyError):
    """A model id is not in the catalog; the message lists close matches."""

    def __init__(self, model_id: str, suggestions: Iterable[str]) -> None:
        self.model_id = model_id
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown model id '{model_id}'{hint}")

    def __str__(self) -> str:
        """Return the plain message (KeyError would quote it)."""
        return str(self.args[0])


class Availability(StrEnum):
    """Where a model can be used on AWS (the deck's "Available on AWS" column)."""

    BEDROCK = "bedrock"
    JUMPSTART = "jumpstart"
    SAGEMAKER = "sagemaker"


class ModelSource(StrEnum):
    """Which of the deck's two matrices a model belongs to."""

    PROPRIETARY = "proprietary"
    OPEN_SOURCE = "open-source"


class FoundationModel(Strict):
    """One row of the deck's FM capability matrices (or a model a user config adds)."""

    id: ModelId
    provider: NonEmptyStr
    name: NonEmptyStr
    source: ModelSource
    commercial_use: bool
    parameters_billions: Annotated[float, Field(gt=0)] | None = None
    gpu_instance: Annotated[str, Field(pattern=INSTANCE_TYPE_PATTERN)] | None = Field(
        default=None, description="SageMaker instance type needed to host the model, e.g. ml.g5.12xlarge."
    )
    availability: tuple[Availability, ...] = Field(min_length=1)
    speed: SpeedRating | None = None
    context_window_tokens: Annotated[int, Field(ge=1)] | None = None
    trained_on: tuple[NonEmptyStr, ...] = ()
    fine_tunable: bool
    bedrock_model_id: Annotated[str, Field(pattern=BEDROCK_MODEL_ID_PATTERN)] | None = None
    relative_cost: RelativeCost | None = None
    eu_ai_act_graded_model: NonEmptyStr | None = Field(
        default=None, description="Model column of the EU AI Act grading that stands for this provider."
    )
    eu_ai_act_total: Annotated[int, Field(ge=0, le=48)] | None = None
    notes: tuple[NonEmptyStr, ...] = ()

    @model_validator(mode="after")
    def _check_consistency(self) -> FoundationModel:
        """Reject availability and EU AI Act fields that contradict each other."""
        problems = _availability_problems(self) + _eu_field_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _availability_problems(model: FoundationModel) -> list[str]:
    """Return the availability rules that ``model`` breaks."""
    where = set(model.availability)
    problems = []
    if len(where) != len(model.availability):
        problems.append("availability lists a place twice")
    if Availability.JUMPSTART in where and Availability.SAGEMAKER not in where:
        problems.append("availability 'jumpstart' requires 'sagemaker' (JumpStart models run on SageMaker)")
    if model.gpu_instance and Availability.SAGEMAKER not in where:
        problems.append("gpu_instance is only meaningful for models available on 'sagemaker'")
    if model.bedrock_model_id and Availability.BEDROCK not in where:
        problems.append("bedrock_model_id requires 'bedrock' in availability")
    return problems


def _eu_field_problems(model: FoundationModel) -> list[str]:
    """Return a problem when only one of the two EU AI Act fields is set."""
    if (model.eu_ai_act_graded_model is None) != (model.eu_ai_act_total is None):
        return ["eu_ai_act_graded_model and eu_ai_act_total must be set together"]
    return []


class EuAiActRequirement(Strict):
    """One row of the EU AI Act grading table, with the deck's stated row total."""

    id: Annotated[str, Field(pattern=REQUIREMENT_ID_PATTERN)]
    name: NonEmptyStr
    stated_total: Annotated[int, Field(ge=0)]


class EuAiActGrade(Strict):
    """One provider column of the EU AI Act grading table."""

    provider: NonEmptyStr
    model: NonEmptyStr
    stated_total: Annotated[int, Field(ge=0, le=48)]
    scores: dict[str, Annotated[int, Field(ge=0, le=4)]]

    @property
    def computed_total(self) -> int:
        """Return the sum of this column's cells."""
        return sum(self.scores.values())


class EuAiActGrading(Strict):
    """Stanford CRFM's grading of FM providers against the draft EU AI Act (June 2023)."""

    title: NonEmptyStr
    source: NonEmptyStr
    source_url: Annotated[str, Field(pattern=r"^https://")]
    max_score_per_requirement: Annotated[int, Field(ge=1)]
    requirements: tuple[EuAiActRequirement, ...] = Field(min_length=1)
    grades: tuple[EuAiActGrade, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_table_shape(self) -> EuAiActGrading:
        """Every column scores exactly the listed requirements, within the scale."""
        ids = [r.id for r in self.requirements]
        if len(set(ids)) != len(ids):
            raise ValueError("requirement ids must be unique")
        models = [g.model for g in self.grades]
        if len(set(models)) != len(models):
            raise ValueError("graded model names must be unique")
        for grade in self.grades:
            if set(grade.scores) != set(ids):
                raise ValueError(f"grade for '{grade.model}' must score exactly the requirements {ids}")
            if max(grade.scores.values()) > self.max_score_per_requirement:
                raise ValueError(f"grade for '{grade.model}' exceeds max_score_per_requirement")
        return self

    @property
    def max_total(self) -> int:
        """Return the best possible total of one column (48 for 12 requirements x 4)."""
        return self.max_score_per_requirement * len(self.requirements)

    def grade_for(self, model: str) -> EuAiActGrade:
        """Return the column for a graded model name, e.g. 'PaLM 2'."""
        for grade in self.grades:
            if grade.model == model:
                return grade
        raise UnknownModelError(model, difflib.get_close_matches(model, [g.model for g in self.grades]))

    def row_sum(self, requirement_id: str) -> int:
        """Return the sum of one requirement row's cells."""
        return sum(grade.scores[requirement_id] for grade in self.grades)

    def discrepancies(self) -> list[str]:
        """Describe every row and column whose cells do not add up to the stated total."""
        found = [
            f"row '{req.name}': cells sum to {self.row_sum(req.id)}, stated total {req.stated_total}"
            for req in self.requirements
            if self.row_sum(req.id) != req.stated_total
        ]
        found += [
            f"column '{g.model}': cells sum to {g.computed_total}, stated total {g.stated_total}"
            for g in self.grades
            if g.computed_total != g.stated_total
        ]
        return found


class Catalog(Strict):
    """The whole catalog: models plus the EU AI Act grading they refer to."""

    models: tuple[FoundationModel, ...] = Field(min_length=1)
    eu_ai_act: EuAiActGrading

    @model_validator(mode="after")
    def _check_references(self) -> Catalog:
        """Ids are unique and each model's EU AI Act total matches the graded column."""
        _raise_on_duplicates([m.id for m in self.models])
        for model in self.models:
            _check_eu_reference(model, self.eu_ai_act)
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        """Return every model id in catalog order."""
        return tuple(m.id for m in self.models)

    def get(self, model_id: str) -> FoundationModel:
        """Return the model with ``model_id``; raise ``UnknownModelError`` with close matches."""
        for model in self.models:
            if model.id == model_id:
                return model
        raise UnknownModelError(model_id, suggest_ids(model_id, self.ids))

    def __contains__(self, model_id: object) -> bool:
        """Return whether ``model_id`` is a catalog model id."""
        return model_id in self.ids


def _raise_on_duplicates(ids: list[str]) -> None:
    """Raise ``ValueError`` naming every id that occurs more than once."""
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate model ids: {', '.join(duplicates)}")


def _check_eu_reference(model: FoundationModel, grading: EuAiActGrading) -> None:
    """Raise ``ValueError`` when a model's EU AI Act fields disagree with the grading table."""
    if model.eu_ai_act_graded_model is None:
        return
    graded = {g.model: g for g in grading.grades}
    grade = graded.get(model.eu_ai_act_graded_model)
    if grade is None:
        raise ValueError(
            f"model '{model.id}': eu_ai_act_graded_model '{model.eu_ai_act_graded_model}' is not "
            f"graded; graded models: {', '.join(graded)}"
        )
    if model.eu_ai_act_total != grade.stated_total:
        raise ValueError(
            f"model '{model.id}': eu_ai_act_total {model.eu_ai_act_total} differs from the "
            f"stated total {grade.stated_total} of '{grade.model}'"
        )


def suggest_ids(wanted: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Return up to ``limit`` known ids that contain ``wanted`` or look like it."""
    known = list(known)
    needle = wanted.lower()
    containing = [k for k in known if needle and needle in k.lower()]
    similar = difflib.get_close_matches(needle, known, n=limit, cutoff=0.5)
    return list(dict.fromkeys(containing + similar))[:limit]


def format_validation_error(error: ValidationError, source: str) -> str:
    """Turn a pydantic error into one readable line naming each failing field path."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{where}: {item['msg']}")
    return f"{source}: " + "; ".join(problems)


def _parse_error_detail(exc: json.JSONDecodeError | YAMLError) -> str:
    """Return a short 'problem (line L, column C)' description of a parse error."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def read_data_file(path: Path) -> Any:
    """Read a YAML or JSON file (JSON by ``.json`` suffix); raise ``CatalogError`` if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return YAML(typ="safe", pure=True).load(text)
    except (json.JSONDecodeError, YAMLError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise CatalogError(f"{path} is not valid {kind}: {_parse_error_detail(exc)}") from exc


def _parse_extra_models(extra_models: Iterable[Mapping[str, Any] | FoundationModel]) -> list[FoundationModel]:
    """Validate models a user config adds; raise ``CatalogError`` naming the bad entry."""
    parsed = []
    for index, entry in enumerate(extra_models):
        if isinstance(entry, FoundationModel):
            parsed.append(entry)
            continue
        try:
            parsed.append(FoundationModel.model_validate(entry))
        except ValidationError as exc:
            raise CatalogError(format_validation_error(exc, f"extra_models[{index}]")) from exc
    return parsed


def _reject_duplicate_extras(extras: list[FoundationModel], base_ids: tuple[str, ...], source: Path) -> None:
    """Raise ``CatalogError`` when an added model reuses a catalog id or another added id."""
    seen: set[str] = set()
    for model in extras:
        if model.id in base_ids:
            raise CatalogError(
                f"extra model id '{model.id}' is already in the catalog ({source}); "
                "give the added model a different id"
            )
        if model.id in seen:
            raise CatalogError(f"extra model id '{model.id}' is listed more than once")
        seen.add(model.id)


@functools.lru_cache(maxsize=8)
def _base_catalog(source: Path, mtime_ns: int, size: int) -> Catalog:
    """The catalog file, parsed once per version of the file (a Catalog is immutable)."""
    data = read_data_file(source)
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(format_validation_error(exc, str(source))) from exc


def load_catalog(
    path: str | Path | None = None,
    extra_models: Iterable[Mapping[str, Any] | FoundationModel] | None = None,
) -> Catalog:
    """Load and validate the catalog, appending ``extra_models`` (mappings or models).

    ``path`` defaults to the repository's ``config/fm-catalog.yaml``. Raises ``CatalogError``
    with a readable message when the file or an added model is invalid, or when an added
    model's id is already taken.
    """
    source = Path(path) if path is not None else DEFAULT_CATALOG_PATH
    try:
        stat = source.stat()
    except OSError as exc:
        raise CatalogError(f"cannot read {source}: {exc.strerror or exc}") from exc
    base = _base_catalog(source, stat.st_mtime_ns, stat.st_size)
    extras = _parse_extra_models(extra_models or ())
    if not extras:
        return base
    _reject_duplicate_extras(extras, base.ids, source)
    try:
        return Catalog(models=base.models + tuple(extras), eu_ai_act=base.eu_ai_act)
    except ValidationError as exc:
        raise CatalogError(format_validation_error(exc, "extra_models")) from exc


def catalog_json_schema() -> dict[str, Any]:
    """Return the JSON schema of the catalog file."""
    schema = Catalog.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "FMOps foundation-model catalog (config/fm-catalog.yaml)",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def render_schema() -> str:
    """Return the schema file's exact text."""
    return json.dumps(catalog_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: str | Path | None = None) -> Path:
    """Write the catalog's JSON schema (default ``config/fm-catalog.schema.json``); return the path."""
    target = Path(path) if path is not None else SCHEMA_PATH
    target.write_text(render_schema(), encoding="utf-8")
    return target


if __name__ == "__main__":
    print(f"wrote {write_schema()}")
