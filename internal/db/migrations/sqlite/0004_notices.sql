-- notice: announcements to a unit subtree, one delivery per household,
-- acknowledgements, local notes of lower levels; notify: channel sends,
-- Web Push subscriptions and per-account preferences.
CREATE TABLE notices (
  id           INTEGER PRIMARY KEY,
  unit_id      INTEGER NOT NULL REFERENCES units(id),
  unit_path    TEXT NOT NULL,
  org_id       INTEGER REFERENCES organisations(id),
  flags        INTEGER NOT NULL DEFAULT 0,
  title        TEXT NOT NULL,
  body         TEXT NOT NULL,
  priority     TEXT NOT NULL,
  ack_required INTEGER NOT NULL DEFAULT 0,
  sms_all      INTEGER NOT NULL DEFAULT 0,
  send_at      BIGINT NOT NULL,
  expires_at   BIGINT,
  sent_at      BIGINT,
  targeted     INTEGER NOT NULL DEFAULT 0,
  author_id    INTEGER NOT NULL REFERENCES accounts(id),
  author_name  TEXT NOT NULL,
  created_at   BIGINT NOT NULL
);
CREATE INDEX notices_path ON notices(unit_path, id);
CREATE INDEX notices_author ON notices(author_id, id);

CREATE TABLE notice_attachments (
  id           INTEGER PRIMARY KEY,
  notice_id    INTEGER NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         BIGINT NOT NULL,
  sha256       TEXT NOT NULL,
  data         BLOB NOT NULL,
  created_at   BIGINT NOT NULL
);
CREATE INDEX notice_attachments_notice ON notice_attachments(notice_id);

-- One row per (notice, household), clustered by the household's unit path
-- so that the reach of any subtree is one range scan of the primary key.
CREATE TABLE notice_deliveries (
  notice_id    INTEGER NOT NULL,
  unit_path    TEXT NOT NULL,
  household_id INTEGER NOT NULL,
  delivered_at BIGINT,
  seen_at      BIGINT,
  acked_at     BIGINT,
  acked_by     INTEGER,
  ack_name     TEXT NOT NULL DEFAULT '',
  ack_proxy    INTEGER NOT NULL DEFAULT 0,
  ack_note     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (notice_id, unit_path, household_id)
) WITHOUT ROWID;

CREATE TABLE notice_notes (
  id          INTEGER PRIMARY KEY,
  notice_id   INTEGER NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
  unit_id     INTEGER NOT NULL REFERENCES units(id),
  unit_path   TEXT NOT NULL,
  body        TEXT NOT NULL,
  author_id   INTEGER NOT NULL,
  author_name TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
CREATE INDEX notice_notes_notice ON notice_notes(notice_id, unit_path);

-- notify: what each channel did for a household in a round (round 0 is
-- the first send, 1… the re-notifications of an urgent notice).
CREATE TABLE notify_sends (
  notice_id    INTEGER NOT NULL,
  household_id INTEGER NOT NULL,
  round        INTEGER NOT NULL,
  channel      TEXT NOT NULL,
  target       TEXT NOT NULL,
  status       TEXT NOT NULL,
  error        TEXT NOT NULL DEFAULT '',
  at           BIGINT NOT NULL,
  PRIMARY KEY (notice_id, household_id, round, channel, target)
) WITHOUT ROWID;

CREATE TABLE push_subscriptions (
  id         INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  endpoint   TEXT NOT NULL UNIQUE,
  p256dh     TEXT NOT NULL,
  auth       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions(account_id);

CREATE TABLE notify_prefs (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  digest     INTEGER NOT NULL DEFAULT 0,
  email      TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL
);
