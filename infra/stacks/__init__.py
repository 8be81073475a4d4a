"""Stacks: one module per deployable stack."""
