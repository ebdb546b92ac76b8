-- Dispatch, tracking, ratings and admin: the state the matching sweeper works from lives here,
-- in PostgreSQL, so a process dying mid-dispatch loses nothing.

ALTER TABLE users
  ADD COLUMN rating       real CHECK (rating BETWEEN 1 AND 5),
  ADD COLUMN rating_count integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0);

ALTER TABLE orders
  -- idle: not yet confirmed; searching: due for the next offer at dispatch_next_at;
  -- offered: one offer pending until dispatch_next_at; assigned: a driver accepted;
  -- stopped: cancelled or delivered.
  ADD COLUMN dispatch_status      text NOT NULL DEFAULT 'idle'
    CHECK (dispatch_status IN ('idle', 'searching', 'offered', 'assigned', 'stopped')),
  ADD COLUMN dispatch_started_at  timestamptz,
  ADD COLUMN dispatch_next_at     timestamptz,
  ADD COLUMN dispatch_attempts    integer NOT NULL DEFAULT 0 CHECK (dispatch_attempts >= 0),
  ADD COLUMN offers_count         integer NOT NULL DEFAULT 0 CHECK (offers_count >= 0),
  ADD COLUMN needs_attention_at   timestamptz,
  ADD COLUMN attention_reason     text,
  -- The delivery time predicted when the driver picked the order up (ETA accuracy metric).
  ADD COLUMN predicted_delivery_at timestamptz;

CREATE INDEX orders_dispatch_due_idx ON orders (dispatch_next_at)
  WHERE dispatch_status IN ('searching', 'offered');
CREATE INDEX orders_attention_idx ON orders (needs_attention_at) WHERE needs_attention_at IS NOT NULL;

ALTER TABLE drivers
  ADD COLUMN went_offline_at timestamptz;

CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
