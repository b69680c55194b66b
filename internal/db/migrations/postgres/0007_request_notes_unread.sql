-- request: the unread request notifications of an account, for the badge
-- every page shows a signed-in resident: a partial index holds only the
-- unread rows, so the count never walks an account's read history.
CREATE INDEX request_notifications_unread ON request_notifications(account_id, id) WHERE seen_at IS NULL;
