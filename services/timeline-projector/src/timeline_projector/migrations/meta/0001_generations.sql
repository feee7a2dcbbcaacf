-- Projection generations: each one is a complete set of view tables in its own schema.
CREATE TABLE lecturegen_meta.projection_generations (
    generation  integer PRIMARY KEY,
    schema_name text NOT NULL UNIQUE,
    state       text NOT NULL,  -- building | live | retired | unverified | discarded | dropped
    created_at  timestamptz NOT NULL DEFAULT now(),
    switched_at timestamptz
);

-- The generation the views of lecturegen_read point at: exactly one row.
CREATE TABLE lecturegen_meta.current_generation (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation  integer NOT NULL,
    schema_name text NOT NULL,
    switched_at timestamptz NOT NULL DEFAULT now()
);
