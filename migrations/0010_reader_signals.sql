-- What readers tell Paperboy about papers (issue 14). Seed papers ("papers
-- like these": arXiv ids, links or titles, kept as given and looked up at each
-- run, so an id pasted before the paper arrives starts working when it does)
-- and followed authors are preferences like topics and keywords: JSON lists on
-- the subscriber. "More/less like this" ratings are one row per paper.
ALTER TABLE subscribers ADD COLUMN seeds TEXT NOT NULL DEFAULT '[]';
ALTER TABLE subscribers ADD COLUMN authors TEXT NOT NULL DEFAULT '[]';

CREATE TABLE paper_feedback (
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  paper_pk      INTEGER NOT NULL REFERENCES papers(pk) ON DELETE CASCADE,
  choice        TEXT    NOT NULL CHECK (choice IN ('more','less')),
  created_at    TEXT    NOT NULL,
  PRIMARY KEY (subscriber_id, paper_pk)
) WITHOUT ROWID;
