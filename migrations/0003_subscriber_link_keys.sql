-- migrate: foreign_keys=off
-- (the runner turns foreign keys off for this migration and runs
-- PRAGMA foreign_key_check before it commits: see src/db/client.ts)
--
-- Subscriber ids are never reused (AUTOINCREMENT), and every link binds a
-- random per-subscriber key that is never reused either. Before this, a
-- deleted reader's id went to the next signup and token versions started at 1
-- again, so a kept manage or confirm link worked for someone else.
--
-- SQLite cannot add AUTOINCREMENT in place, so the table is rebuilt the way
-- SQLite documents (lang_altertable, "other kinds of table schema changes"):
-- new table, copy, drop old, rename. With foreign keys on, the DROP would
-- cascade-delete every consent event, delivery, sent paper and queued mail,
-- and a rename would repoint the children at the old table.
CREATE TABLE subscribers_0003 (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  email            TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  status           TEXT    NOT NULL CHECK (status IN ('pending','active','paused','unsubscribed','bounced')),
  topics           TEXT    NOT NULL DEFAULT '[]',
  keywords         TEXT    NOT NULL DEFAULT '[]',
  exclude          TEXT    NOT NULL DEFAULT '[]',
  frequency        TEXT    NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily','weekly')),
  weekday          INTEGER NOT NULL DEFAULT 1 CHECK (weekday BETWEEN 1 AND 7),
  hour             INTEGER NOT NULL DEFAULT 8 CHECK (hour BETWEEN 0 AND 23),
  timezone         TEXT    NOT NULL DEFAULT 'UTC',
  max_papers       INTEGER NOT NULL DEFAULT 10 CHECK (max_papers BETWEEN 1 AND 50),
  token_version    INTEGER NOT NULL DEFAULT 1,
  created_at       TEXT    NOT NULL,
  updated_at       TEXT    NOT NULL,
  confirmed_at     TEXT,
  unsubscribed_at  TEXT,
  -- Random, never reused; every signed link names the subscriber by it.
  link_key         TEXT    NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16)))),
  -- 1 for rows from before this migration: their unsubscribe links in old
  -- emails name them by id, and must keep working (RFC 8058; readers must
  -- always be able to leave). New rows never accept id-based links.
  legacy_links     INTEGER NOT NULL DEFAULT 0 CHECK (legacy_links IN (0, 1)),
  -- Preferences asked for by a signup that is waiting for its confirmation:
  -- applied only when the confirmation link is clicked (JSON, or NULL).
  requested_prefs  TEXT
);

INSERT INTO subscribers_0003 (id, email, status, topics, keywords, exclude, frequency, weekday, hour, timezone, max_papers,
                              token_version, created_at, updated_at, confirmed_at, unsubscribed_at, legacy_links)
SELECT id, email, status, topics, keywords, exclude, frequency, weekday, hour, timezone, max_papers,
       token_version, created_at, updated_at, confirmed_at, unsubscribed_at, 1
FROM subscribers;

DROP TABLE subscribers;
ALTER TABLE subscribers_0003 RENAME TO subscribers;
CREATE INDEX subscribers_status ON subscribers (status);
