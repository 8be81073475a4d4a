"""Tests for FM selection by priorities (infra/tools/fm_select.py), the seed deck's Step 3."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from infra.cli import main as fmops
from infra.config.fm_catalog import REPO_ROOT, Availability, Catalog, load_catalog
from infra.tools.fm_select import (
    Candidate,
    CatalogFilter,
    Priority,
    ScoresFile,
    SelectionError,
    load_scores,
    parse_priorities,
    rank_candidates,
    select_fm,
)

DECK_EXAMPLE = REPO_ROOT / "config" / "examples" / "fm-selection-deck-example.yaml"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The repository's catalog."""
    return load_catalog()


@pytest.fixture(scope="module")
def deck_scores() -> ScoresFile:
    """The deck's Step 3 example: FM1, FM2, FM3."""
    return load_scores(DECK_EXAMPLE)


def _order(catalog: Catalog, scores: ScoresFile, priorities: str) -> list[str]:
    """Return the ranked ids for comma-separated ``priorities``."""
    selection = select_fm(catalog, priorities.split(","), scores=scores)
    return [item.candidate.id for item in selection.ranking]


def _write_scores(tmp_path: Path, data: object, name: str = "scores.yaml") -> Path:
    """Write a scores file (JSON text is valid YAML too) and return its path."""
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- the deck's example -------------------------------------------------------------------


def test_deck_example_file_matches_the_deck(deck_scores: ScoresFile) -> None:
    models = deck_scores.models
    assert list(models) == ["FM1", "FM2", "FM3"]
    assert [(m.speed, m.score, m.out_of, m.relative_cost) for m in models.values()] == [
        (2, 5, 5, 4),
        (1, 4, 5, 1),
        (1, 3, 5, 3),
    ]
    assert deck_scores.priorities == (Priority.COST, Priority.PRECISION)


def test_deck_example_p0_cost_p1_precision_picks_fm2(catalog: Catalog, deck_scores: ScoresFile) -> None:
    selection = select_fm(catalog, ["cost", "precision"], scores=deck_scores)
    assert selection.chosen is not None and selection.chosen.id == "FM2"
    assert [item.candidate.id for item in selection.ranking] == ["FM2", "FM3", "FM1"]
    assert selection.ranking[0].explanation == "FM2 chosen: P0 cost $ is the lowest (FM1 $$$$, FM3 $$$)"
    assert selection.ranking[1].explanation == (
        "FM3 ranked #2: behind FM2 on P0 cost ($$$ vs $); ahead of FM1 on P0 cost ($$$ vs $$$$)"
    )
    assert selection.ranking[2].explanation == "FM1 ranked #3: behind FM3 on P0 cost ($$$$ vs $$$)"


def test_precision_first_picks_fm1(catalog: Catalog, deck_scores: ScoresFile) -> None:
    assert _order(catalog, deck_scores, "precision,cost") == ["FM1", "FM2", "FM3"]
    selection = select_fm(catalog, [Priority.PRECISION], scores=deck_scores)
    assert selection.ranking[0].explanation == "FM1 chosen: P0 precision 5/5 is the highest (FM2 4/5, FM3 3/5)"


def test_speed_first_picks_fm1_and_keeps_input_order_on_ties(catalog: Catalog, deck_scores: ScoresFile) -> None:
    selection = select_fm(catalog, ["speed"], scores=deck_scores)
    assert [item.candidate.id for item in selection.ranking] == ["FM1", "FM2", "FM3"]
    assert selection.ranking[0].explanation == "FM1 chosen: P0 speed ⚡⚡ is the fastest (FM2 ⚡, FM3 ⚡)"
    assert "tied with FM3 on every priority; input order kept" in selection.ranking[1].explanation


def test_speed_then_cost_breaks_the_speed_tie_on_cost(catalog: Catalog, deck_scores: ScoresFile) -> None:
    selection = select_fm(catalog, ["speed", "cost"], scores=deck_scores)
    assert [item.candidate.id for item in selection.ranking] == ["FM1", "FM2", "FM3"]
    assert selection.ranking[1].explanation == (
        "FM2 ranked #2: behind FM1 on P0 speed (⚡ vs ⚡⚡); ahead of FM3 on P1 cost ($ vs $$$)"
    )


