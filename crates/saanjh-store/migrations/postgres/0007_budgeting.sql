-- Participatory budgeting rounds (issue 7, part 3).

-- Projections, rebuilt from the round_*, proposal_* and ballot_cast events.
-- A round's state (its record, phase, proposals with their reviews, the
-- published count) is core's fold `budgeting::apply`, kept as JSON; ballots
-- are rows of their own so a round with many voters is never rewritten whole.
CREATE TABLE pb_rounds (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    council_id TEXT NOT NULL,
    district TEXT NOT NULL,
    phase TEXT NOT NULL,
    budget BIGINT NOT NULL,
    demo BIGINT NOT NULL,
    state TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX pb_rounds_opened ON pb_rounds (opened_at, id);
CREATE TABLE pb_ballots (
    round_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    method TEXT NOT NULL,
    serial TEXT,
    entered_by TEXT,
    voter_id TEXT,
    union_council TEXT,
    approvals TEXT NOT NULL,
    cast_at TEXT NOT NULL,
    PRIMARY KEY (round_id, number)
);
-- A paper ballot's serial number is used once per round.
CREATE UNIQUE INDEX pb_ballots_serial ON pb_ballots (round_id, serial);

-- Outside the event log: who has voted online. Only a salted SHA-256 of the
-- voter's CNIC number, with a salt per round that is itself kept here, so
-- the public log cannot be searched for a person and two rounds' voters
-- cannot be linked. Deliberately no link to the ballot: the vote is secret.
CREATE TABLE pb_round_salts (
    round_id TEXT PRIMARY KEY,
    salt TEXT NOT NULL
);
CREATE TABLE pb_voters (
    round_id TEXT NOT NULL,
    voter_hash TEXT NOT NULL,
    voted_at TEXT NOT NULL,
    PRIMARY KEY (round_id, voter_hash)
);
