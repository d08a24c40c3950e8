-- Webhook endpoints that answered 410 Gone. The Standard Webhooks spec: the sender should
-- disable such an endpoint and stop sending it messages. No delivery is claimed for an
-- endpoint named here (its deliveries wait, queued); `assent-collector requeue` empties
-- the table. An endpoint is named by the SHA-256 of its URL ("sha256:<hex>"): the URL may
-- carry a token of the receiver's, which stays out of the database. `seq` is the change
-- whose delivery was answered 410; times are unix milliseconds.
CREATE TABLE webhook_endpoints_gone (
    endpoint text    PRIMARY KEY,
    gone_at  bigint  NOT NULL,
    seq      bigint  NOT NULL
);
