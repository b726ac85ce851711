-- The web copy of a sent digest shows the issue as it was sent (issue 15):
-- its papers and why lines are in `items` already; `prefs` keeps the reader's
-- preferences at claim time (JSON: topics, keywords, exclude, frequency,
-- weekday, hour, timezone, maxPapers), so a later change does not rewrite history.
ALTER TABLE deliveries ADD COLUMN prefs TEXT;

-- "Nothing matched for a week" notes: at most one per silent stretch, and a
-- reader may turn them off. A row only once a note was sent or the reader chose.
CREATE TABLE silence_notes (
  subscriber_id INTEGER PRIMARY KEY REFERENCES subscribers(id) ON DELETE CASCADE,
  enabled       INTEGER NOT NULL DEFAULT 1,
  noted_at      TEXT
);
