"""Writing for people and for other programs: tables, JSON, JSON lines, CSV."""
