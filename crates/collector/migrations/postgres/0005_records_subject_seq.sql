-- One person's rows are read in chain order, 1,000 a page (identity, the lookup, an
-- unsubscribe, each webhook delivery's standing): with the subject alone indexed, each page
-- fetched and sorted all of that person's rows. (SQLite's index on subject holds the rowid,
-- which is seq, so it reads them in order already.) record_id too, as the page's order
-- has it (rows sharing a seq, which only a tampered table has): no sort at all.
CREATE INDEX records_subject_seq ON records (subject, seq, record_id) WHERE subject IS NOT NULL;
DROP INDEX records_subject;
