-- trothu schema v1 (SQLite). Timestamps are Unix milliseconds UTC; dates are
-- 'YYYY-MM-DD' text; booleans are 0/1; materialised paths are '/id/id/…/'.
CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at BIGINT NOT NULL
);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- area: the administrative tree, effective-dated.
CREATE TABLE units (
  id         INTEGER PRIMARY KEY,
  parent_id  INTEGER REFERENCES units(id),
  path       TEXT NOT NULL,
  level      TEXT NOT NULL,
  code       TEXT,
  name       TEXT NOT NULL,
  full_name  TEXT NOT NULL,
  kind       TEXT NOT NULL,
  name_en    TEXT NOT NULL DEFAULT '',
  name_fold  TEXT NOT NULL,
  valid_from TEXT,
  valid_to   TEXT,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX units_path ON units(path);
CREATE INDEX units_parent ON units(parent_id, name_fold);
CREATE UNIQUE INDEX units_code_current ON units(level, code) WHERE valid_to IS NULL AND code IS NOT NULL;
CREATE UNIQUE INDEX units_code_old ON units(level, code) WHERE valid_to IS NOT NULL AND code IS NOT NULL;
CREATE INDEX units_fold ON units(name_fold);

CREATE TABLE unit_successors (
  old_unit_id INTEGER NOT NULL REFERENCES units(id),
  new_unit_id INTEGER NOT NULL REFERENCES units(id),
  merge_type  TEXT NOT NULL,
  PRIMARY KEY (old_unit_id, new_unit_id)
);
CREATE INDEX unit_successors_new ON unit_successors(new_unit_id);

CREATE TABLE households (
  id               INTEGER PRIMARY KEY,
  unit_id          INTEGER NOT NULL REFERENCES units(id),
  unit_path        TEXT NOT NULL,
  code             TEXT,
  address          TEXT NOT NULL,
  address_fold     TEXT NOT NULL,
  head_resident_id INTEGER,
  flags            INTEGER NOT NULL DEFAULT 0,
  lat              DOUBLE PRECISION,
  lon              DOUBLE PRECISION,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL
);
CREATE INDEX households_path ON households(unit_path, id);
CREATE INDEX households_unit ON households(unit_id);
CREATE UNIQUE INDEX households_code ON households(unit_id, code) WHERE code IS NOT NULL;

CREATE TABLE residents (
  id           INTEGER PRIMARY KEY,
  household_id INTEGER NOT NULL REFERENCES households(id) ON DELETE CASCADE,
  unit_path    TEXT NOT NULL,
  full_name    TEXT NOT NULL,
  name_fold    TEXT NOT NULL,
  birth_year   INTEGER,
  gender       TEXT NOT NULL DEFAULT '',
  relation     TEXT NOT NULL DEFAULT '',
  phone        TEXT,
  cccd_enc     TEXT,
  cccd_hmac    TEXT,
  cccd_last4   TEXT,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);
CREATE INDEX residents_household ON residents(household_id);
CREATE INDEX residents_path ON residents(unit_path, name_fold);
CREATE INDEX residents_phone ON residents(phone);
CREATE UNIQUE INDEX residents_cccd ON residents(cccd_hmac) WHERE cccd_hmac IS NOT NULL;

CREATE TABLE organisations (
  id         INTEGER PRIMARY KEY,
  unit_id    INTEGER NOT NULL REFERENCES units(id),
  unit_path  TEXT NOT NULL,
  kind       TEXT NOT NULL,
  name       TEXT NOT NULL,
  name_fold  TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX organisations_path ON organisations(unit_path);

CREATE TABLE organisation_members (
  organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  resident_id     INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
  title           TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (organisation_id, resident_id)
);
CREATE INDEX organisation_members_resident ON organisation_members(resident_id);

-- account
CREATE TABLE accounts (
  id            INTEGER PRIMARY KEY,
  phone         TEXT NOT NULL UNIQUE,
  name          TEXT NOT NULL,
  resident_id   INTEGER REFERENCES residents(id) ON DELETE SET NULL,
  password_hash TEXT,
  totp_secret   TEXT,
  totp_enabled  INTEGER NOT NULL DEFAULT 0,
  lang          TEXT NOT NULL DEFAULT 'vi',
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    BIGINT NOT NULL,
  last_login_at BIGINT
);
CREATE INDEX accounts_resident ON accounts(resident_id);

CREATE TABLE role_grants (
  id         INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  role       TEXT NOT NULL,
  unit_id    INTEGER NOT NULL REFERENCES units(id),
  unit_path  TEXT NOT NULL,
  granted_by INTEGER,
  created_at BIGINT NOT NULL,
  UNIQUE (account_id, role, unit_id)
);
CREATE INDEX role_grants_path ON role_grants(unit_path);

CREATE TABLE sessions (
  id_hash      TEXT PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind         TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  ip           TEXT NOT NULL DEFAULT '',
  user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions(account_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE otp_codes (
  id         INTEGER PRIMARY KEY,
  phone      TEXT NOT NULL,
  code_hash  TEXT NOT NULL,
  ip         TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  used_at    BIGINT
);
CREATE INDEX otp_codes_phone ON otp_codes(phone, created_at);
CREATE INDEX otp_codes_ip ON otp_codes(ip, created_at);

-- audit: append-only, enforced by the database.
CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY,
  at           BIGINT NOT NULL,
  actor_id     INTEGER,
  actor_name   TEXT NOT NULL DEFAULT '',
  action       TEXT NOT NULL,
  subject_type TEXT NOT NULL DEFAULT '',
  subject_id   TEXT NOT NULL DEFAULT '',
  unit_path    TEXT NOT NULL DEFAULT '',
  ip           TEXT NOT NULL DEFAULT '',
  detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_path ON audit_log(unit_path, at);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- geo: ward boundaries, loaded by `trothu import boundaries`; the server
-- builds its in-memory index from these rows at start. Layer "national" is
-- the simplified national file, "detail" full-resolution overrides (HCMC).
CREATE TABLE boundaries (
  layer         TEXT NOT NULL,
  code          TEXT NOT NULL,
  name          TEXT NOT NULL,
  full_name     TEXT NOT NULL,
  type          TEXT NOT NULL DEFAULT '',
  province_code TEXT NOT NULL,
  province_name TEXT NOT NULL,
  geometry      TEXT NOT NULL,
  updated_at    BIGINT NOT NULL,
  PRIMARY KEY (layer, code)
);
