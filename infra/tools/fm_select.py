"""FM selection by priorities: the seed deck's "Step 3. Select the best FM based on priorities".

Candidates are catalog models (``config/fm-catalog.yaml``) and/or ad-hoc models from an
evaluation-scores file. They are ordered lexicographically over the priorities, P0 first:
lower relative cost is better, a higher evaluation score (precision) is better, a higher speed
rating is better, a higher EU AI Act total (the catalog's grading of the model's provider, the
deck's "EU AI Act grading" table) is better. A model without data for a priority ranks after the
models that have it, and models tied on every priority keep their input order. Each ranked model
gets one line saying why it is where it is.

The grading is also a filter: a minimum total (``--min-eu-ai-act``) and a minimum score per
requirement (``--min-eu-requirement data_governance=3``); an ungraded model fails both, and each
model that passes says by how much in a note.

The command itself, its output and its errors are in ``infra/tools/fm_select_command.py``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from infra.config import Strict
from infra.config.fm_catalog import (
    Availability,
    MAX_RELATIVE_COST,
    MAX_SPEED,
    Catalog,
    CatalogError,
    EuAiActGrading,
    FoundationModel,
    RelativeCost,
    SpeedRating,
    format_validation_error,
    read_data_file,
    suggest_ids,
)

PROG = "fmops select-fm"
EXIT_OK = 0
EXIT_NOTHING_LEFT = 1
EXIT_BAD_INPUT = 2
CANDIDATE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$"


class Priority(StrEnum):
    """A selection criterion of the deck's Step 3."""

    COST = "cost"
    PRECISION = "precision"
    SPEED = "speed"
    EU_AI_ACT = "eu-ai-act"


ALLOWED_PRIORITIES = ", ".join(p.value for p in Priority)
_BEST_WORD = {Priority.COST: "lowest", Priority.PRECISION: "highest", Priority.SPEED: "fastest",
              Priority.EU_AI_ACT: "best graded"}
_MISSING_WHAT = {
    Priority.COST: "no relative cost",
    Priority.PRECISION: "no evaluation score",
    Priority.SPEED: "no speed rating",
    Priority.EU_AI_ACT: "no EU AI Act grade",
}


class SelectionError(ValueError):
    """Bad selection input; ``field`` names the input (priorities, models, scores...)."""

    def __init__(self, field_name: str, detail: str) -> None:
        self.field = field_name
        self.detail = detail
        super().__init__(f"{field_name}: {detail}")


