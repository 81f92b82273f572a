"""Inbound chat bots: thin edges that parse, acknowledge and hand work to the application."""