def test_speed_then_precision(catalog: Catalog, deck_scores: ScoresFile) -> None:
    assert _order(catalog, deck_scores, "speed,precision") == ["FM1", "FM2", "FM3"]
    assert _order(catalog, deck_scores, "cost,speed") == ["FM2", "FM3", "FM1"]


def test_later_priorities_only_break_ties() -> None:
    cheap_slow = Candidate("A", "A", False, score=3, out_of=5, speed=1, relative_cost=1)
    cheap_fast = Candidate("B", "B", False, score=2, out_of=5, speed=3, relative_cost=1)
    dear_best = Candidate("C", "C", False, score=5, out_of=5, speed=5, relative_cost=2)
    selection = rank_candidates([cheap_slow, cheap_fast, dear_best], [Priority.COST, Priority.SPEED])
    assert [item.candidate.id for item in selection.ranking] == ["B", "A", "C"]
    assert selection.ranking[0].explanation == (
        "B chosen: P0 cost $ ties with A $ and beats C $$; P1 speed ⚡⚡⚡ beats A ⚡"
    )


def test_full_tie_is_reported() -> None:
    twins = [Candidate(i, i, False, score=4, out_of=5, relative_cost=2) for i in ("X", "Y")]
    selection = rank_candidates(twins, [Priority.COST, Priority.PRECISION])
    assert [item.candidate.id for item in selection.ranking] == ["X", "Y"]
    assert selection.ranking[0].explanation.endswith("tied with Y on every priority; input order kept")


def test_scores_on_different_scales_compare_as_fractions() -> None:
    tenths = Candidate("T", "T", False, score=9, out_of=10)
    fifths = Candidate("F", "F", False, score=4, out_of=5)
    selection = rank_candidates([fifths, tenths], [Priority.PRECISION])
    assert selection.chosen == tenths
    assert selection.ranking[0].explanation == "T chosen: P0 precision 9/10 is the highest (F 4/5)"


def test_single_candidate() -> None:
    only = Candidate("solo", "solo", False, score=1, out_of=5)
    assert rank_candidates([only], [Priority.COST]).ranking[0].explanation == "solo chosen: the only candidate"


# --- missing data -------------------------------------------------------------------------


def test_missing_data_ranks_last_with_a_note(catalog: Catalog, tmp_path: Path) -> None:
    path = _write_scores(
        tmp_path,
        {
            "models": {
                "no-cost": {"score": 5, "speed": 3},
                "cheap": {"score": 2, "relative_cost": 2},
                "dear": {"score": 3, "relative_cost": 4},
            }
        },
    )
    selection = select_fm(catalog, ["cost", "precision"], scores=load_scores(path))
    assert [item.candidate.id for item in selection.ranking] == ["cheap", "dear", "no-cost"]
    last = selection.ranking[-1]
    assert last.notes == ("no relative cost for P0 cost: ranked after models that have one",)
    assert last.explanation == "no-cost ranked #3: behind dear on P0 cost (n/a vs $$$$)"
    assert selection.ranking[0].notes == ()


def test_catalog_models_without_scores_rank_after_scored_ones(catalog: Catalog, tmp_path: Path) -> None:
    path = _write_scores(tmp_path, {"models": {"tii-falcon-7b-instruct": {"score": 2}}})
    selection = select_fm(
        catalog,
        ["precision", "cost"],
        model_ids=["tii-falcon-40b-instruct", "tii-falcon-7b-instruct"],
        scores=load_scores(path),
    )
    assert [item.candidate.id for item in selection.ranking] == ["tii-falcon-7b-instruct", "tii-falcon-40b-instruct"]
    assert "no evaluation score for P0 precision" in selection.ranking[1].notes[0]


