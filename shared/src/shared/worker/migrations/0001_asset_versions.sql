-- Idempotency records of the workers, one row per (kind, asset): shared/worker/postgres_versions.py.

-- Workers that predate this schema kept the table as public.worker_asset_versions, patched in
-- place as it grew: bring such a table to its last shape and move it here, rows and all.
DO $$
BEGIN
    IF to_regclass('public.worker_asset_versions') IS NOT NULL
            AND to_regclass('asset_versions') IS NULL THEN
        ALTER TABLE public.worker_asset_versions
            ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS inflight_version integer,
            ADD COLUMN IF NOT EXISTS inflight_attempt integer,
            ADD COLUMN IF NOT EXISTS inflight_prediction_id text;
        ALTER TABLE public.worker_asset_versions ALTER COLUMN pending_plan TYPE text;
        EXECUTE format('ALTER TABLE public.worker_asset_versions SET SCHEMA %I', current_schema());
        ALTER TABLE worker_asset_versions RENAME TO asset_versions;
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS asset_versions (
    kind                     text NOT NULL,
    asset_id                 text NOT NULL,
    latest_requested_version integer NOT NULL,
    attempt                  integer NOT NULL,
    claimed_by               text,
    terminal_version         integer NOT NULL DEFAULT 0,
    outcome                  text,
    pending_position         text,
    pending_plan             text,
    inflight_version         integer,
    inflight_attempt         integer,
    inflight_prediction_id   text,
    revision                 bigint NOT NULL DEFAULT 0,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, asset_id)
);
