"""Versioned plain-SQL migrations: `meta/` for schema `lecturegen_meta`, `projection/` for the
tables of each projection generation (run with `search_path` set to the generation's schema)."""
