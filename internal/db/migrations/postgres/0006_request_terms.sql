-- request: the search index. One posting per distinct folded word of a
-- request's text (description, address, type name), newest first within a
-- word, carrying the unit path so a subtree bound needs no row lookup.
-- Filled with the request in the same transaction; rewritten when its text,
-- unit or creation time changes. COLLATE "C": prefix ranges in byte order.
CREATE TABLE request_terms (
  term       TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  request_id BIGINT NOT NULL,
  unit_path  TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (term, created_at, request_id)
);

-- Requests stored before the index existed are indexed on the next start,
-- from this id on (the key is deleted when done).
INSERT INTO settings(key, value) VALUES ('request.terms_backfill', '0');
