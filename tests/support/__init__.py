"""Real test twins: database URLs for SQLite files and a live PostgreSQL, and a live server process."""
