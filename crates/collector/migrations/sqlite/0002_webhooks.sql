-- The change feed reads the records that have a subject, in chain order.
CREATE INDEX records_changes ON records (seq) WHERE subject IS NOT NULL;

-- Webhook deliveries: one row per change, inserted in the same transaction as its record,
-- so a stored change is never without its delivery. Not part of the chain: a row is updated
-- as its delivery goes on. Times are unix milliseconds. A worker owns a row while
-- `lease_until` is in the future and `lease_token` is its own.
CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY REFERENCES records (seq),
    status           TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  INTEGER NOT NULL,
    first_attempt_at INTEGER,
    lease_until      INTEGER,
    lease_token      TEXT,
    last_error       TEXT,
    finished_at      INTEGER
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
