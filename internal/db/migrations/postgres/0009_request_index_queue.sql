-- request: intake no longer writes a new request's search postings in the
-- request's own transaction. It records the request here, and a background
-- indexer writes the postings of many queued requests at once, sorted, in
-- transactions of their own; a search first indexes whatever is still
-- queued, so it misses nothing that was committed before it began.
-- Postings were about 70 % of PostgreSQL's execution time per request.
CREATE TABLE request_index_queue (
  request_id BIGINT PRIMARY KEY
);
