-- The statistics count an inspection's closures per half month from its closed findings'
-- closing times (reports::queries::closures_by_period): a range scan of this index. It
-- replaces (inspection_id, status), which it serves as well.
CREATE INDEX findings_inspection_closed_idx ON findings (inspection_id, status, closed_at);
DROP INDEX findings_inspection_status_idx;
