-- request: the (unit_path, created_at) index now holds only the requests
-- routed below their ward (a khu phố or a tổ), the only ones a query by
-- unit path needs it for: a ward's requests are read through
-- (ward_id, created_at), and a province's newest first through
-- (created_at). Every request routed to its ward used to cost a write at a
-- random page of it.
DROP INDEX requests_path;
CREATE INDEX requests_below_ward ON requests(unit_path, created_at) WHERE unit_id <> ward_id;
