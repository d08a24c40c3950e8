-- Append-only consent records in one hash chain. No IP, no user agent, no e-mail:
-- `subject` is an HMAC of the normalised address, `body` the record without it.
CREATE TABLE records (
    seq         BIGINT  PRIMARY KEY,
    record_id   TEXT    NOT NULL UNIQUE,
    site        TEXT    NOT NULL,
    subject     TEXT,
    body        TEXT    NOT NULL,
    digest      TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    chain_hash  TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    receipt     TEXT    NOT NULL
);

CREATE INDEX records_subject ON records (subject) WHERE subject IS NOT NULL;

CREATE FUNCTION records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'records are append-only';
END;
$$;

CREATE TRIGGER records_no_update BEFORE UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION records_append_only();

CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION records_append_only();
