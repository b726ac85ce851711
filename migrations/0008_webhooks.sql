-- Issue 16: outgoing webhooks. Endpoints come from WEBHOOK_URLS (synced at
-- start); events are queued by triggers in the same transaction as the change
-- they report, and sent, signed, with retries by src/webhooks/webhook-sender.ts.
CREATE TABLE webhook_endpoints (
  id      INTEGER PRIMARY KEY,
  url     TEXT    NOT NULL UNIQUE,
  -- Comma-separated event names this endpoint wants, or '*'.
  events  TEXT    NOT NULL DEFAULT '*'
);

CREATE TABLE webhook_queue (
  id               INTEGER PRIMARY KEY,
  endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event            TEXT    NOT NULL,
  -- A deleted reader's undelivered events go with them (they name the address).
  subscriber_id    INTEGER REFERENCES subscribers (id) ON DELETE CASCADE,
  payload          TEXT    NOT NULL,
  status           TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT    NOT NULL,
  last_error       TEXT,
  created_at       TEXT    NOT NULL,
  sent_at          TEXT
);
CREATE INDEX webhook_queue_due ON webhook_queue (status, next_attempt_at);
CREATE INDEX webhook_queue_subscriber ON webhook_queue (subscriber_id);

-- subscribed, confirmed, unsubscribed, bounced, complained: from the consent log.
CREATE TRIGGER webhooks_consent AFTER INSERT ON consent_events
  WHEN new.event IN ('subscribe_requested', 'confirmed', 'unsubscribed', 'bounced', 'complained') BEGIN
  INSERT INTO webhook_queue (endpoint_id, event, subscriber_id, payload, next_attempt_at, created_at)
  SELECT e.id, CASE new.event WHEN 'subscribe_requested' THEN 'subscribed' ELSE new.event END, new.subscriber_id,
         json_object('event', CASE new.event WHEN 'subscribe_requested' THEN 'subscribed' ELSE new.event END,
                     'at', new.at, 'email', s.email, 'method', new.method, 'status', s.status),
         new.at, new.at
  FROM webhook_endpoints e JOIN subscribers s ON s.id = new.subscriber_id
  WHERE e.events = '*' OR instr(',' || e.events || ',', ',' || CASE new.event WHEN 'subscribe_requested' THEN 'subscribed' ELSE new.event END || ',') > 0;
END;

-- digest_sent: the relay accepted a digest.
CREATE TRIGGER webhooks_digest_sent AFTER UPDATE OF status ON deliveries
  WHEN old.status = 'sending' AND new.status = 'sent' BEGIN
  INSERT INTO webhook_queue (endpoint_id, event, subscriber_id, payload, next_attempt_at, created_at)
  SELECT e.id, 'digest_sent', new.subscriber_id,
         json_object('event', 'digest_sent', 'at', coalesce(new.finished_at, new.created_at), 'email', s.email,
                     'period', new.period_key, 'papers', json_array_length(new.items), 'messageId', new.message_id),
         coalesce(new.finished_at, new.created_at), coalesce(new.finished_at, new.created_at)
  FROM webhook_endpoints e JOIN subscribers s ON s.id = new.subscriber_id
  WHERE e.events = '*' OR instr(',' || e.events || ',', ',digest_sent,') > 0;
END;
