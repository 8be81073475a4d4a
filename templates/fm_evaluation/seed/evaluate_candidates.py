"""Evaluate candidate foundation models from the project's prompt-test results: each answer gets
the testers' human score (when they gave one) and an LLM-judge score; per model, the scores are
combined, latency becomes a speed rating, and the result is written in the evaluation-scores
format `fmops select-fm --scores` reads (the seed deck's "Step 2. Evaluate" feeding "Step 3.
Select the best FM based on priorities").

Inputs   /opt/ml/processing/input/results/**/*.jsonl   (results.py records)
Outputs  /opt/ml/processing/output/scores/scores.json   (ScoresFile of infra/tools/fm_select.py)
         /opt/ml/processing/output/evaluation/evaluation.json   (per-model details)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from results import InvalidResult, validate
from tracking import log_run

# Median latency (ms) -> speed rating 1-5 (the deck's lightning bolts): <=500 ms is 5.
SPEED_LIMITS_MS = (500, 1000, 2000, 5000)


def speed_rating(median_ms: float) -> int:
    return 5 - sum(median_ms > limit for limit in SPEED_LIMITS_MS)


def load_results(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Valid records of every results file, and a message per rejected line."""
    records, rejected = [], []
    for path in sorted(folder.rglob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(validate(json.loads(line)))
            except (json.JSONDecodeError, InvalidResult) as error:
                rejected.append(f"{path.name}:{number}: {error}")
    return records, rejected


def aggregate(records: list[dict[str, Any]], judge_scores: list[float | None], human_weight: float,
              description: str) -> dict[str, Any]:
    """The scores file: per model, the weighted mean of the human and judge means (out of 5), the
    speed rating of the median latency, and a feedback summary."""
    if not 0 <= human_weight <= 1:
        raise ValueError("human_weight must be between 0 and 1")
    by_model: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record, judged in zip(records, judge_scores, strict=True):
        scores = by_model[record["model"]]
        if "human_score" in record:
            scores["human"].append(record["human_score"])
        if judged is not None:
            scores["judge"].append(judged)
        if "latency_ms" in record:
            scores["latency"].append(record["latency_ms"])
    models: dict[str, Any] = {}
    for model, scores in sorted(by_model.items()):
        human = statistics.fmean(scores["human"]) if scores["human"] else None
        judge = statistics.fmean(scores["judge"]) if scores["judge"] else None
        if human is None and judge is None:
            continue
        if human is not None and judge is not None:
            combined = human_weight * human + (1 - human_weight) * judge
        else:
            combined = human if human is not None else judge
        feedback = "; ".join(part for part in (
            f"human {human:.2f}/5 (n={len(scores['human'])})" if human is not None else "",
            f"LLM judge {judge:.2f}/5 (n={len(scores['judge'])})" if judge is not None else "") if part)
        entry: dict[str, Any] = {"score": round(combined, 2), "out_of": 5, "feedback": feedback}
        if scores["latency"]:
            entry["speed"] = speed_rating(statistics.median(scores["latency"]))
        models[model] = entry
    if not models:
        raise ValueError("no model has a human or judge score")
    return {"description": description, "models": models}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=Path("/opt/ml/processing/input/results"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/output"))
    parser.add_argument("--judge-model", required=True)
    parser.add_argument("--human-weight", type=float, default=0.5)
    args = parser.parse_args(argv)
    records, rejected = load_results(args.input)
    if not records:
        raise SystemExit(f"no valid results under {args.input} ({len(rejected)} rejected)")
    import boto3

    from judge import Judge, published_guardrail_version

    judge = Judge(boto3.client("bedrock-runtime"), args.judge_model, os.environ["GUARDRAIL_ARN"],
                  published_guardrail_version(boto3.client("ssm"), os.environ["GUARDRAIL_VERSION_PARAMETER"]))
    judged, reasons = [], []
    for record in records:
        try:
            score, reason = judge.score(record)
        except ValueError as error:
            score, reason = None, str(error)
        judged.append(score)
        reasons.append(reason)
    scores = aggregate(records, judged, args.human_weight,
                       f"Prompt tests judged by {args.judge_model}, human weight {args.human_weight}")
    (args.output / "scores").mkdir(parents=True, exist_ok=True)
    (args.output / "scores" / "scores.json").write_text(json.dumps(scores, indent=2), encoding="utf-8")
    details = {"rejected": rejected, "judged": [
        {"model": r["model"], "prompt_id": r["prompt_id"], "judge_score": s, "reason": why}
        for r, s, why in zip(records, judged, reasons)]}
    (args.output / "evaluation").mkdir(parents=True, exist_ok=True)
    (args.output / "evaluation" / "evaluation.json").write_text(json.dumps(details, indent=2), encoding="utf-8")
    print(json.dumps({"models": len(scores["models"]), "results": len(records), "rejected": len(rejected)}))
    log_run({"judge_model": args.judge_model, "human_weight": args.human_weight, "results": len(records)},
            {f"score.{_metric_name(model)}": entry["score"] for model, entry in scores["models"].items()})


def _metric_name(model: str) -> str:
    """An MLflow metric name of a model id (letters, digits, ``_-./`` and spaces only)."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in model)


if __name__ == "__main__":
    main()
