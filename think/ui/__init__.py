"""Views: consumers of solver events (plain lines, JSON, the live terminal view)."""
