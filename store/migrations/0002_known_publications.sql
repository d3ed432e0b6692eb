-- Publications that existed when a digest was decided but were deliberately
-- not announced (the archive older than the first digest's window): a later
-- digest must not take them for new. What is new is then every published
-- publication that is neither in sent_publications nor here.
CREATE TABLE known_publications (
    publication_id TEXT    PRIMARY KEY,
    digest_id      INTEGER NOT NULL REFERENCES digests (id) ON DELETE CASCADE,
    known_at       INTEGER NOT NULL
);
