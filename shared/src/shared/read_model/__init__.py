"""The read model: the PostgreSQL views the projector writes and everyone else reads.

One home for what the projector and its readers (the API, `shared.timeline`, the CLI) must
agree on: the schema (`tables.READ_SCHEMA`), each table's name, columns and key
(`tables`), the typed row of each table (`rows`) and the `NOTIFY` channels (`notify`).
What each column means is in `docs/read-model.md`; a test checks that page against these
definitions, and another checks them against the projector's migrated database.
"""
