"""Solving strategies: pure Python over the Engine protocol, no model import."""
