-- Issue 16: what the admin console and /metrics read, kept up to date by
-- triggers in the same transaction as the change they count, so the overview
-- reads a few hundred small rows instead of scanning 100,000 subscribers and a
-- million ledger rows (listmonk's dashboard had to be cached for that reason).

-- Events per UTC day: 'consent:<event>:<method>' (subscribe_requested,
-- confirmed, unsubscribed, bounced, complained, …), 'digest:<status>',
-- 'papers:<source>'. Counts only ever go up: deleting a subscriber does not
-- un-happen their signup.
CREATE TABLE daily_counts (
  day     TEXT    NOT NULL,
  metric  TEXT    NOT NULL,
  n       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, metric)
) WITHOUT ROWID;
CREATE INDEX daily_counts_metric ON daily_counts (metric, day);

-- Net change of the number of subscribers in each status per UTC day; the
-- running sum is "subscribers by status over time", the total is today's count.
CREATE TABLE status_daily (
  day     TEXT    NOT NULL,
  status  TEXT    NOT NULL,
  delta   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, status)
) WITHOUT ROWID;

-- Active readers per topic (topics are a JSON list on the subscriber row).
CREATE TABLE topic_counts (
  topic   TEXT    PRIMARY KEY,
  n       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- One row per digest run. A run stamps every ledger row it claims or skips
-- with its own `now` (deliveries.created_at), which is what names the run.
-- A row resumed by a later run after a crash still counts for the run that
-- claimed it.
CREATE TABLE digest_runs (
  run_at      TEXT    PRIMARY KEY,
  claimed     INTEGER NOT NULL DEFAULT 0,
  sent        INTEGER NOT NULL DEFAULT 0,
  skipped     INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  updated_at  TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER ops_consent_insert AFTER INSERT ON consent_events BEGIN
  INSERT INTO daily_counts (day, metric, n) VALUES (substr(new.at, 1, 10), 'consent:' || new.event || ':' || new.method, 1)
    ON CONFLICT (day, metric) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ops_papers_insert AFTER INSERT ON papers BEGIN
  INSERT INTO daily_counts (day, metric, n) VALUES (substr(new.first_seen_at, 1, 10), 'papers:' || new.source, 1)
    ON CONFLICT (day, metric) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ops_subscriber_insert AFTER INSERT ON subscribers BEGIN
  INSERT INTO status_daily (day, status, delta) VALUES (substr(new.created_at, 1, 10), new.status, 1)
    ON CONFLICT (day, status) DO UPDATE SET delta = delta + 1;
  INSERT INTO topic_counts (topic, n) SELECT value, 1 FROM json_each(new.topics) WHERE new.status = 'active'
    ON CONFLICT (topic) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ops_subscriber_status AFTER UPDATE OF status ON subscribers WHEN old.status <> new.status BEGIN
  INSERT INTO status_daily (day, status, delta) VALUES (substr(new.updated_at, 1, 10), old.status, -1)
    ON CONFLICT (day, status) DO UPDATE SET delta = delta - 1;
  INSERT INTO status_daily (day, status, delta) VALUES (substr(new.updated_at, 1, 10), new.status, 1)
    ON CONFLICT (day, status) DO UPDATE SET delta = delta + 1;
END;

-- Fires for any update naming topics or status; taking the old row out and
-- putting the new one in is right whether or not either changed.
CREATE TRIGGER ops_subscriber_topics AFTER UPDATE OF topics, status ON subscribers BEGIN
  UPDATE topic_counts SET n = n - 1 WHERE old.status = 'active' AND topic IN (SELECT value FROM json_each(old.topics));
  INSERT INTO topic_counts (topic, n) SELECT value, 1 FROM json_each(new.topics) WHERE new.status = 'active'
    ON CONFLICT (topic) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ops_subscriber_delete AFTER DELETE ON subscribers BEGIN
  INSERT INTO status_daily (day, status, delta) VALUES (date('now'), old.status, -1)
    ON CONFLICT (day, status) DO UPDATE SET delta = delta - 1;
  UPDATE topic_counts SET n = n - 1 WHERE old.status = 'active' AND topic IN (SELECT value FROM json_each(old.topics));
END;

CREATE TRIGGER ops_delivery_insert AFTER INSERT ON deliveries BEGIN
  INSERT INTO digest_runs (run_at, claimed, skipped, updated_at)
    VALUES (new.created_at, new.status = 'sending', new.status = 'skipped', new.created_at)
    ON CONFLICT (run_at) DO UPDATE SET claimed = claimed + (new.status = 'sending'), skipped = skipped + (new.status = 'skipped'),
      updated_at = excluded.updated_at;
  INSERT INTO daily_counts (day, metric, n) SELECT substr(coalesce(new.finished_at, new.created_at), 1, 10), 'digest:' || new.status, 1
    WHERE new.status <> 'sending'
    ON CONFLICT (day, metric) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ops_delivery_finish AFTER UPDATE OF status ON deliveries
  WHEN old.status = 'sending' AND new.status IN ('sent', 'failed') BEGIN
  UPDATE digest_runs SET sent = sent + (new.status = 'sent'), failed = failed + (new.status = 'failed'),
    updated_at = coalesce(new.finished_at, updated_at) WHERE run_at = old.created_at;
  INSERT INTO daily_counts (day, metric, n) VALUES (substr(coalesce(new.finished_at, new.created_at), 1, 10), 'digest:' || new.status, 1)
    ON CONFLICT (day, metric) DO UPDATE SET n = n + 1;
  INSERT INTO daily_counts (day, metric, n) VALUES (substr(coalesce(new.finished_at, new.created_at), 1, 10), 'smtp:digest:' || CASE
      WHEN new.status = 'sent' THEN '2xx' WHEN ' ' || new.error GLOB '*[^0-9]5[0-9][0-9][^0-9]*' THEN '5xx'
      WHEN ' ' || new.error GLOB '*[^0-9]4[0-9][0-9][^0-9]*' THEN '4xx' ELSE 'none' END, 1)
    ON CONFLICT (day, metric) DO UPDATE SET n = n + 1;
END;

-- Replies to transactional mail (confirmations, manage links): 'none' is a
-- connection error or timeout, with no SMTP reply at all.
CREATE TRIGGER ops_outbound_finish AFTER UPDATE OF status ON outbound_mail
  WHEN old.status <> new.status AND new.status IN ('sent', 'failed') AND coalesce(new.last_error, '') <> 'no longer applies' BEGIN
  INSERT INTO daily_counts (day, metric, n) VALUES (substr(coalesce(new.sent_at, new.next_attempt_at), 1, 10), 'smtp:outbound:' || CASE
      WHEN new.status = 'sent' THEN '2xx' WHEN ' ' || new.last_error GLOB '*[^0-9]5[0-9][0-9][^0-9]*' THEN '5xx'
      WHEN ' ' || new.last_error GLOB '*[^0-9]4[0-9][0-9][^0-9]*' THEN '4xx' ELSE 'none' END, 1)
    ON CONFLICT (day, metric) DO UPDATE SET n = n + 1;
END;

-- When each ingest source last succeeded (source_status keeps only the last run).
CREATE TABLE source_last_ok (
  source  TEXT PRIMARY KEY,
  at      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER ops_source_ok_insert AFTER INSERT ON source_status WHEN new.ok = 1 BEGIN
  INSERT INTO source_last_ok (source, at) VALUES (new.source, new.last_run_at) ON CONFLICT (source) DO UPDATE SET at = excluded.at;
END;
CREATE TRIGGER ops_source_ok_update AFTER UPDATE ON source_status WHEN new.ok = 1 BEGIN
  INSERT INTO source_last_ok (source, at) VALUES (new.source, new.last_run_at) ON CONFLICT (source) DO UPDATE SET at = excluded.at;
END;
INSERT INTO source_last_ok (source, at) SELECT source, last_run_at FROM source_status WHERE ok = 1;

-- What was there before this migration, counted once.
INSERT INTO daily_counts (day, metric, n)
  SELECT substr(at, 1, 10), 'consent:' || event || ':' || method, count(*) FROM consent_events GROUP BY 1, 2;
INSERT INTO daily_counts (day, metric, n)
  SELECT substr(first_seen_at, 1, 10), 'papers:' || source, count(*) FROM papers GROUP BY 1, 2
  ON CONFLICT (day, metric) DO UPDATE SET n = n + excluded.n;
INSERT INTO daily_counts (day, metric, n)
  SELECT substr(coalesce(finished_at, created_at), 1, 10), 'digest:' || status, count(*) FROM deliveries WHERE status <> 'sending' GROUP BY 1, 2
  ON CONFLICT (day, metric) DO UPDATE SET n = n + excluded.n;
-- History before this migration is approximated: each subscriber counts in
-- their current status from the day they signed up.
INSERT INTO status_daily (day, status, delta) SELECT substr(created_at, 1, 10), status, count(*) FROM subscribers GROUP BY 1, 2;
INSERT INTO topic_counts (topic, n)
  SELECT j.value, count(*) FROM subscribers s, json_each(s.topics) j WHERE s.status = 'active' GROUP BY j.value;
INSERT INTO digest_runs (run_at, claimed, sent, skipped, failed, updated_at)
  SELECT created_at, sum(status <> 'skipped'), sum(status = 'sent'), sum(status = 'skipped'), sum(status = 'failed'),
         max(coalesce(finished_at, created_at))
  FROM deliveries GROUP BY created_at;

-- Admin console sign-ins. Only a hash of the session id is stored, so a copy
-- of the database (a backup) does not hand out live sessions.
CREATE TABLE admin_sessions (
  id_hash     TEXT PRIMARY KEY,
  csrf        TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL
) WITHOUT ROWID;

-- Failed sign-ins per client address, for the lock-out.
CREATE TABLE admin_login_failures (
  id  INTEGER PRIMARY KEY,
  ip  TEXT NOT NULL,
  at  TEXT NOT NULL
);
CREATE INDEX admin_login_failures_ip ON admin_login_failures (ip, at);
