DROP INDEX findings_tally_idx;
DROP INDEX findings_inspection_due_idx;