def test_scores_file_data_overrides_catalog_data(catalog: Catalog, tmp_path: Path) -> None:
    path = _write_scores(
        tmp_path, {"models": {"meta-llama-65b": {"score": 4, "relative_cost": 1}, "eleutherai-gpt-j": {"score": 2}}}
    )
    selection = select_fm(catalog, ["cost"], scores=load_scores(path))
    llama, gptj = (item.candidate for item in selection.ranking)
    assert (llama.id, llama.relative_cost, llama.in_catalog) == ("meta-llama-65b", 1, True)
    assert (gptj.id, gptj.relative_cost) == ("eleutherai-gpt-j", 1)  # from the catalog
    assert llama.name == "Llama-65B (Meta)"


def test_deck_notation_is_accepted_in_scores_files(tmp_path: Path) -> None:
    path = _write_scores(tmp_path, {"models": {"FMx": {"score": 3, "speed": "⚡⚡", "relative_cost": "$$$"}}})
    entry = load_scores(path).models["FMx"]
    assert (entry.speed, entry.relative_cost) == (2, 3)


def test_json_scores_file(tmp_path: Path) -> None:
    path = _write_scores(tmp_path, {"models": {"FMx": {"score": 9, "out_of": 10}}}, name="scores.json")
    assert load_scores(path).models["FMx"].out_of == 10


# --- filters ------------------------------------------------------------------------------


def _ids(catalog: Catalog, model_filter: CatalogFilter) -> set[str]:
    """Return the catalog ids left by ``model_filter``."""
    selection = select_fm(catalog, ["cost"], model_filter=model_filter)
    return {item.candidate.id for item in selection.ranking}


def test_commercial_only_filter(catalog: Catalog) -> None:
    kept = _ids(catalog, CatalogFilter(commercial_only=True))
    assert len(kept) == 17
    assert not kept & {"lmsys-vicuna-13b", "meta-llama-65b"}


def test_fine_tunable_filter(catalog: Catalog) -> None:
    kept = _ids(catalog, CatalogFilter(fine_tunable=True))
    assert kept == {m.id for m in catalog.models if m.source == "open-source"}


def test_available_on_bedrock_filter(catalog: Catalog) -> None:
    kept = _ids(catalog, CatalogFilter(available_on=Availability.BEDROCK))
    assert kept == {
        "ai21-j2-ultra-instruct",
        "ai21-j2-mid-instruct",
        "amazon-titan-text-large",
        "anthropic-claude",
        "stabilityai-sdxl",
    }


def test_min_context_filter_excludes_unknown_windows(catalog: Catalog) -> None:
    selection = select_fm(catalog, ["cost"], model_filter=CatalogFilter(min_context=8192))
    kept = {item.candidate.id for item in selection.ranking}
    assert kept == {
        "ai21-j2-ultra-instruct",
        "ai21-j2-mid-instruct",
        "ai21-summarize",
        "anthropic-claude",
        "bigcode-starcoder",
    }
    reasons = {e.model_id: e.reason for e in selection.excluded}
    assert reasons["lighton-lyra-fr-10b"] == "context window unknown (--min-context 8192)"
    assert reasons["tii-falcon-40b-instruct"] == "context window 2048 tokens < 8192 (--min-context)"


def test_filters_exclude_ad_hoc_candidates(catalog: Catalog, deck_scores: ScoresFile) -> None:
    selection = select_fm(catalog, ["cost"], scores=deck_scores, model_filter=CatalogFilter(commercial_only=True))
    assert selection.ranking == ()
    assert selection.chosen is None
    assert {e.model_id for e in selection.excluded} == {"FM1", "FM2", "FM3"}


def test_combined_filters(catalog: Catalog) -> None:
    model_filter = CatalogFilter(
        commercial_only=True, fine_tunable=True, available_on=Availability.JUMPSTART, min_context=2048
    )
    assert _ids(catalog, model_filter) == {"google-flan-ul2", "tii-falcon-40b-instruct", "tii-falcon-7b-instruct"}


