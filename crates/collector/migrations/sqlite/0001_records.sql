-- Append-only consent records in one hash chain. No IP, no user agent, no e-mail:
-- `subject` is an HMAC of the normalised address, `body` the record without it.
-- STRICT: SQLite checks the column types like PostgreSQL does.
CREATE TABLE records (
    seq         INTEGER PRIMARY KEY CHECK (seq > 0),
    record_id   TEXT    NOT NULL UNIQUE CHECK (length(record_id) = 36),
    site        TEXT    NOT NULL,
    subject     TEXT    CHECK (subject GLOB 'hmac-sha256:*'),
    body        TEXT    NOT NULL CHECK (json_valid(body)),
    digest      TEXT    NOT NULL CHECK (digest GLOB 'sha256:*' AND length(digest) = 71),
    prev_hash   TEXT    NOT NULL CHECK (prev_hash GLOB 'sha256:*' AND length(prev_hash) = 71),
    chain_hash  TEXT    NOT NULL CHECK (chain_hash GLOB 'sha256:*' AND length(chain_hash) = 71),
    received_at TEXT    NOT NULL,
    receipt     TEXT    NOT NULL
) STRICT;

CREATE INDEX records_subject ON records (subject) WHERE subject IS NOT NULL;

CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are append-only');
END;

CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are append-only');
END;
