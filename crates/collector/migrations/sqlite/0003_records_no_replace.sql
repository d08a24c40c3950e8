-- REPLACE (INSERT OR REPLACE, or a conflict clause of REPLACE) deletes the row it writes over
-- without firing records_no_delete (SQLite fires delete triggers for it only with
-- recursive_triggers on): a row could be swapped for another, its link recomputed. A row
-- whose seq or record_id is stored already is refused before it is inserted, as a plain
-- INSERT's constraints would refuse it. (PostgreSQL has no REPLACE; its ON CONFLICT DO
-- UPDATE is an update, which records_no_update refuses.)
CREATE TRIGGER records_no_replace BEFORE INSERT ON records
WHEN EXISTS (SELECT 1 FROM records WHERE seq = NEW.seq OR record_id = NEW.record_id)
BEGIN
    SELECT RAISE(ABORT, 'records are append-only');
END;
