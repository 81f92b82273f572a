"""Outbound adapters: where meeting results are delivered."""
