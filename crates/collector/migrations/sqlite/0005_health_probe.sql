-- One row, written by a collector's writer while its appends fail for a reason of the
-- database's (src/store/health.rs): the write that tells when the database takes writes
-- again. Nothing reads it. Unix milliseconds.
CREATE TABLE health_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    written_at INTEGER NOT NULL
) STRICT;
