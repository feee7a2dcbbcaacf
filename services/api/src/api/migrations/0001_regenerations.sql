-- Regeneration claims: one row per (asset, version) the API accepted (api/claims.py).
-- IF NOT EXISTS throughout: a database the API set up before it had migrations already has
-- this table, possibly without command_key; this brings it to the same shape.
CREATE TABLE IF NOT EXISTS regenerations (
    asset_id       text        NOT NULL,
    prompt_version integer     NOT NULL,
    event_id       text        NOT NULL,
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    abandoned      boolean     NOT NULL DEFAULT false,
    command_key    text,
    PRIMARY KEY (asset_id, prompt_version)
);
ALTER TABLE regenerations ADD COLUMN IF NOT EXISTS command_key text;
CREATE UNIQUE INDEX IF NOT EXISTS regenerations_command_key ON regenerations (command_key);
