-- Subscribers of the digest. Timestamps are unix seconds (UTC); NULL means "never".
-- AUTOINCREMENT keeps ids from being reused after a delete, so an orphaned ledger row
-- can never be mistaken for a delivery to a newer subscriber.
CREATE TABLE subscribers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    email                TEXT    NOT NULL UNIQUE,
    name                 TEXT    NOT NULL DEFAULT '',
    lang                 TEXT    NOT NULL DEFAULT '',
    topics               TEXT    NOT NULL DEFAULT '[]',
    status               TEXT    NOT NULL
        CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    confirmed_at         INTEGER,
    unsubscribed_at      INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subscribers_status ON subscribers (status);

-- The *_count columns freeze the ledger's counts when the digest is done (no
-- delivery of a done digest can change), so listing the archive reads no ledger.
CREATE TABLE digests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    status        TEXT    NOT NULL CHECK (status IN ('sending', 'done')),
    subject       TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    sent_count    INTEGER NOT NULL DEFAULT 0,
    failed_count  INTEGER NOT NULL DEFAULT 0,
    skipped_count INTEGER NOT NULL DEFAULT 0
);
-- At most one digest is being sent at any time, whatever the code above does.
CREATE UNIQUE INDEX digests_one_sending ON digests (status) WHERE status = 'sending';

-- The frozen snapshot of what a digest contains, one JSON document per item.
CREATE TABLE digest_items (
    digest_id      INTEGER NOT NULL REFERENCES digests (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    publication_id TEXT    NOT NULL,
    item           TEXT    NOT NULL,
    PRIMARY KEY (digest_id, position)
);

-- Publications already announced by a digest: each is announced once.
CREATE TABLE sent_publications (
    publication_id TEXT    PRIMARY KEY,
    digest_id      INTEGER NOT NULL REFERENCES digests (id) ON DELETE CASCADE
);
CREATE INDEX sent_publications_digest ON sent_publications (digest_id);

-- The delivery ledger. subscriber_id has no foreign key on purpose: removing a
-- subscriber deletes their pending rows but keeps the history of past digests.
CREATE TABLE deliveries (
    digest_id     INTEGER NOT NULL REFERENCES digests (id) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    message_id    TEXT    NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (digest_id, subscriber_id)
) WITHOUT ROWID;
-- Serves the keyset pagination of pending rows. Partial, so that recording a
-- delivery removes one index entry instead of moving it.
CREATE INDEX deliveries_pending ON deliveries (digest_id, subscriber_id) WHERE status = 'pending';

-- Cross-process locks (the send lock), kept alive by a heartbeat.
CREATE TABLE locks (
    name         TEXT    PRIMARY KEY,
    holder       TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    hostname     TEXT    NOT NULL,
    pid_ns       TEXT    NOT NULL DEFAULT '',
    acquired_at  INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
