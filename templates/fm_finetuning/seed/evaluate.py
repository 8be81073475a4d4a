"""Evaluate the fine-tuned model on the validation set: generate an answer per record and score
it against the reference with ROUGE-L. Writes evaluation.json, which the pipeline's condition
step reads (metrics.rouge_l.value) and which is registered as the model's quality statistics.

Inputs  /opt/ml/processing/input/model/model.tar.gz, /opt/ml/processing/input/validation/*.jsonl
Output  /opt/ml/processing/output/evaluation/evaluation.json
"""

from __future__ import annotations

import argparse
import json
import os
import tarfile
from pathlib import Path

from prompting import prompt
from text_metrics import mean_rouge_l
from tracking import log_run


def report(predictions: list[str], references: list[str], threshold: float | None = None) -> dict[str, object]:
    """The evaluation report: ROUGE-L over the set, how many samples, and a few examples."""
    score = mean_rouge_l(predictions, references)
    return {"metrics": {"rouge_l": {"value": round(score, 4)}}, "samples": len(references),
            "examples": [{"prediction": p, "reference": r} for p, r in list(zip(predictions, references))[:3]],
            **({"threshold": threshold} if threshold is not None else {})}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=Path("/opt/ml/processing/input"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/output/evaluation"))
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})

    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    model_dir = Path("/tmp/model")
    with tarfile.open(next((args.input / "model").glob("*.tar.gz"))) as archive:
        archive.extractall(model_dir, filter="data")
    seq2seq = bool(getattr(AutoConfig.from_pretrained(model_dir), "is_encoder_decoder", False))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = (AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM).from_pretrained(model_dir, device_map="auto")
    lines = next((args.input / "validation").glob("*.jsonl")).read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line][: args.limit]
    predictions = []
    for record in records:
        inputs = tokenizer(prompt(record), return_tensors="pt").to(model.device)
        output = model.generate(**inputs, max_new_tokens=args.max_new_tokens, do_sample=False)
        generated = output[0] if seq2seq else output[0][inputs["input_ids"].shape[1]:]
        predictions.append(tokenizer.decode(generated, skip_special_tokens=True))
    args.output.mkdir(parents=True, exist_ok=True)
    result = report(predictions, [r["output"] for r in records])
    (args.output / "evaluation.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result["metrics"]))
    log_run({"samples": result["samples"], "max_new_tokens": args.max_new_tokens},
            {name: m["value"] for name, m in result["metrics"].items()})


if __name__ == "__main__":
    main()
