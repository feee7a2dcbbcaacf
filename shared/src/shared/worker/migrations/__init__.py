"""The workers' versioned SQL migrations, for their own schema
(`postgres_versions.SCHEMA`), run with `search_path` set to it by `shared.migrations`."""
