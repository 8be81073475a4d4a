"""FM fine-tuning (PEFT): process, LoRA fine-tune, evaluate, condition, register pending approval."""
