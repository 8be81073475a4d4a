"""Smoke test of a hosted foundation model: send a few prompts to the private endpoint (through
the VPC's sagemaker.runtime endpoint), check every answer is non-empty, report latency.

    python smoke_test.py --endpoint <team>-<project> [--prompt "..."]...

Exit status 0 when every prompt got an answer, 1 otherwise. The payload is the Text Generation
Inference format the organisation's serving image (TGI) expects.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

DEFAULT_PROMPTS = ("Summarize in one sentence: the quarterly report shows revenue up 4% and costs flat.",
                   "Translate to French: good morning")


def payload(prompt: str, max_new_tokens: int) -> bytes:
    return json.dumps({"inputs": prompt, "parameters": {"max_new_tokens": max_new_tokens, "do_sample": False,
                                                         "return_full_text": False}}).encode()


def generated_text(body: bytes) -> str:
    """TGI answers ``[{"generated_text": ...}]`` (or the object alone)."""
    document: Any = json.loads(body)
    if isinstance(document, list):
        document = document[0] if document else {}
    text = document.get("generated_text") if isinstance(document, dict) else None
    if not isinstance(text, str):
        raise ValueError(f"unexpected response: {body[:200]!r}")
    return text


def run(client: Any, endpoint: str, prompts: list[str], max_new_tokens: int) -> tuple[list[str], list[float]]:
    answers, latencies = [], []
    for prompt in prompts:
        start = time.perf_counter()
        response = client.invoke_endpoint(EndpointName=endpoint, ContentType="application/json",
                                          Body=payload(prompt, max_new_tokens))
        latencies.append(time.perf_counter() - start)
        answers.append(generated_text(response["Body"].read()))
    return answers, latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--prompt", action="append", dest="prompts")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args(argv)
    import boto3

    answers, latencies = run(boto3.client("sagemaker-runtime"), args.endpoint,
                             args.prompts or list(DEFAULT_PROMPTS), args.max_new_tokens)
    for answer, seconds in zip(answers, latencies):
        print(f"{seconds:6.2f}s  {answer.strip()[:120]!r}")
    print(f"median latency {statistics.median(latencies):.2f}s over {len(latencies)} prompts")
    return 0 if all(a.strip() for a in answers) else 1


if __name__ == "__main__":
    sys.exit(main())
