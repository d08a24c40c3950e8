-- As migrations/sqlite/0005_health_probe.sql.
CREATE TABLE health_probe (
    id         bigint PRIMARY KEY CHECK (id = 1),
    written_at bigint NOT NULL
);
