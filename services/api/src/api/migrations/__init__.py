"""The API's versioned SQL migrations, for its own schema (`claims.SCHEMA`), run with
`search_path` set to it by `shared.migrations`."""
