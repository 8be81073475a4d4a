"""The one prompt format shared by training and evaluation, so both see the same text."""

from __future__ import annotations


def prompt(record: dict[str, str]) -> str:
    """Instruction, optional input, and the answer cue."""
    text = f"### Instruction:\n{record['instruction']}\n"
    if record.get("input"):
        text += f"\n### Input:\n{record['input']}\n"
    return text + "\n### Response:\n"
