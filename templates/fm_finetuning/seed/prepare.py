"""Prepare instruction-tuning data: read JSON-lines records, keep the valid ones, drop duplicates,
and split them into train and validation sets with a fixed seed.

Input  /opt/ml/processing/input/data/*.jsonl   {"instruction": ..., "input": ..., "output": ...}
Output /opt/ml/processing/output/train/train.jsonl and .../validation/validation.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

REQUIRED = ("instruction", "output")
MAX_CHARS = 8000


def records(paths: Iterable[Path]) -> Iterator[dict[str, str]]:
    """Valid records of every file: required fields present and non-empty strings, not too long."""
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict) or not all(isinstance(record.get(k), str) and record[k].strip()
                                                       for k in REQUIRED):
                continue
            clean = {"instruction": record["instruction"].strip(), "input": str(record.get("input") or "").strip(),
                     "output": record["output"].strip()}
            if sum(len(v) for v in clean.values()) <= MAX_CHARS:
                yield clean


def deduplicate(items: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """First occurrence of each (instruction, input) pair."""
    seen, kept = set(), []
    for item in items:
        key = hashlib.sha256(f"{item['instruction']}\x00{item['input']}".encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def split(items: list[dict[str, str]], validation_share: float, seed: int) -> tuple[list, list]:
    """Shuffle with ``seed`` and hold out ``validation_share`` (at least one record of each set)."""
    if len(items) < 2:
        raise ValueError(f"need at least 2 valid records, found {len(items)}")
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    held_out = min(len(shuffled) - 1, max(1, round(len(shuffled) * validation_share)))
    return shuffled[held_out:], shuffled[:held_out]


def write(items: list[dict[str, str]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/output"))
    parser.add_argument("--validation-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    items = deduplicate(records(sorted(args.input.rglob("*.jsonl"))))
    train, validation = split(items, args.validation_share, args.seed)
    write(train, args.output / "train" / "train.jsonl")
    write(validation, args.output / "validation" / "validation.jsonl")
    print(json.dumps({"train": len(train), "validation": len(validation)}))


if __name__ == "__main__":
    main()
