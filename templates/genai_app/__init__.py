"""GenAI application on Bedrock: private API, guardrail, versioned prompt catalog, feedback store."""
