-- Slipway's durable store: deliveries, the job queue, unit runs, and the ids of what Slipway
-- posted. The SQLite migration of the same number holds the same schema; only ids and
-- types differ. Timestamps are milliseconds since the Unix epoch.

-- A webhook delivery; its id is X-GitHub-Delivery, so a redelivery finds its row.
CREATE TABLE deliveries (
    id          TEXT    NOT NULL PRIMARY KEY,
    event       TEXT    NOT NULL,
    action      TEXT,
    repo        TEXT,
    handled     BOOLEAN NOT NULL,
    received_at BIGINT  NOT NULL
);

-- The job queue. A worker claims a job by writing its name and a lease expiry; a job whose
-- lease expired is claimed again.
CREATE TABLE jobs (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery         TEXT    REFERENCES deliveries (id),
    kind             TEXT    NOT NULL,
    repo             TEXT    NOT NULL,
    pr               BIGINT,
    head             TEXT,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_holder     TEXT,
    lease_expires_at BIGINT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    outcome          TEXT
);

-- At most one queued or running job per (repo, pr, head, kind); a finished one does not count,
-- so the same work may be asked for again. An absent pr or head counts as one value.
CREATE UNIQUE INDEX jobs_one_active
    ON jobs (repo, COALESCE(pr, -1), COALESCE(head, ''), kind)
    WHERE state IN ('queued', 'running');

-- What claim and the supersede step look for.
CREATE INDEX jobs_claimable ON jobs (state, id);
CREATE INDEX jobs_of_pr ON jobs (repo, pr, kind);

-- One unit's run within a job.
CREATE TABLE runs (
    job           BIGINT  NOT NULL REFERENCES jobs (id),
    unit          TEXT    NOT NULL,
    env           TEXT,
    action        TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    plan_checksum TEXT,
    started       BIGINT,
    finished      BIGINT,
    outcome       TEXT,
    PRIMARY KEY (job, unit)
);

-- The sticky comment of a pull request (position 0) and its continuations.
CREATE TABLE comments (
    repo       TEXT    NOT NULL,
    pr         BIGINT  NOT NULL,
    position   INTEGER NOT NULL,
    comment_id BIGINT  NOT NULL,
    PRIMARY KEY (repo, pr, position)
);

-- The check runs Slipway made, by commit and name, so that a retry updates rather than adds.
CREATE TABLE check_runs (
    repo         TEXT   NOT NULL,
    head         TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    check_run_id BIGINT NOT NULL,
    PRIMARY KEY (repo, head, name)
);
