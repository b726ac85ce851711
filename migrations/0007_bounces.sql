-- Issue 16: bounces and complaints that arrive after the relay said 250
-- (provider webhooks, the bounce mailbox), and the suppression list.

-- Why an address must not be mailed. `email_hash` is the SHA-256 of the
-- lower-cased address: it is what stays when a suppressed reader's data is
-- deleted (subscriber_id becomes NULL), so the entry is kept without the address.
CREATE TABLE suppressions (
  email_hash     TEXT    PRIMARY KEY,
  subscriber_id  INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
  reason         TEXT    NOT NULL CHECK (reason IN ('hard_bounce', 'soft_bounces', 'complaint')),
  source         TEXT    NOT NULL,
  detail         TEXT,
  created_at     TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX suppressions_subscriber ON suppressions (subscriber_id);
CREATE INDEX suppressions_created ON suppressions (created_at);

-- Every provider event acted on, by the provider's own id: a replayed or
-- retried event is recognised and changes nothing. Soft bounces are counted
-- here for the "N within a window" rule.
CREATE TABLE provider_events (
  provider       TEXT    NOT NULL,
  event_id       TEXT    NOT NULL,
  kind           TEXT    NOT NULL CHECK (kind IN ('hard_bounce', 'soft_bounce', 'complaint', 'ignored')),
  subscriber_id  INTEGER REFERENCES subscribers (id) ON DELETE CASCADE,
  received_at    TEXT    NOT NULL,
  PRIMARY KEY (provider, event_id)
) WITHOUT ROWID;
CREATE INDEX provider_events_soft ON provider_events (subscriber_id, received_at) WHERE kind = 'soft_bounce';
CREATE INDEX provider_events_received ON provider_events (received_at);
