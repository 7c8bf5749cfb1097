"""Engines turn prompts into sampled completions; think.engine.base defines the protocol."""