# --- the EU AI Act grading -----------------------------------------------------------------


def _grade(catalog: Catalog, model_id: str) -> tuple[int | None, dict[str, int]]:
    """The catalog's grading of a model's provider: (total, requirement -> score), read from the table."""
    model = catalog.get(model_id)
    if model.eu_ai_act_graded_model is None:
        return None, {}
    grade = catalog.eu_ai_act.grade_for(model.eu_ai_act_graded_model)
    return grade.stated_total, dict(grade.scores)


def test_eu_ai_act_priority_orders_by_the_providers_total(catalog: Catalog) -> None:
    selection = select_fm(catalog, ["eu-ai-act"])
    graded = [item.candidate.id for item in selection.ranking if _grade(catalog, item.candidate.id)[0] is not None]
    totals = [_grade(catalog, model_id)[0] for model_id in graded]
    assert totals == sorted(totals, reverse=True) and len(set(totals)) > 2
    ungraded = [item.candidate.id for item in selection.ranking][len(graded):]
    assert ungraded and all(_grade(catalog, m)[0] is None for m in ungraded)  # after every graded model
    first = selection.ranking[0]
    assert first.explanation.startswith(f"{first.candidate.id} chosen: P0 eu-ai-act {totals[0]}/48 is the best graded")
    last = selection.ranking[-1]
    assert "no EU AI Act grade for P0 eu-ai-act: ranked after models that have one" in last.notes


def test_eu_ai_act_breaks_a_cost_tie(catalog: Catalog) -> None:
    """meta-llama-65b and another $$$ model: the better-graded provider wins the tie on cost."""
    ties = [m.id for m in catalog.models if m.relative_cost == 1 and m.eu_ai_act_total is not None]
    assert len({catalog.get(m).eu_ai_act_total for m in ties}) > 1
    selection = select_fm(catalog, ["cost", "eu-ai-act"], model_ids=ties)
    best = max(ties, key=lambda m: (catalog.get(m).eu_ai_act_total, -ties.index(m)))
    assert selection.chosen.id == best
    assert "P1 eu-ai-act" in selection.ranking[0].explanation


def test_min_eu_ai_act_total_filter(catalog: Catalog) -> None:
    selection = select_fm(catalog, ["cost"], model_filter=CatalogFilter(min_eu_ai_act=25))
    kept = {item.candidate.id for item in selection.ranking}
    assert kept == {m.id for m in catalog.models if (m.eu_ai_act_total or -1) >= 25}
    reasons = {e.model_id: e.reason for e in selection.excluded}
    assert reasons["anthropic-claude"] == "EU AI Act total 7/48 < 25 (--min-eu-ai-act; graded as Claude)"
    assert reasons["amazon-titan-text-large"] == "Amazon is not graded against the EU AI Act (--min-eu-ai-act)"
    for item in selection.ranking:  # the explanation says how each kept model meets it
        total = _grade(catalog, item.candidate.id)[0]
        assert any(note.endswith(f"total {total}/48 >= 25") for note in item.notes)


def test_min_eu_requirement_filter_reads_each_requirement(catalog: Catalog) -> None:
    """A per-requirement minimum keeps exactly the models whose provider's cell meets it, whatever its total."""
    wanted = {"compute": 4, "energy": 3}
    selection = select_fm(catalog, ["cost"], model_filter=CatalogFilter(min_eu_requirements=wanted))
    kept = {item.candidate.id for item in selection.ranking}
    expected = {m.id for m in catalog.models
                if _grade(catalog, m.id)[0] is not None
                and all(_grade(catalog, m.id)[1][r] >= v for r, v in wanted.items())}
    assert kept == expected and kept
    lowest_kept = min(_grade(catalog, k)[0] for k in kept)
    better_total_excluded = {m.id for m in catalog.models if (m.eu_ai_act_total or -1) > lowest_kept} - kept
    assert better_total_excluded  # a per-requirement filter, not a total threshold in disguise
    failed = [e for e in selection.excluded if "--min-eu-requirement" in e.reason and "not graded" not in e.reason]
    assert failed and all(e.reason.startswith(("EU AI Act compute", "EU AI Act energy")) for e in failed)


