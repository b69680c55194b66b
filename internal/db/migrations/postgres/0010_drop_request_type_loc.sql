-- request: the index on (type_id, lat, created_at) served one query, the
-- similar open requests near a point shown before a resident files, and
-- cost every filed request a write at a random page of it. That query now
-- reads the (ward_id, created_at) index of the wards around the point.
DROP INDEX requests_type_loc;
