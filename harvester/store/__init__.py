"""The state store (SQLite) and the run lock."""