@pytest.mark.parametrize(("model_filter", "message"), [
    (CatalogFilter(min_eu_ai_act=49), "min-eu-ai-act: 49 is outside the grading's 0-48"),
    (CatalogFilter(min_eu_requirements={"data_governanc": 2}),
     "min-eu-requirement: unknown requirement 'data_governanc'; did you mean data_governance?"),
    (CatalogFilter(min_eu_requirements={"energy": 5}), "min-eu-requirement: energy=5 is outside the grading's 0-4"),
])
def test_bad_eu_ai_act_thresholds_are_refused(catalog: Catalog, model_filter: CatalogFilter, message: str) -> None:
    with pytest.raises(SelectionError, match=re.escape(message)):
        select_fm(catalog, ["cost"], model_filter=model_filter)


def test_cli_eu_ai_act_filters_and_json(capsys: pytest.CaptureFixture[str], catalog: Catalog) -> None:
    code, out, _ = _run(capsys, "--priorities", "eu-ai-act,cost", "--min-eu-ai-act", "20",
                        "--min-eu-requirement", "data_governance=3", "--json")
    assert code == 0
    result = json.loads(out)
    for row in result["ranking"]:
        total, scores = _grade(catalog, row["id"])
        assert row["eu_ai_act"]["total"] == total >= 20 and row["eu_ai_act"]["scores"] == scores
        assert scores["data_governance"] >= 3
    code, _, err = _run(capsys, "--priorities", "cost", "--min-eu-requirement", "energy")
    assert code == 2 and "--min-eu-requirement: expected REQUIREMENT=SCORE" in err


# --- input errors -------------------------------------------------------------------------


def test_parse_priorities() -> None:
    assert parse_priorities(["cost,precision"]) == (Priority.COST, Priority.PRECISION)
    assert parse_priorities(["Speed", " cost "]) == (Priority.SPEED, Priority.COST)
    with pytest.raises(SelectionError, match="unknown priority 'latency'; allowed: cost, precision, speed"):
        parse_priorities(["cost,latency"])
    with pytest.raises(SelectionError, match="'cost' is listed twice"):
        parse_priorities(["cost", "cost"])
    with pytest.raises(SelectionError, match="no priority given"):
        parse_priorities([])


def test_unknown_model_id_suggests_close_matches(catalog: Catalog, deck_scores: ScoresFile) -> None:
    with pytest.raises(SelectionError, match="did you mean: tii-falcon-40b-instruct") as info:
        select_fm(catalog, ["cost"], model_ids=["falcon-40b"])
    assert info.value.field == "models"
    with pytest.raises(SelectionError, match="did you mean: FM1"):
        select_fm(catalog, ["cost"], model_ids=["FM"], scores=deck_scores)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"score": 6}, "score 6 is greater than out_of 5"),
        ({"score": 3, "speed": "fast"}, "models.FMx.speed: Value error, expected a number 1-5"),
        ({"score": 3, "relative_cost": 5}, "models.FMx.relative_cost: Input should be less than or equal to 4"),
        ({"speed": 2}, "models.FMx.score: Field required"),
        ({"score": 3, "colour": "red"}, "models.FMx.colour: Extra inputs are not permitted"),
    ],
)
def test_bad_scores_entries_name_the_field(tmp_path: Path, entry: dict[str, object], message: str) -> None:
    path = _write_scores(tmp_path, {"models": {"FMx": entry}})
    with pytest.raises(SelectionError, match=message):
        load_scores(path)


