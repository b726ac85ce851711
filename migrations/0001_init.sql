-- Papers: one row per paper, whatever the source. `pk` is internal (and the
-- FTS rowid); `id` is the canonical id shown to operators (arXiv id when known).
CREATE TABLE papers (
  pk             INTEGER PRIMARY KEY,
  id             TEXT    NOT NULL UNIQUE,
  title_key      TEXT    NOT NULL,
  title          TEXT    NOT NULL,
  abstract       TEXT    NOT NULL DEFAULT '',
  authors        TEXT    NOT NULL DEFAULT '[]',
  author_count   INTEGER,
  organization   TEXT,
  published_at   TEXT,
  listed_on      TEXT,
  upvotes        INTEGER NOT NULL DEFAULT 0,
  comments       INTEGER NOT NULL DEFAULT 0,
  keywords       TEXT    NOT NULL DEFAULT '[]',
  url_page       TEXT,
  url_abs        TEXT,
  url_pdf        TEXT,
  url_code       TEXT,
  source         TEXT    NOT NULL,
  first_seen_at  TEXT    NOT NULL,
  updated_at     TEXT    NOT NULL
);
CREATE INDEX papers_title_key ON papers (title_key);
CREATE INDEX papers_first_seen ON papers (first_seen_at);

-- Full-text index over title, abstract and keywords (external content: papers).
CREATE VIRTUAL TABLE papers_fts USING fts5(
  title, abstract, keywords,
  content = 'papers', content_rowid = 'pk',
  tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
  INSERT INTO papers_fts (rowid, title, abstract, keywords)
  VALUES (new.pk, new.title, new.abstract, new.keywords);
END;

CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
  INSERT INTO papers_fts (papers_fts, rowid, title, abstract, keywords)
  VALUES ('delete', old.pk, old.title, old.abstract, old.keywords);
END;

CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, keywords ON papers BEGIN
  INSERT INTO papers_fts (papers_fts, rowid, title, abstract, keywords)
  VALUES ('delete', old.pk, old.title, old.abstract, old.keywords);
  INSERT INTO papers_fts (rowid, title, abstract, keywords)
  VALUES (new.pk, new.title, new.abstract, new.keywords);
END;

-- Subscribers and their interests. Lists are JSON arrays of strings.
CREATE TABLE subscribers (
  id               INTEGER PRIMARY KEY,
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
  unsubscribed_at  TEXT
);
CREATE INDEX subscribers_status ON subscribers (status);

-- Consent log: when, how and from where a subscription started or ended.
CREATE TABLE consent_events (
  id             INTEGER PRIMARY KEY,
  subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  event          TEXT    NOT NULL,
  method         TEXT    NOT NULL,
  ip             TEXT,
  user_agent     TEXT,
  at             TEXT    NOT NULL
);
CREATE INDEX consent_events_subscriber ON consent_events (subscriber_id);

-- Transactional mail (confirmations, manage links) waiting to be sent, so an
-- SMTP outage delays mail but never loses it or fails the HTTP request.
CREATE TABLE outbound_mail (
  id               INTEGER PRIMARY KEY,
  subscriber_id    INTEGER REFERENCES subscribers (id) ON DELETE CASCADE,
  kind             TEXT    NOT NULL,
  recipient        TEXT    NOT NULL,
  status           TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','sending','sent','failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT    NOT NULL,
  last_error       TEXT,
  created_at       TEXT    NOT NULL,
  sent_at          TEXT
);
CREATE INDEX outbound_mail_due ON outbound_mail (status, next_attempt_at);
CREATE INDEX outbound_mail_recipient ON outbound_mail (recipient, created_at);

-- Delivery ledger: one row per subscriber and period. The unique key is what
-- makes "exactly one digest per period" hold across crashes and processes.
CREATE TABLE deliveries (
  id             INTEGER PRIMARY KEY,
  subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  period_key     TEXT    NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('sending','sent','skipped','failed')),
  message_id     TEXT    NOT NULL,
  items          TEXT    NOT NULL DEFAULT '[]',
  since          TEXT    NOT NULL,
  lease_owner    TEXT,
  lease_until    TEXT,
  attempts       INTEGER NOT NULL DEFAULT 0,
  error          TEXT,
  created_at     TEXT    NOT NULL,
  finished_at    TEXT,
  UNIQUE (subscriber_id, period_key)
);
CREATE INDEX deliveries_status ON deliveries (status);

-- Papers already sent to a subscriber: a paper is never sent twice.
CREATE TABLE sent_papers (
  subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  paper_pk       INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
  delivery_id    INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  PRIMARY KEY (subscriber_id, paper_pk)
) WITHOUT ROWID;

-- Small key/value store for process state (generated dev secret, cursors).
CREATE TABLE settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
