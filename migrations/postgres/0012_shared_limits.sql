-- Per-client request counters shared by every web node (express-rate-limit's
-- store on PostgreSQL; unused by a single SQLite node). `key` is a hash.
CREATE TABLE rate_limits (
  key       TEXT    PRIMARY KEY,
  hits      INTEGER NOT NULL,
  reset_at  TEXT    NOT NULL
);
CREATE INDEX rate_limits_reset ON rate_limits (reset_at);

-- Scheduled jobs (ingest, digests, silence notes) run on one node at a time:
-- a job holds a lease here while it runs; other nodes skip that tick.
CREATE TABLE job_leases (
  name    TEXT PRIMARY KEY,
  owner   TEXT NOT NULL,
  until   TEXT NOT NULL
);