# --- command line -------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """``fmops select-fm ARGV...``; argparse's exits (help, bad arguments) as their status."""
    try:
        return fmops(["select-fm", *argv])
    except SystemExit as exited:
        return exited.code if isinstance(exited.code, int) else 0


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI and return (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_deck_example_uses_the_files_priorities(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--scores", str(DECK_EXAMPLE))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Priorities: P0 cost, P1 precision"
    assert out.splitlines()[1].startswith("1. FM2")
    assert "FM2 chosen: P0 cost $ is the lowest (FM1 $$$$, FM3 $$$)" in out


def test_cli_priority_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--scores", str(DECK_EXAMPLE), "--priority", "precision", "--priority", "cost")
    assert code == 0
    assert "FM1 chosen: P0 precision 5/5 is the highest" in out
    code, out, _ = _run(capsys, "--scores", str(DECK_EXAMPLE), "--priorities", "speed")
    assert "FM1 chosen: P0 speed" in out


def test_cli_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--scores", str(DECK_EXAMPLE), "--models", "FM3,FM2", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["chosen"] == "FM2"
    assert result["priorities"] == ["P0 cost", "P1 precision"]
    assert [r["id"] for r in result["ranking"]] == ["FM2", "FM3"]
    assert result["ranking"][0]["feedback"] == "<Feedback summary>"


def test_cli_filters_on_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "--priorities", "cost", "--commercial-only", "--fine-tunable", "--available-on", "sagemaker",
        "--min-context", "8000", "--json",
    )
    assert code == 0
    assert [r["id"] for r in json.loads(out)["ranking"]] == ["bigcode-starcoder"]


def test_cli_rich_table_on_a_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    assert main(["--scores", str(DECK_EXAMPLE)]) == 0
    text = terminal.getvalue()
    assert "FM selection: P0 cost > P1 precision" in text
    assert "┃" in text and "Precision" in text
    assert "Priorities:" not in text


def test_cli_custom_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    catalog_file = REPO_ROOT / "config" / "fm-catalog.yaml"
    code, out, _ = _run(capsys, "--catalog", str(catalog_file), "--priorities", "cost", "--models", "anthropic-claude")
    assert code == 0
    assert "anthropic-claude chosen: the only candidate" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--priorities", "cost,latency"],
            "--priorities/--priority: unknown priority 'latency'; allowed: cost, precision, speed",
        ),
        ([], "--priorities/--priority: no priority given; allowed: cost, precision, speed"),
        (["--priorities", "cost", "--models", "falcon-40b"], "--models: unknown model id 'falcon-40b'"),
        (["--priorities", "cost", "--scores", "/no/such/file.yaml"], "--scores: cannot read /no/such/file.yaml"),
        (
            ["--priorities", "cost", "--available-on", "azure"],
            "invalid choice: 'azure' (choose from 'bedrock', 'jumpstart', 'sagemaker')",
        ),
        (["--priorities", "cost", "--min-context", "-1"], "argument --min-context: expected a number >= 0"),
        (["--priorities", "cost", "--priority", "speed"], "not allowed with argument --priorities"),
        (["--priorities", "cost", "--catalog", "/no/such.yaml"], "--catalog: cannot read /no/such.yaml"),
        (["--priorities", "cost", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_cli_bad_input_exits_2_with_one_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("fmops select-fm: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_cli_bad_scores_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _write_scores(tmp_path, {"models": {"FM1": {"score": 7}}})
    code, _, err = _run(capsys, "--priorities", "cost", "--scores", str(path))
    assert code == 2
    expected = f"--scores: {path}: models.FM1: Value error, score 7 is greater than out_of 5"
    assert err.strip() == f"fmops select-fm: error: {expected}"
    broken = tmp_path / "broken.yaml"
    broken.write_text("models: [\n", encoding="utf-8")
    code, _, err = _run(capsys, "--priorities", "cost", "--scores", str(broken))
    assert code == 2
    assert "is not valid YAML" in err and len(err.strip().splitlines()) == 1


def test_cli_nothing_left_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--priorities", "cost", "--commercial-only", "--models", "meta-llama-65b")
    assert code == 1
    assert out == ""
    assert "no candidate model is left after the filters" in err
    assert "meta-llama-65b: not usable commercially (--commercial-only)" in err


def test_cli_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    assert "fmops select-fm" in out and "--priorities" in out
