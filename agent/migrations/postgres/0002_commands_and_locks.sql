-- Comment commands and unit locks. The other store's migration of the same number holds the
-- same schema; only ids differ.

-- Each comment command is its own job: two comments on one pull request make two jobs (a
-- redelivery is still caught by its delivery id).
DROP INDEX jobs_one_active;
CREATE UNIQUE INDEX jobs_one_active
    ON jobs (repo, COALESCE(pr, -1), COALESCE(head, ''), kind)
    WHERE state IN ('queued', 'running') AND kind <> 'command';

-- Every command Slipway was given, accepted or refused: who asked what, when, on which commit
-- and environment, and what came of it.
CREATE TABLE commands (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repo       TEXT    NOT NULL,
    pr         BIGINT  NOT NULL,
    comment_id BIGINT  NOT NULL,
    author     TEXT    NOT NULL,
    command    TEXT    NOT NULL,
    env        TEXT,
    head       TEXT,
    outcome    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    at         BIGINT  NOT NULL
);
CREATE INDEX commands_of_pr ON commands (repo, pr);

-- Unit locks: a pull request whose plan of a unit is not yet applied holds the unit, so that no
-- other pull request's plan of it can be applied in between.
CREATE TABLE locks (
    repo  TEXT   NOT NULL,
    unit  TEXT   NOT NULL,
    env   TEXT,
    pr    BIGINT NOT NULL,
    head  TEXT   NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (repo, unit)
);
CREATE INDEX locks_of_pr ON locks (repo, pr);

-- Pull requests refused a unit's lock, so that releasing the lock checks them again.
CREATE TABLE lock_waits (
    repo TEXT   NOT NULL,
    unit TEXT   NOT NULL,
    pr   BIGINT NOT NULL,
    head TEXT   NOT NULL,
    PRIMARY KEY (repo, unit, pr)
);
