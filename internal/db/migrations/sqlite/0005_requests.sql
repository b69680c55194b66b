-- request: residents' requests (feedback, reports, service requests) with
-- owners, working-hours deadlines, escalation and Open311 GeoReport v2.
CREATE TABLE request_types (
  id                   INTEGER PRIMARY KEY,
  code                 TEXT NOT NULL UNIQUE,
  name                 TEXT NOT NULL,
  name_en              TEXT NOT NULL DEFAULT '',
  group_name           TEXT NOT NULL DEFAULT '',
  description          TEXT NOT NULL DEFAULT '',
  org_kind             TEXT NOT NULL,
  fields               TEXT NOT NULL DEFAULT '[]',
  public_default       INTEGER NOT NULL DEFAULT 1,
  sensitive            INTEGER NOT NULL DEFAULT 0,
  location_required    INTEGER NOT NULL DEFAULT 1,
  anonymous_allowed    INTEGER NOT NULL DEFAULT 0,
  ack_hours            INTEGER NOT NULL,
  resolve_hours        INTEGER NOT NULL,
  urgent_ack_hours     INTEGER NOT NULL,
  urgent_resolve_hours INTEGER NOT NULL,
  active               INTEGER NOT NULL DEFAULT 1,
  sort                 INTEGER NOT NULL DEFAULT 0,
  created_at           BIGINT NOT NULL,
  updated_at           BIGINT NOT NULL
);

CREATE TABLE requests (
  id               INTEGER PRIMARY KEY,
  token            TEXT NOT NULL UNIQUE,
  type_id          INTEGER NOT NULL REFERENCES request_types(id),
  ward_id          INTEGER NOT NULL REFERENCES units(id),
  unit_id          INTEGER NOT NULL REFERENCES units(id),
  unit_path        TEXT NOT NULL,
  org_kind         TEXT NOT NULL,
  agency           TEXT NOT NULL,
  status           TEXT NOT NULL,
  priority         TEXT NOT NULL DEFAULT 'normal',
  public           INTEGER NOT NULL,
  description      TEXT NOT NULL,
  address          TEXT NOT NULL DEFAULT '',
  lat              DOUBLE PRECISION,
  lon              DOUBLE PRECISION,
  attrs            TEXT NOT NULL DEFAULT '{}',
  search_fold      TEXT NOT NULL,
  reporter_id      INTEGER REFERENCES accounts(id),
  reporter_name    TEXT NOT NULL DEFAULT '',
  reporter_phone   TEXT NOT NULL DEFAULT '',
  anonymous        INTEGER NOT NULL DEFAULT 0,
  channel          TEXT NOT NULL,
  filed_by_id      INTEGER REFERENCES accounts(id),
  assignee_id      INTEGER REFERENCES accounts(id),
  merged_into      INTEGER REFERENCES requests(id),
  escalation_level INTEGER NOT NULL DEFAULT 0,
  escalated_path   TEXT,
  ack_due          BIGINT NOT NULL,
  resolve_due      BIGINT NOT NULL,
  acked_at         BIGINT,
  resolved_at      BIGINT,
  closed_at        BIGINT,
  scheduled_at     BIGINT,
  rating           INTEGER,
  rating_comment   TEXT NOT NULL DEFAULT '',
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL
);
CREATE INDEX requests_path ON requests(unit_path, created_at);
CREATE INDEX requests_ward ON requests(ward_id, created_at);
CREATE INDEX requests_escalated ON requests(escalated_path, created_at) WHERE escalated_path IS NOT NULL;
CREATE INDEX requests_created ON requests(created_at);
CREATE INDEX requests_type_loc ON requests(type_id, lat, created_at);

-- The timeline: every change, public (a reply, a status) or internal (a note).
CREATE TABLE request_updates (
  id          INTEGER PRIMARY KEY,
  request_id  INTEGER NOT NULL REFERENCES requests(id),
  at          BIGINT NOT NULL,
  actor_id    INTEGER REFERENCES accounts(id),
  actor_name  TEXT NOT NULL DEFAULT '',
  kind        TEXT NOT NULL,
  status      TEXT NOT NULL,
  public      INTEGER NOT NULL,
  body        TEXT NOT NULL DEFAULT '',
  photo       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX request_updates_request ON request_updates(request_id, id);
CREATE INDEX request_updates_at ON request_updates(at);

CREATE TABLE request_followers (
  request_id INTEGER NOT NULL REFERENCES requests(id),
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (request_id, account_id)
);
CREATE INDEX request_followers_account ON request_followers(account_id);

-- In-app notifications of the request room (public changes to followers,
-- escalations to officials).
CREATE TABLE request_notifications (
  id         INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  request_id INTEGER NOT NULL REFERENCES requests(id),
  kind       TEXT NOT NULL,
  body       TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  seen_at    BIGINT
);
CREATE INDEX request_notifications_account ON request_notifications(account_id, id);

CREATE TABLE open311_keys (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  key_hash   TEXT NOT NULL UNIQUE,
  created_by INTEGER REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
