-- Issue 13: which source's author list a paper carries (see AUTHOR_RANK in
-- src/papers/paper-record.ts); rows stored before have 0, so the next list
-- from any source corrects authors split wrongly by the old RSS parser.
ALTER TABLE papers ADD COLUMN authors_rank INTEGER NOT NULL DEFAULT 0;

-- The last outcome of each ingest source, so a failing feed is visible in
-- `stats` rather than looking like a quiet day.
CREATE TABLE source_status (
  source        TEXT PRIMARY KEY,
  last_run_at   TEXT NOT NULL,
  ok            INTEGER NOT NULL,
  fetched       INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT,
  last_error_at TEXT
);

-- Old-style arXiv ids (astro-ph/0601001) have no Hugging Face page; links
-- invented for them before are dropped.
UPDATE papers SET url_page = NULL WHERE url_page LIKE 'https://huggingface.co/papers/%/%';
