-- A reader's last sent digest is looked up for every due reader on every run.
-- Without this index SQLite answered it through deliveries_status, reading
-- every sent row of every reader: a run grew quadratic with the ledger.
CREATE INDEX deliveries_subscriber_status ON deliveries (subscriber_id, status, finished_at);

-- Freeing a failed delivery's papers (and the cascade when a subscriber is
-- removed) finds them by delivery, not by scanning every paper ever sent.
CREATE INDEX sent_papers_delivery ON sent_papers (delivery_id);
