-- notice: deliveries keyed by the household's unit id instead of its path.
-- A key of three integers is a third narrower than one holding the path,
-- and the acknowledgement columns hold NULL until a household acknowledges
-- (no '' and 0 on every row), so materialising a notice writes fewer bytes.
-- A subtree's reach is the range of its units (units_path) joined to the key.
CREATE TABLE notice_deliveries_v8 (
  notice_id    INTEGER NOT NULL,
  unit_id      INTEGER NOT NULL,
  household_id INTEGER NOT NULL,
  delivered_at BIGINT,
  seen_at      BIGINT,
  acked_at     BIGINT,
  acked_by     INTEGER,
  ack_name     TEXT,
  ack_proxy    INTEGER,
  ack_note     TEXT,
  PRIMARY KEY (notice_id, unit_id, household_id)
) WITHOUT ROWID;
INSERT INTO notice_deliveries_v8(notice_id, unit_id, household_id, delivered_at, seen_at, acked_at, acked_by, ack_name, ack_proxy, ack_note)
SELECT d.notice_id, u.id, d.household_id, d.delivered_at, d.seen_at, d.acked_at, d.acked_by,
       NULLIF(d.ack_name, ''), NULLIF(d.ack_proxy, 0), NULLIF(d.ack_note, '')
FROM notice_deliveries d JOIN units u ON u.path = d.unit_path;
DROP TABLE notice_deliveries;
ALTER TABLE notice_deliveries_v8 RENAME TO notice_deliveries;
