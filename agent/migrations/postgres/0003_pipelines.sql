-- The promotion pipeline of each merged pull request, as one document (agent::pipeline), with a
-- version that every save must name: two writers never both change it from the same state.
-- The other store's migration of the same number holds the same schema.
CREATE TABLE pipelines (
    repo       TEXT   NOT NULL,
    pr         BIGINT NOT NULL,
    commit_sha TEXT   NOT NULL,
    state      TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repo, pr)
);
