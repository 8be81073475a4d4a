"""FM evaluation and prompt testing: human and LLM-judge scores into an `fmops select-fm` file."""
