CREATE INDEX findings_inspection_status_idx ON findings (inspection_id, status);
DROP INDEX findings_inspection_closed_idx;