def _symbol_counter(symbol: str, maximum: int) -> Callable[[Any], Any]:
    """Return a pre-validator accepting a number or a run of ``symbol`` (e.g. '$$$' -> 3)."""

    def count(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        stripped = value.replace("\ufe0f", "").strip()
        if stripped and set(stripped) == {symbol}:
            return len(stripped)
        if stripped.isdigit():
            return int(stripped)
        raise ValueError(f"expected a number 1-{maximum} or '{symbol}' repeated 1-{maximum} times, got '{value}'")

    return count


class EvaluationScore(Strict):
    """One model's entry in an evaluation-scores file (Step 2 results feeding Step 3)."""

    score: Annotated[float, Field(ge=0, description="Evaluation score, e.g. 4 (of out_of).")]
    out_of: Annotated[float, Field(gt=0)] = 5
    speed: Annotated[SpeedRating, BeforeValidator(_symbol_counter("⚡", MAX_SPEED))] | None = Field(
        default=None, description="Speed rating 1-5, or the deck's lightning bolts, e.g. '⚡⚡'."
    )
    relative_cost: Annotated[RelativeCost, BeforeValidator(_symbol_counter("$", MAX_RELATIVE_COST))] | None = Field(
        default=None, description="Relative cost 1-4, or the deck's '$' .. '$$$$'."
    )
    feedback: str | None = Field(default=None, description="Human-in-the-loop or LLM-judge feedback summary.")

    @model_validator(mode="after")
    def _score_within_scale(self) -> EvaluationScore:
        """The score cannot exceed its scale."""
        if self.score > self.out_of:
            raise ValueError(f"score {self.score:g} is greater than out_of {self.out_of:g}")
        return self


CandidateId = Annotated[str, Field(pattern=CANDIDATE_ID_PATTERN)]


class ScoresFile(Strict):
    """An evaluation-scores file: per-model scores and, optionally, default priorities."""

    description: str | None = None
    priorities: tuple[Priority, ...] = Field(default=(), description="Default priorities, P0 first.")
    models: dict[CandidateId, EvaluationScore] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_priorities(self) -> ScoresFile:
        """A priority may appear only once."""
        if len(set(self.priorities)) != len(self.priorities):
            raise ValueError("priorities must not repeat")
        return self


@dataclass(frozen=True)
class CatalogFilter:
    """Filters on catalog facts; ad-hoc candidates cannot satisfy an active filter."""

    commercial_only: bool = False
    fine_tunable: bool = False
    available_on: Availability | None = None
    min_context: int | None = None
    min_eu_ai_act: int | None = None
    min_eu_requirements: Mapping[str, int] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Return whether any filter is set."""
        return (
            self.commercial_only
            or self.fine_tunable
            or self.available_on is not None
            or self.min_context is not None
            or self.filters_eu_ai_act
        )

    @property
    def filters_eu_ai_act(self) -> bool:
        """Return whether a filter on the EU AI Act grading is set."""
        return self.min_eu_ai_act is not None or bool(self.min_eu_requirements)

    def check(self, grading: EuAiActGrading) -> None:
        """Raise :class:`SelectionError` for an EU AI Act threshold the grading cannot meet or name."""
        if self.min_eu_ai_act is not None and not 0 <= self.min_eu_ai_act <= grading.max_total:
            raise SelectionError("min-eu-ai-act", f"{self.min_eu_ai_act} is outside the grading's 0-"
                                 f"{grading.max_total}; give a total between them")
        known = [r.id for r in grading.requirements]
        for requirement, minimum in self.min_eu_requirements.items():
            if requirement not in known:
                hints = difflib.get_close_matches(requirement, known, n=1)
                hint = f"did you mean {', '.join(hints)}? " if hints else ""
                raise SelectionError("min-eu-requirement", f"unknown requirement '{requirement}'; {hint}"
                                     f"requirements: {', '.join(known)}")
            if not 0 <= minimum <= grading.max_score_per_requirement:
                raise SelectionError("min-eu-requirement", f"{requirement}={minimum} is outside the grading's 0-"
                                     f"{grading.max_score_per_requirement}; give a score between them")

    def rejection(self, model: FoundationModel, grading: EuAiActGrading | None = None) -> str | None:
        """Return why ``model`` fails the filters, or None when it passes (``grading``: the
        catalog's, needed by the per-requirement filter)."""
        if self.commercial_only and not model.commercial_use:
            return "not usable commercially (--commercial-only)"
        if self.fine_tunable and not model.fine_tunable:
            return "not fine-tunable (--fine-tunable)"
        if self.available_on is not None and self.available_on not in model.availability:
            where = ", ".join(model.availability)
            return f"not available on {self.available_on} (available on: {where})"
        return self._context_rejection(model) or self._eu_ai_act_rejection(model, grading)

    def _eu_ai_act_rejection(self, model: FoundationModel, grading: EuAiActGrading | None) -> str | None:
        """Return why ``model`` fails the EU AI Act filters, or None."""
        if not self.filters_eu_ai_act:
            return None
        if grading is None:
            raise ValueError("the EU AI Act filters need the catalog's grading")
        if model.eu_ai_act_graded_model is None or model.eu_ai_act_total is None:
            return f"{model.provider} is not graded against the EU AI Act ({self._eu_options()})"
        if self.min_eu_ai_act is not None and model.eu_ai_act_total < self.min_eu_ai_act:
            return (f"EU AI Act total {model.eu_ai_act_total}/{grading.max_total} < {self.min_eu_ai_act} "
                    f"(--min-eu-ai-act; graded as {model.eu_ai_act_graded_model})")
        if self.min_eu_requirements:
            scores = grading.grade_for(model.eu_ai_act_graded_model).scores
            for requirement, minimum in self.min_eu_requirements.items():
                if scores[requirement] < minimum:
                    return (f"EU AI Act {requirement} {scores[requirement]}/{grading.max_score_per_requirement} "
                            f"< {minimum} (--min-eu-requirement; graded as {model.eu_ai_act_graded_model})")
        return None

    def _eu_options(self) -> str:
        options = ["--min-eu-ai-act"] if self.min_eu_ai_act is not None else []
        return ", ".join(options + (["--min-eu-requirement"] if self.min_eu_requirements else []))

    def eu_ai_act_note(self, candidate: Candidate) -> str | None:
        """Return how a candidate that passed the EU AI Act filters meets them, or None."""
        if not self.filters_eu_ai_act or candidate.eu_ai_act_total is None:
            return None
        parts = []
        if self.min_eu_ai_act is not None:
            parts.append(f"total {candidate.display(Priority.EU_AI_ACT)} >= {self.min_eu_ai_act}")
        parts += [f"{requirement} {dict(candidate.eu_ai_act_scores)[requirement]} >= {minimum}"
                  for requirement, minimum in self.min_eu_requirements.items()]
        return f"EU AI Act (graded as {candidate.eu_ai_act_graded_as}): " + ", ".join(parts)

    def _context_rejection(self, model: FoundationModel) -> str | None:
        """Return why ``model`` fails ``min_context``, or None."""
        if self.min_context is None:
            return None
        if model.context_window_tokens is None:
            return f"context window unknown (--min-context {self.min_context})"
        if model.context_window_tokens < self.min_context:
            return f"context window {model.context_window_tokens} tokens < {self.min_context} (--min-context)"
        return None


@dataclass(frozen=True)
class Candidate:
    """A model being ranked, with the data each priority looks at."""

    id: str
    name: str
    in_catalog: bool
    score: float | None = None
    out_of: float | None = None
    speed: int | None = None
    relative_cost: int | None = None
    feedback: str | None = None
    eu_ai_act_graded_as: str | None = None
    eu_ai_act_total: int | None = None
    eu_ai_act_out_of: int | None = None
    eu_ai_act_scores: tuple[tuple[str, int], ...] = ()

    def value(self, priority: Priority) -> float | None:
        """Return the raw value for ``priority`` (precision is the score as a fraction)."""
        if priority is Priority.COST:
            return self.relative_cost
        if priority is Priority.SPEED:
            return self.speed
        if priority is Priority.EU_AI_ACT:
            return self.eu_ai_act_total
        if self.score is None or not self.out_of:
            return None
        return self.score / self.out_of

    def display(self, priority: Priority) -> str:
        """Return the value in the deck's notation ($$, 4/5, ⚡⚡) or 'n/a'."""
        if self.value(priority) is None:
            return "n/a"
        if priority is Priority.COST:
            return "$" * int(self.relative_cost or 0)
        if priority is Priority.SPEED:
            return "⚡" * int(self.speed or 0)
        if priority is Priority.EU_AI_ACT:
            return f"{self.eu_ai_act_total}/{self.eu_ai_act_out_of}"
        return f"{self.score:g}/{self.out_of:g}"

    def sort_key(self, priority: Priority) -> tuple[bool, float]:
        """Return an ascending key: models with data first, then the better value first."""
        value = self.value(priority)
        if value is None:
            return (True, 0.0)
        return (False, value if priority is Priority.COST else -value)


@dataclass(frozen=True)
class Exclusion:
    """A model left out of the ranking, and why."""

    model_id: str
    reason: str


@dataclass(frozen=True)
class RankedModel:
    """One line of the result: rank, candidate, explanation and notes."""

    rank: int
    candidate: Candidate
    explanation: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selection:
    """The ordered result of a selection."""

    priorities: tuple[Priority, ...]
    ranking: tuple[RankedModel, ...]
    excluded: tuple[Exclusion, ...] = field(default=())

    @property
    def chosen(self) -> Candidate | None:
        """Return the best candidate, or None when nothing was left to rank."""
        return self.ranking[0].candidate if self.ranking else None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready view of the selection."""
        return {
            "priorities": [f"P{i} {p}" for i, p in enumerate(self.priorities)],
            "chosen": self.chosen.id if self.chosen else None,
            "ranking": [_ranked_to_dict(item) for item in self.ranking],
            "excluded": [{"id": e.model_id, "reason": e.reason} for e in self.excluded],
        }


def _ranked_to_dict(item: RankedModel) -> dict[str, Any]:
    """Return a JSON-ready view of one ranked model."""
    c = item.candidate
    return {
        "rank": item.rank,
        "id": c.id,
        "name": c.name,
        "in_catalog": c.in_catalog,
        "score": c.score,
        "out_of": c.out_of,
        "speed": c.speed,
        "relative_cost": c.relative_cost,
        "feedback": c.feedback,
        "eu_ai_act": None if c.eu_ai_act_total is None else {
            "graded_as": c.eu_ai_act_graded_as, "total": c.eu_ai_act_total, "out_of": c.eu_ai_act_out_of,
            "scores": dict(c.eu_ai_act_scores)},
        "explanation": item.explanation,
        "notes": list(item.notes),
    }


def parse_priorities(values: Sequence[str]) -> tuple[Priority, ...]:
    """Parse priorities, P0 first, from items that may hold comma-separated names."""
    names = [part.strip().lower() for value in values for part in value.split(",") if part.strip()]
    if not names:
        raise SelectionError("priorities", f"no priority given; allowed: {ALLOWED_PRIORITIES} (P0 first)")
    parsed: list[Priority] = []
    for name in names:
        if name not in Priority._value2member_map_:
            raise SelectionError("priorities", f"unknown priority '{name}'; allowed: {ALLOWED_PRIORITIES}")
        if Priority(name) in parsed:
            raise SelectionError("priorities", f"priority '{name}' is listed twice")
        parsed.append(Priority(name))
    return tuple(parsed)


def load_scores(path: str | Path) -> ScoresFile:
    """Load and validate an evaluation-scores file (YAML, or JSON by ``.json`` suffix)."""
    source = Path(path)
    try:
        data = read_data_file(source)
    except CatalogError as exc:
        raise SelectionError("scores", str(exc)) from exc
    try:
        return ScoresFile.model_validate(data)
    except ValidationError as exc:
        raise SelectionError("scores", format_validation_error(exc, str(source))) from exc


def _catalog_candidate(model: FoundationModel, entry: EvaluationScore | None, grading: EuAiActGrading) -> Candidate:
    """Build a candidate from a catalog model, preferring evaluation data where given; its EU AI
    Act grade is its provider's column of the catalog's grading."""
    graded = {}
    if model.eu_ai_act_graded_model is not None:
        grade = grading.grade_for(model.eu_ai_act_graded_model)
        graded = {"eu_ai_act_graded_as": grade.model, "eu_ai_act_total": grade.stated_total,
                  "eu_ai_act_out_of": grading.max_total,
                  "eu_ai_act_scores": tuple((r.id, grade.scores[r.id]) for r in grading.requirements)}
    return Candidate(
        id=model.id,
        name=f"{model.name} ({model.provider})",
        in_catalog=True,
        score=entry.score if entry else None,
        out_of=entry.out_of if entry else None,
        speed=entry.speed if entry and entry.speed is not None else model.speed,
        relative_cost=entry.relative_cost if entry and entry.relative_cost is not None else model.relative_cost,
        feedback=entry.feedback if entry else None,
        **graded,
    )


def _adhoc_candidate(model_id: str, entry: EvaluationScore) -> Candidate:
    """Build a candidate that exists only in the scores file."""
    return Candidate(
        id=model_id,
        name=model_id,
        in_catalog=False,
        score=entry.score,
        out_of=entry.out_of,
        speed=entry.speed,
        relative_cost=entry.relative_cost,
        feedback=entry.feedback,
    )


def _candidate_ids(catalog: Catalog, model_ids: Sequence[str] | None, scores: ScoresFile | None) -> list[str]:
    """Return the ids to consider, checking that each one is known."""
    if not model_ids:
        return list(scores.models) if scores else list(catalog.ids)
    known = list(catalog.ids) + (list(scores.models) if scores else [])
    seen: set[str] = set()
    for model_id in model_ids:
        if model_id in seen:
            raise SelectionError("models", f"model id '{model_id}' is listed twice")
        seen.add(model_id)
        if model_id not in known:
            hints = suggest_ids(model_id, known)
            hint = f"; did you mean: {', '.join(hints)}?" if hints else ""
            raise SelectionError(
                "models", f"unknown model id '{model_id}': not in the catalog nor in the scores file{hint}"
            )
    return list(model_ids)


def build_candidates(
    catalog: Catalog,
    model_ids: Sequence[str] | None = None,
    scores: ScoresFile | None = None,
    model_filter: CatalogFilter | None = None,
) -> tuple[list[Candidate], list[Exclusion]]:
    """Return the candidates to rank and the models the filters left out.

    Without ``model_ids`` the candidates are the scores file's models, or else the whole
    catalog. Ids found in the catalog are catalog candidates (scores-file data wins over
    catalog data); other ids must be in the scores file.
    """
    model_filter = model_filter or CatalogFilter()
    model_filter.check(catalog.eu_ai_act)
    entries = scores.models if scores else {}
    candidates: list[Candidate] = []
    excluded: list[Exclusion] = []
    for model_id in _candidate_ids(catalog, model_ids, scores):
        if model_id not in catalog:
            if model_filter.active:
                excluded.append(Exclusion(model_id, "not in the catalog, so the filters cannot be checked"))
            else:
                candidates.append(_adhoc_candidate(model_id, entries[model_id]))
            continue
        model = catalog.get(model_id)
        reason = model_filter.rejection(model, catalog.eu_ai_act)
        if reason:
            excluded.append(Exclusion(model_id, reason))
        else:
            candidates.append(_catalog_candidate(model, entries.get(model_id), catalog.eu_ai_act))
    return candidates, excluded


def _ordering_key(candidate: Candidate, priorities: Sequence[Priority]) -> tuple[tuple[bool, float], ...]:
    """Return the lexicographic key of ``candidate`` over ``priorities``."""
    return tuple(candidate.sort_key(p) for p in priorities)


def _deciding_priority(first: Candidate, second: Candidate, priorities: Sequence[Priority]) -> int | None:
    """Return the index of the first priority where the two differ, or None if tied on all."""
    for index, priority in enumerate(priorities):
        if first.sort_key(priority) != second.sort_key(priority):
            return index
    return None


def _listing(candidates: Sequence[Candidate], priority: Priority) -> str:
    """Return 'FM1 $$$$, FM3 $$$' for ``candidates`` at ``priority``."""
    return ", ".join(f"{c.id} {c.display(priority)}" for c in candidates)


def _winner_step(
    winner: Candidate, remaining: list[Candidate], everyone: int, index: int, priority: Priority
) -> tuple[str, list[Candidate]]:
    """Explain one priority step for the winner; return the text and the rivals still tied."""
    key = winner.sort_key(priority)
    beaten = [c for c in remaining if c.sort_key(priority) != key]
    tied = [c for c in remaining if c.sort_key(priority) == key]
    label = f"P{index} {priority} {winner.display(priority)}"
    if beaten and not tied and len(remaining) == everyone:
        return f"{label} is the {_BEST_WORD[priority]} ({_listing(beaten, priority)})", tied
    pieces = []
    if tied:
        pieces.append(f"ties with {_listing(tied, priority)}")
    if beaten:
        pieces.append(f"beats {_listing(beaten, priority)}")
    return f"{label} {' and '.join(pieces)}", tied


def _explain_winner(winner: Candidate, others: Sequence[Candidate], priorities: Sequence[Priority]) -> str:
    """Explain why ``winner`` ranks first, walking the priorities in order."""
    if not others:
        return f"{winner.id} chosen: the only candidate"
    remaining = list(others)
    steps = []
    for index, priority in enumerate(priorities):
        if not remaining:
            break
        text, remaining = _winner_step(winner, remaining, len(others), index, priority)
        steps.append(text)
    if remaining:
        steps.append(f"tied with {', '.join(c.id for c in remaining)} on every priority; input order kept")
    return f"{winner.id} chosen: " + "; ".join(steps)


def _relation(word: str, me: Candidate, other: Candidate, priorities: Sequence[Priority]) -> str:
    """Return 'behind FM2 on P0 cost ($$$ vs $)' or the tie wording."""
    index = _deciding_priority(me, other, priorities)
    if index is None:
        return f"tied with {other.id} on every priority; input order kept"
    priority = priorities[index]
    return f"{word} {other.id} on P{index} {priority} ({me.display(priority)} vs {other.display(priority)})"


def _explain_follower(
    rank: int, me: Candidate, above: Candidate, below: Candidate | None, priorities: Sequence[Priority]
) -> str:
    """Explain a non-winning position against its neighbours."""
    parts = [_relation("behind", me, above, priorities)]
    if below is not None:
        parts.append(_relation("ahead of", me, below, priorities))
    return f"{me.id} ranked #{rank}: " + "; ".join(parts)


def _missing_notes(candidate: Candidate, priorities: Sequence[Priority]) -> tuple[str, ...]:
    """Return a note for every priority the candidate has no data for."""
    return tuple(
        f"{_MISSING_WHAT[p]} for P{i} {p}: ranked after models that have one"
        for i, p in enumerate(priorities)
        if candidate.value(p) is None
    )


def rank_candidates(
    candidates: Sequence[Candidate], priorities: Sequence[Priority], excluded: Sequence[Exclusion] = (),
    model_filter: CatalogFilter | None = None,
) -> Selection:
    """Order ``candidates`` lexicographically over ``priorities`` and explain each position (with
    how each meets ``model_filter``'s EU AI Act thresholds)."""
    model_filter = model_filter or CatalogFilter()
    if not priorities:
        raise SelectionError("priorities", f"no priority given; allowed: {ALLOWED_PRIORITIES} (P0 first)")
    ordered = sorted(candidates, key=lambda c: _ordering_key(c, priorities))
    ranking = []
    for position, candidate in enumerate(ordered):
        if position == 0:
            others = [c for c in candidates if c is not candidate]
            explanation = _explain_winner(candidate, others, priorities)
        else:
            below = ordered[position + 1] if position + 1 < len(ordered) else None
            explanation = _explain_follower(position + 1, candidate, ordered[position - 1], below, priorities)
        passed = model_filter.eu_ai_act_note(candidate)
        notes = _missing_notes(candidate, priorities) + ((passed,) if passed else ())
        ranking.append(RankedModel(position + 1, candidate, explanation, notes))
    return Selection(tuple(priorities), tuple(ranking), tuple(excluded))


def select_fm(
    catalog: Catalog,
    priorities: Sequence[Priority | str],
    model_ids: Sequence[str] | None = None,
    scores: ScoresFile | None = None,
    model_filter: CatalogFilter | None = None,
) -> Selection:
    """Build the candidates, apply the filters and rank them by ``priorities`` (P0 first)."""
    parsed = parse_priorities([str(p) for p in priorities])
    candidates, excluded = build_candidates(catalog, model_ids, scores, model_filter)
    return rank_candidates(candidates, parsed, excluded, model_filter)
