"""Operator tools: onboarding, provisioning, FM selection, bootstrap commands, docs, diagram, reports."""
