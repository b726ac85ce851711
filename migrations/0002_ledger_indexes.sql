-- A reader's last sent digest is looked up for every due reader on every run.
-- Without this index SQLite answered it through deliveries_status, reading
-- every sent row of every reader: a run grew quadratic with the ledger.
CREATE INDEX deliveries_last_sent ON deliveries (subscriber_id, finished_at) WHERE status = 'sent';

-- Only in-flight rows are ever looked up by status; the full status index was
-- rewritten on every state change for nothing.
DROP INDEX deliveries_status;
CREATE INDEX deliveries_sending ON deliveries (status) WHERE status = 'sending';

-- Freeing a failed delivery's papers (and the cascade when a subscriber is
-- removed) finds them by delivery, not by scanning every paper ever sent.
CREATE INDEX sent_papers_delivery ON sent_papers (delivery_id);
