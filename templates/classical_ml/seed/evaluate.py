"""Evaluate the trained XGBoost model on the held-out test set: ROC AUC and accuracy, written to
evaluation.json (the pipeline's condition reads metrics.auc.value; the registry keeps the file as
the model's quality statistics). Runs in the XGBoost image, which has xgboost.

Inputs  /opt/ml/processing/input/model/model.tar.gz, /opt/ml/processing/input/test/test.csv
Output  /opt/ml/processing/output/evaluation/evaluation.json
"""

from __future__ import annotations

import argparse
import csv
import json
import tarfile
from pathlib import Path

from metrics import accuracy, roc_auc
from tracking import log_run


def read_test(path: Path) -> tuple[list[float], list[list[float]]]:
    with path.open(newline="") as handle:
        rows = [[float(v) for v in row] for row in csv.reader(handle) if row]
    return [r[0] for r in rows], [r[1:] for r in rows]


def report(labels: list[float], scores: list[float]) -> dict[str, object]:
    return {"metrics": {"auc": {"value": round(roc_auc(labels, scores), 4)},
                        "accuracy": {"value": round(accuracy(labels, scores), 4)}},
            "samples": len(labels)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=Path("/opt/ml/processing/input"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/output/evaluation"))
    args = parser.parse_args(argv)
    import xgboost

    with tarfile.open(next((args.input / "model").glob("*.tar.gz"))) as archive:
        archive.extractall("/tmp/model", filter="data")
    booster = xgboost.Booster()
    booster.load_model("/tmp/model/xgboost-model")
    labels, features = read_test(next((args.input / "test").glob("*.csv")))
    scores = [float(s) for s in booster.predict(xgboost.DMatrix(features))]
    args.output.mkdir(parents=True, exist_ok=True)
    result = report(labels, scores)
    (args.output / "evaluation.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    log_run({"samples": result["samples"]}, {name: m["value"] for name, m in result["metrics"].items()})


if __name__ == "__main__":
    main()
