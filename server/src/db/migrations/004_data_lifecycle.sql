-- Data lifecycle (design: "Data Lifecycle Policies"): daily per-driver aggregates of the raw
-- location history, the record of which days were rolled up and archived, and a log of every
-- scheduled job run (which also tells the scheduler when a job is due again).

-- One row per driver and UTC day, computed from driver_location_history once the day is over.
-- Distance and active time only count steps between points at most a few minutes apart.
CREATE TABLE driver_location_daily (
  day            date NOT NULL,
  driver_id      uuid NOT NULL,
  points         integer NOT NULL CHECK (points > 0),
  distance_km    double precision NOT NULL CHECK (distance_km >= 0),
  active_seconds integer NOT NULL CHECK (active_seconds >= 0),
  first_at       timestamptz NOT NULL,
  last_at        timestamptz NOT NULL,
  max_speed_mps  real,
  PRIMARY KEY (day, driver_id)
);
CREATE INDEX driver_location_daily_driver_idx ON driver_location_daily (driver_id, day);

-- A day is rolled up exactly once (in the transaction that writes its aggregates); raw points of
-- a day are dropped only once its row is here, and aggregates leave only once archived_at is set.
CREATE TABLE driver_location_rollups (
  day          date PRIMARY KEY,
  drivers      integer NOT NULL CHECK (drivers >= 0),
  points       integer NOT NULL CHECK (points >= 0),
  computed_at  timestamptz NOT NULL DEFAULT now(),
  archived_at  timestamptz,
  archive_key  text
);

CREATE TABLE job_runs (
  id          bigserial PRIMARY KEY,
  job         text NOT NULL,
  holder      text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  summary     text,
  details     jsonb,
  error       text
);
CREATE INDEX job_runs_job_idx ON job_runs (job, started_at DESC);
