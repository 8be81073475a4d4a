"""Plan: the facts derived once from a validated config (which stacks, names, endpoints, models)."""
