-- Kept diagnosis digests (issue 8): beside each kept fold, what a
-- diagnosis needs of it (`saanjh_core::diagnosis::Digest`: the indicators
-- that depend on the events only, the obligations and the few figures the
-- clock- and context-dependent indicators are recomputed from at read
-- time), a few kilobytes instead of the whole fold, so that comparisons
-- and QCA over thousands of initiatives need not read every fold back. It
-- shares the row's key (chain position, arrangement version, format) and
-- is written with it; NULL where none could be taken (an arrangement that
-- defines its own indicators needs the whole fold).
ALTER TABLE diagnosis_snapshots ADD COLUMN digest TEXT;
