"""A language model (any OpenAI-compatible endpoint) as the findings labeller: its client, prompts and breaker."""
