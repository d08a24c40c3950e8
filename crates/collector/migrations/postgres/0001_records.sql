-- Append-only consent records in one hash chain. No IP, no user agent, no e-mail:
-- `subject` is an HMAC of the normalised address, `body` the record without it.
-- Text columns rather than uuid/jsonb/timestamptz: the stored bytes are what was hashed.
CREATE TABLE records (
    seq         bigint PRIMARY KEY CHECK (seq > 0),
    record_id   text   NOT NULL UNIQUE CHECK (record_id ~ '^[0-9a-f-]{36}$'),
    site        text   NOT NULL,
    subject     text   CHECK (subject ~ '^hmac-sha256:[0-9a-f]{64}$'),
    body        text   NOT NULL,
    digest      text   NOT NULL CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
    prev_hash   text   NOT NULL CHECK (prev_hash ~ '^sha256:[0-9a-f]{64}$'),
    chain_hash  text   NOT NULL CHECK (chain_hash ~ '^sha256:[0-9a-f]{64}$'),
    received_at text   NOT NULL,
    receipt     text   NOT NULL
);

CREATE INDEX records_subject ON records (subject) WHERE subject IS NOT NULL;

CREATE FUNCTION records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'records are append-only';
END;
$$;

-- Row triggers refuse UPDATE and DELETE, the statement trigger TRUNCATE.
CREATE TRIGGER records_no_update BEFORE UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION records_append_only();

CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION records_append_only();
