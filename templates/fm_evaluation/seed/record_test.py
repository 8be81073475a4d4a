"""Write prompt-test results to the project's prompt-test repository (for prompt testers).

    python record_test.py --bucket <team bucket> --project <project> --tester alice results.jsonl

Every line is validated (results.py) before anything is written; the file is stored as
``prompt-tests/<project>/results/<tester>/<date>-<id>.jsonl``, where the evaluation pipeline reads.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import uuid
from pathlib import Path

from results import InvalidResult, validate


def parse(text: str) -> list[dict]:
    """Validated records of a JSON-lines text; the first bad line stops with its line number."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(validate(json.loads(line)))
        except (json.JSONDecodeError, InvalidResult) as error:
            raise InvalidResult(f"line {number}: {error}") from None
    if not records:
        raise InvalidResult("no results in the file")
    return records


def key(project: str, tester: str, now: datetime.datetime) -> str:
    return f"prompt-tests/{project}/results/{tester}/{now:%Y%m%d}-{uuid.uuid4().hex[:12]}.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--tester", required=True)
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
        records = parse(args.file.read_text(encoding="utf-8"))
    except InvalidResult as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 2
    for record in records:
        record.setdefault("tester", args.tester)
    import boto3

    target = key(args.project, args.tester, datetime.datetime.now(datetime.timezone.utc))
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    boto3.client("s3").put_object(Bucket=args.bucket, Key=target, Body=body, ContentType="application/x-ndjson")
    print(f"wrote {len(records)} results to s3://{args.bucket}/{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
