"""``fmops select-fm``: load what the command line names, select (``infra/tools/fm_select.py``) and
print the ranking as a table, plain text or JSON; bad input is one line and exit status 2.

``run_select_fm`` is what the command (``infra/cli/tools_cmds.py``) calls.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.config.fm_catalog import CatalogError, load_catalog
from infra.tools.fm_select import (EXIT_BAD_INPUT, EXIT_NOTHING_LEFT, EXIT_OK, PROG, Candidate, CatalogFilter, Priority,
                                   ScoresFile, Selection, SelectionError, load_scores, parse_priorities, select_fm)


@dataclass(frozen=True)
class SelectRequest:
    """What ``fmops select-fm`` was asked: the priorities, the inputs and the filters."""

    priorities: str | None = None  # comma-separated, P0 first
    priority: Sequence[str] = ()  # one priority per item, P0 first
    scores: Path | None = None
    models: str | None = None  # comma-separated ids
    catalog: Path | None = None
    model_filter: CatalogFilter = field(default_factory=CatalogFilter)


def _priority_inputs(request: SelectRequest, scores: ScoresFile | None) -> list[str]:
    """Return the priority names from the command line, else from the scores file."""
    if request.priorities is not None:
        return [request.priorities]
    if request.priority:
        return list(request.priority)
    return [p.value for p in scores.priorities] if scores else []


def _run(request: SelectRequest) -> Selection:
    """Load the inputs named by ``request`` and return the selection."""
    scores = load_scores(request.scores) if request.scores else None
    priorities = parse_priorities(_priority_inputs(request, scores))
    try:
        catalog = load_catalog(request.catalog)
    except CatalogError as exc:
        raise SelectionError("catalog", str(exc)) from exc
    model_ids = [m.strip() for m in request.models.split(",") if m.strip()] if request.models else None
    return select_fm(catalog, priorities, model_ids, scores, request.model_filter)


def _metrics(candidate: Candidate) -> str:
    """Return the candidate's values on one line (its EU AI Act total only where it is graded)."""
    shown = [p for p in Priority if p is not Priority.EU_AI_ACT or candidate.eu_ai_act_total is not None]
    return "  ".join(f"{p} {candidate.display(p)}" for p in shown)


def render_plain(selection: Selection) -> str:
    """Return the selection as plain text."""
    lines = ["Priorities: " + ", ".join(f"P{i} {p}" for i, p in enumerate(selection.priorities))]
    for item in selection.ranking:
        lines.append(f"{item.rank}. {item.candidate.id}  {_metrics(item.candidate)}")
        lines.append(f"   {item.explanation}")
        lines.extend(f"   note: {note}" for note in item.notes)
    if selection.excluded:
        lines.append("Excluded:")
        lines.extend(f"   {e.model_id}: {e.reason}" for e in selection.excluded)
    return "\n".join(lines) + "\n"


def _render_rich(selection: Selection, console: Console) -> None:
    """Print the selection as a rich table."""
    title = "FM selection: " + " > ".join(f"P{i} {p}" for i, p in enumerate(selection.priorities))
    table = Table(title=title, show_lines=True)
    for column in ("#", "Model", "Cost", "Precision", "Speed", "EU AI Act", "Why"):
        table.add_column(column, overflow="fold")
    for item in selection.ranking:
        c = item.candidate
        why = "\n".join((item.explanation, *(f"note: {n}" for n in item.notes)))
        model = c.id if c.name == c.id else f"{c.id}\n{c.name}"
        cells = (str(item.rank), model, *(c.display(p) for p in Priority), why)
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)
    for exclusion in selection.excluded:
        console.print(Text(f"excluded {exclusion.model_id}: {exclusion.reason}"))


def _print_selection(selection: Selection, as_json: bool) -> None:
    """Print the selection as JSON, a rich table (terminal) or plain text."""
    if as_json:
        sys.stdout.write(json.dumps(selection.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif sys.stdout.isatty():
        _render_rich(selection, Console(file=sys.stdout))
    else:
        sys.stdout.write(render_plain(selection))


_OPTION_OF_FIELD: Mapping[str, str] = {
    "priorities": "--priorities/--priority",
    "models": "--models",
    "scores": "--scores",
    "catalog": "--catalog",
    "min-eu-ai-act": "--min-eu-ai-act",
    "min-eu-requirement": "--min-eu-requirement",
}


def _error_message(exc: SelectionError) -> str:
    """Return the stderr line for a bad-input error, naming the command-line option."""
    option = _OPTION_OF_FIELD.get(exc.field)
    return f"{PROG}: error: {option}: {exc.detail}" if option else f"{PROG}: error: {exc.detail}"


def run_select_fm(request: SelectRequest, as_json: bool = False) -> int:
    """Run ``fmops select-fm``: 0 ranked, 1 nothing left after filters, 2 bad input."""
    try:
        selection = _run(request)
    except SelectionError as exc:
        print(_error_message(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    if not selection.ranking:
        print(f"{PROG}: no candidate model is left after the filters", file=sys.stderr)
        for exclusion in selection.excluded:
            print(f"  {exclusion.model_id}: {exclusion.reason}", file=sys.stderr)
        return EXIT_NOTHING_LEFT
    _print_selection(selection, as_json)
    return EXIT_OK
