"""Preprocess a tabular binary-classification data set for SageMaker's XGBoost algorithm.

Input  /opt/ml/processing/input/data/*.csv   with a header; the target column is named by --target
       and holds 0/1 (or two distinct labels, mapped in sorted order to 0 and 1)
Output train/, validation/ and test/ CSV files without header, the target in the first column
       (the layout the XGBoost algorithm reads), numeric features only.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path


def read_rows(paths: list[Path]) -> tuple[list[str], list[dict[str, str]]]:
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if header is None:
                header = list(reader.fieldnames or [])
            elif list(reader.fieldnames or []) != header:
                raise ValueError(f"{path.name}: columns differ from the first file")
            rows += list(reader)
    if header is None or not rows:
        raise ValueError("no data rows")
    return header, rows


def numeric_columns(header: list[str], rows: list[dict[str, str]], target: str) -> list[str]:
    """Feature columns whose every non-empty value parses as a number."""
    def numeric(value: str) -> bool:
        try:
            float(value)
            return True
        except ValueError:
            return False
    return [c for c in header if c != target and all(numeric(r[c]) for r in rows if r[c] != "")]


def encode(rows: list[dict[str, str]], target: str, features: list[str]) -> list[list[float]]:
    """Rows as [label, feature...]; missing features become the column mean."""
    labels = sorted({r[target] for r in rows})
    if len(labels) != 2:
        raise ValueError(f"target {target!r} must have exactly two values, found {labels[:5]}")
    means = {}
    for column in features:
        present = [float(r[column]) for r in rows if r[column] != ""]
        means[column] = sum(present) / len(present) if present else 0.0
    return [[float(labels.index(r[target]))] + [float(r[c]) if r[c] != "" else means[c] for c in features]
            for r in rows]


def split(rows: list[list[float]], seed: int) -> dict[str, list[list[float]]]:
    """70 % train, 15 % validation, 15 % test (each set non-empty)."""
    if len(rows) < 3:
        raise ValueError("need at least 3 rows")
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    held = max(1, round(len(shuffled) * 0.15))
    return {"test": shuffled[:held], "validation": shuffled[held:2 * held], "train": shuffled[2 * held:]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/output"))
    parser.add_argument("--target", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    header, rows = read_rows(sorted(args.input.rglob("*.csv")))
    if args.target not in header:
        raise SystemExit(f"target column {args.target!r} not in {header}")
    features = numeric_columns(header, rows, args.target)
    for name, part in split(encode(rows, args.target, features), args.seed).items():
        (args.output / name).mkdir(parents=True, exist_ok=True)
        with (args.output / name / f"{name}.csv").open("w", newline="") as handle:
            csv.writer(handle).writerows(part)
    print(json.dumps({"rows": len(rows), "features": features}))


if __name__ == "__main__":
    main()
