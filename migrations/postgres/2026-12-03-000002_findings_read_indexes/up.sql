-- A page of an inspection's findings by due date (`sort=due_on` / `sort=-due_on`) reads this
-- index in order (forwards or backwards) instead of sorting every finding of the inspection.
-- The expression matches the ORDER BY's: findings without a due date last going up, first
-- going down, alike on both backends.
CREATE INDEX findings_inspection_due_idx ON findings (inspection_id, (due_on IS NULL), due_on, id);

-- The statistics of an inspection group its findings by these columns in one pass
-- (`reports::queries::finding_tallies`): from this index alone, in its order, without
-- visiting the table or hashing.
CREATE INDEX findings_tally_idx ON findings (inspection_id, section_id, responsible_unit_id, status, due_on, closed_at);
