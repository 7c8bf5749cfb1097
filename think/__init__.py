"""think: budgeted solving on consumer hardware."""

__version__ = "0.1.0"
