"""Solving strategies (direct, chain of thought, vote, refine): pure Python over the Engine
protocol, no model import."""
