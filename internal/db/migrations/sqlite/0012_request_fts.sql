-- request: on SQLite the search index becomes the engine's own text index
-- (internal/request/fts.go). request_fts holds one document per request
-- (rowid = the request's id): its posted words and a token per unit of
-- its path. Contentless (the words are in requests.search_fold), with
-- deletes so a document can be replaced; no positions (detail=none);
-- 2- and 3-letter prefix indexes. The ascii tokenizer keeps every
-- non-ASCII character in its token: a folded word is never split.
CREATE VIRTUAL TABLE request_fts USING fts5(
  words, content='', contentless_delete=1, detail=none, prefix='2 3', tokenize='ascii'
);

-- Every word ever indexed, for expanding a longer start of a word into
-- the words it stands for.
CREATE TABLE request_words (
  term TEXT PRIMARY KEY
) WITHOUT ROWID;

-- The postings are replaced: every request is indexed again on the next
-- start (request.Service.IndexBacklog), from the first id.
DROP TABLE request_terms;
DELETE FROM request_index_queue;
INSERT INTO settings(key, value) VALUES ('request.terms_backfill', '0')
  ON CONFLICT (key) DO UPDATE SET value = '0';
