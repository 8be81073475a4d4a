"""Parameter-efficient fine-tuning (LoRA) of a causal or sequence-to-sequence language model.

Channels (SageMaker training): ``model`` (the base weights, staged in the team bucket under
models/), ``train`` and ``validation`` (JSON lines from prepare.py). The adapter is merged into
the base weights and saved with the tokenizer in /opt/ml/model, which SageMaker packs as
model.tar.gz. No hub access: weights, tokenizer and config come from the model channel.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from prompting import prompt

CHANNELS = Path("/opt/ml/input/data")


def read_jsonl(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in next(path.glob("*.jsonl")).read_text(encoding="utf-8").splitlines() if line]


def lora_settings(rank: int, alpha: int, dropout: float, seq2seq: bool) -> dict[str, object]:
    """LoRA on the attention projections; task type by model architecture."""
    if rank < 1 or alpha < 1 or not 0 <= dropout < 1:
        raise ValueError("need rank >= 1, alpha >= 1 and 0 <= dropout < 1")
    return {"r": rank, "lora_alpha": alpha, "lora_dropout": dropout, "bias": "none",
            "task_type": "SEQ_2_SEQ_LM" if seq2seq else "CAUSAL_LM"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--lora-rank", type=int, default=8)
    parser.add_argument("--lora-alpha", type=int, default=16)
    parser.add_argument("--lora-dropout", type=float, default=0.05)
    parser.add_argument("--max-length", type=int, default=1024)
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer,
                              DataCollatorForSeq2Seq, Trainer, TrainingArguments)

    base = CHANNELS / "model"
    config = AutoConfig.from_pretrained(base)
    seq2seq = bool(getattr(config, "is_encoder_decoder", False))
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model_class = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    model = model_class.from_pretrained(base, torch_dtype=torch.bfloat16 if torch.cuda.is_available() else None)
    model = get_peft_model(model, LoraConfig(**lora_settings(args.lora_rank, args.lora_alpha, args.lora_dropout,
                                                              seq2seq)))

    def encode(record: dict[str, str]) -> dict[str, list[int]]:
        source = prompt(record)
        if seq2seq:
            features = tokenizer(source, truncation=True, max_length=args.max_length)
            features["labels"] = tokenizer(record["output"], truncation=True, max_length=args.max_length)["input_ids"]
            return features
        features = tokenizer(source + record["output"] + tokenizer.eos_token, truncation=True,
                             max_length=args.max_length)
        cue = len(tokenizer(source, truncation=True, max_length=args.max_length)["input_ids"])
        features["labels"] = [-100] * cue + features["input_ids"][cue:]
        return features

    train = [encode(r) for r in read_jsonl(CHANNELS / "train")]
    validation = [encode(r) for r in read_jsonl(CHANNELS / "validation")]
    trainer = Trainer(
        model=model,
        args=TrainingArguments(output_dir="/opt/ml/checkpoints", num_train_epochs=args.epochs,
                               learning_rate=args.learning_rate, per_device_train_batch_size=4,
                               gradient_accumulation_steps=4, eval_strategy="epoch", save_strategy="no",
                               logging_steps=10, report_to=[]),
        train_dataset=train, eval_dataset=validation,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
    )
    trainer.train()
    merged = trainer.model.merge_and_unload()
    merged.save_pretrained("/opt/ml/model", safe_serialization=True)
    tokenizer.save_pretrained("/opt/ml/model")
    print(json.dumps({"eval": trainer.evaluate()}))


if __name__ == "__main__":
    main()
