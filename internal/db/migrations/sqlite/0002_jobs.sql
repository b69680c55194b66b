-- jobs: durable scheduled work (deliveries, deadlines, escalations) that
-- survives restarts and runs once across instances (lease + optimistic claim).
CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL,
  key          TEXT,
  payload      TEXT NOT NULL DEFAULT '',
  run_at       BIGINT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 10,
  locked_by    TEXT,
  locked_until BIGINT,
  done_at      BIGINT,
  failed_at    BIGINT,
  last_error   TEXT NOT NULL DEFAULT '',
  created_at   BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs(run_at) WHERE done_at IS NULL AND failed_at IS NULL;
CREATE UNIQUE INDEX jobs_key ON jobs(kind, key) WHERE key IS NOT NULL;
