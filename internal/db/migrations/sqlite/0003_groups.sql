-- group: community groups per unit or organisation, their members, invite
-- links, messages (with edit history, reactions, mentions) and reports.
-- Timestamps are Unix ms UTC; 0 means "not yet" for *_at columns.
CREATE TABLE community_groups (
  id              INTEGER PRIMARY KEY,
  unit_id         INTEGER NOT NULL REFERENCES units(id),
  unit_path       TEXT NOT NULL,
  organisation_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  name_fold       TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  join_policy     TEXT NOT NULL,
  announce_only   INTEGER NOT NULL DEFAULT 0,
  created_by      INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  created_at      BIGINT NOT NULL,
  last_message_id BIGINT NOT NULL DEFAULT 0,
  last_message_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX groups_path ON community_groups(unit_path);
CREATE INDEX groups_org ON community_groups(organisation_id);

CREATE TABLE group_members (
  group_id     INTEGER NOT NULL REFERENCES community_groups(id) ON DELETE CASCADE,
  account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  role         TEXT NOT NULL,
  state        TEXT NOT NULL,
  muted_until  BIGINT NOT NULL DEFAULT 0,
  last_read_id BIGINT NOT NULL DEFAULT 0,
  joined_at    BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL,
  PRIMARY KEY (group_id, account_id)
);
CREATE INDEX group_members_account ON group_members(account_id, state);
CREATE INDEX group_members_state ON group_members(group_id, state, last_read_id);

CREATE TABLE group_invites (
  id         INTEGER PRIMARY KEY,
  group_id   INTEGER NOT NULL REFERENCES community_groups(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  created_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL DEFAULT 0,
  uses       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX group_invites_group ON group_invites(group_id, id);

CREATE TABLE group_messages (
  id          INTEGER PRIMARY KEY,
  group_id    INTEGER NOT NULL REFERENCES community_groups(id) ON DELETE CASCADE,
  author_id   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  author_name TEXT NOT NULL,
  reply_to    INTEGER REFERENCES group_messages(id),
  body        TEXT NOT NULL,
  body_fold   TEXT NOT NULL,
  photo       TEXT NOT NULL DEFAULT '',
  photo_w     INTEGER NOT NULL DEFAULT 0,
  photo_h     INTEGER NOT NULL DEFAULT 0,
  lat         DOUBLE PRECISION,
  lon         DOUBLE PRECISION,
  created_at  BIGINT NOT NULL,
  edited_at   BIGINT NOT NULL DEFAULT 0,
  deleted_at  BIGINT NOT NULL DEFAULT 0,
  hidden_at   BIGINT NOT NULL DEFAULT 0,
  hidden_by   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  pinned_at   BIGINT NOT NULL DEFAULT 0,
  replies     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX group_messages_group ON group_messages(group_id, id);
CREATE INDEX group_messages_thread ON group_messages(reply_to, id);

CREATE TABLE group_message_edits (
  id         INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES group_messages(id) ON DELETE CASCADE,
  body       TEXT NOT NULL,
  edited_at  BIGINT NOT NULL,
  editor_id  INTEGER REFERENCES accounts(id) ON DELETE SET NULL
);
CREATE INDEX group_message_edits_message ON group_message_edits(message_id, id);

CREATE TABLE group_reactions (
  message_id INTEGER NOT NULL REFERENCES group_messages(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  emoji      TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (message_id, account_id, emoji)
);

CREATE TABLE group_mentions (
  message_id INTEGER NOT NULL REFERENCES group_messages(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  PRIMARY KEY (message_id, account_id)
);
CREATE INDEX group_mentions_account ON group_mentions(account_id, message_id);

CREATE TABLE group_reports (
  id          INTEGER PRIMARY KEY,
  group_id    INTEGER NOT NULL REFERENCES community_groups(id) ON DELETE CASCADE,
  message_id  INTEGER NOT NULL REFERENCES group_messages(id) ON DELETE CASCADE,
  reporter_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  reason      TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  resolved_at BIGINT NOT NULL DEFAULT 0,
  resolved_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  outcome     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX group_reports_open ON group_reports(group_id, resolved_at, id);
CREATE UNIQUE INDEX group_reports_once ON group_reports(message_id, reporter_id);
