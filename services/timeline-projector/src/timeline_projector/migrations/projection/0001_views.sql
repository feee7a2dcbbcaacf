-- The read model of one projection generation (run with search_path set to its schema).
CREATE TABLE lectures (
    lecture_id       text PRIMARY KEY,
    title            text NOT NULL,
    duration_s       double precision NOT NULL,
    created_event_id text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE segments (
    lecture_id text NOT NULL,
    segment_id text NOT NULL,
    position   integer NOT NULL,
    title      text,
    start_s    double precision NOT NULL,
    duration_s double precision NOT NULL,
    PRIMARY KEY (lecture_id, segment_id)
);

CREATE TABLE assets (
    asset_id             text PRIMARY KEY,
    lecture_id           text NOT NULL,
    segment_id           text,
    kind                 text NOT NULL,
    position             integer NOT NULL DEFAULT 0,
    status               text,  -- NULL reads as 'generated' (shared.status.read_status)
    error                jsonb,
    prompt               text NOT NULL DEFAULT '',
    model                text NOT NULL DEFAULT '',
    params               jsonb NOT NULL DEFAULT '{}',
    prompt_version       integer NOT NULL DEFAULT 1,
    requested_duration_s double precision,
    media_blob_key       text,
    media_content_type   text,
    media_size_bytes     bigint,
    duration_s           double precision,
    retried_count        integer NOT NULL DEFAULT 0,
    attempts             integer NOT NULL DEFAULT 0,
    provider             text,
    prediction_id        text,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    last_event_id        text NOT NULL
);
CREATE INDEX assets_by_lecture ON assets (lecture_id, position);

CREATE TABLE asset_attempts (
    asset_id       text NOT NULL,
    prompt_version integer NOT NULL,
    attempt        integer NOT NULL,
    lecture_id     text NOT NULL,
    started_at     timestamptz,
    finished_at    timestamptz,
    outcome        text,
    error          jsonb,
    prediction_id  text,
    event_id       text NOT NULL,
    superseded     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (asset_id, prompt_version, attempt)
);

CREATE TABLE lecture_event_feed (
    lecture_id     text NOT NULL,
    seq            bigint NOT NULL,
    event_id       text NOT NULL UNIQUE,
    event_type     text NOT NULL,
    asset_id       text NOT NULL,
    prompt_version integer NOT NULL,
    applied        boolean NOT NULL,
    data           jsonb NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (lecture_id, seq)
);

CREATE TABLE lecture_feed_counters (
    lecture_id text PRIMARY KEY,
    last_seq   bigint NOT NULL
);

CREATE TABLE projector_offsets (
    consumer    text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);

CREATE TABLE projector_rejected_events (
    topic         text NOT NULL,
    partition     integer NOT NULL,
    "offset"      bigint NOT NULL,
    reason        text NOT NULL,
    event_type    text,
    event_id      text,
    record_key    text,
    value_preview text,
    record_time   timestamptz,
    PRIMARY KEY (topic, partition, "offset")
);
CREATE INDEX rejected_by_event_id ON projector_rejected_events (event_id);
