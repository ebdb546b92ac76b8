-- Sessions live here durably; Redis (or the in-process store) only caches them, so losing
-- Redis signs nobody out. Only the SHA-256 of a token is stored, never the token itself.

CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('customer', 'driver', 'merchant', 'admin')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  CHECK (expires_at > created_at)
);
-- "Sign out everywhere" revokes the live sessions of one user.
CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;
-- The purge deletes sessions past their expiry.
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
