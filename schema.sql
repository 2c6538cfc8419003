-- Keyward schema.
--
-- The file is applied in blocks. Each block starts with a line "-- version: N"
-- and runs once, in order, inside one transaction, when the database's
-- PRAGMA user_version is below N; user_version then becomes N. A newer binary
-- therefore upgrades an older database file in place. Never edit a block that
-- has shipped: append a new one (ALTER TABLE, CREATE INDEX, ...). sqlc reads
-- the whole file as the schema.
--
-- Times are DATETIME columns written by Go as UTC text that SQLite's date
-- functions understand ("2006-01-02 15:04:05.999999999+00:00").

-- version: 1

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT     NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT     NOT NULL,
    is_admin      BOOLEAN  NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

-- Server-side half of a browser session; the cookie holds the random id,
-- this table only its SHA-256.
CREATE TABLE web_sessions (
    id_hash      BLOB     PRIMARY KEY,
    user_id      INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    source_addr  TEXT     NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- Failed logins per subject ("user:NAME" or "addr:IP").
CREATE TABLE login_throttle (
    subject         TEXT     PRIMARY KEY,
    failures        INTEGER  NOT NULL,
    last_failure_at DATETIME NOT NULL,
    locked_until    DATETIME
);

-- Small key/value store for instance state (setup token hash, ...).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Personal API Access Tokens; only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id           INTEGER  PRIMARY KEY,
    user_id      INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT     NOT NULL,
    token_hash   BLOB     NOT NULL UNIQUE,
    prefix       TEXT     NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME,
    last_used_at DATETIME,
    revoked_at   DATETIME,
    UNIQUE (user_id, name)
);

CREATE TABLE projects (
    id          INTEGER  PRIMARY KEY,
    name        TEXT     NOT NULL UNIQUE,
    description TEXT     NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

-- permissions is a sorted, comma-separated list such as "AUDIT:VIEW,SECRETS:VIEW".
CREATE TABLE project_members (
    project_id  INTEGER  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id     INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permissions TEXT     NOT NULL,
    updated_at  DATETIME NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

-- Deployment targets. webhook_secret is sealed by internal/seal and bound to
-- the row ("environment/<id>/webhook-secret").
CREATE TABLE environments (
    id             INTEGER  PRIMARY KEY,
    name           TEXT     NOT NULL UNIQUE,
    description    TEXT     NOT NULL DEFAULT '',
    webhook_url    TEXT     NOT NULL DEFAULT '',
    webhook_secret BLOB,
    revision       INTEGER  NOT NULL DEFAULT 0,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);

-- One row per deploy or undeploy published to an environment.
CREATE TABLE deployments (
    id             INTEGER  PRIMARY KEY,
    environment_id INTEGER  NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    revision       INTEGER  NOT NULL,
    actor          TEXT     NOT NULL,
    action         TEXT     NOT NULL,
    project        TEXT     NOT NULL,
    object_type    TEXT     NOT NULL,
    object_name    TEXT     NOT NULL,
    success        BOOLEAN  NOT NULL,
    message        TEXT     NOT NULL DEFAULT '',
    webhook_status TEXT     NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL
);
CREATE INDEX deployments_environment ON deployments (environment_id, id);

-- Append-only, hash-chained audit log. hash = HMAC-SHA256 over the entry's
-- fields and prev_hash; see internal/audit.
CREATE TABLE audit_log (
    id          INTEGER  PRIMARY KEY,
    at          DATETIME NOT NULL,
    actor       TEXT     NOT NULL,
    via         TEXT     NOT NULL DEFAULT '',
    action      TEXT     NOT NULL,
    project     TEXT     NOT NULL DEFAULT '',
    object      TEXT     NOT NULL DEFAULT '',
    environment TEXT     NOT NULL DEFAULT '',
    source_addr TEXT     NOT NULL DEFAULT '',
    outcome     TEXT     NOT NULL,
    detail      TEXT     NOT NULL DEFAULT '',
    prev_hash   TEXT     NOT NULL,
    hash        TEXT     NOT NULL
);
CREATE INDEX audit_log_project ON audit_log (project, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- version: 2

-- Audit log read paths (measured in docs/benchmarks.md). Object filters get
-- an index; project+action filters a composite one; and the project and
-- actor indexes now carry `at`, so that a date range combined with either is
-- tested in the index instead of loading every row of the project or actor.
CREATE INDEX audit_log_object ON audit_log (object, id);
CREATE INDEX audit_log_project_action ON audit_log (project, action, id);
DROP INDEX audit_log_project;
CREATE INDEX audit_log_project_id_at ON audit_log (project, id, at);
DROP INDEX audit_log_actor;
CREATE INDEX audit_log_actor_id_at ON audit_log (actor, id, at);

-- version: 3
-- Keys, their per-environment configurations, JWKs and gateway tokens.

-- A key: name unique in its project and never renamed. The project cannot be
-- deleted while it holds keys (no cascade).
CREATE TABLE keys (
    id          INTEGER  PRIMARY KEY,
    project_id  INTEGER  NOT NULL REFERENCES projects (id),
    name        TEXT     NOT NULL,
    description TEXT     NOT NULL DEFAULT '',
    key_type    TEXT     NOT NULL,
    algorithm   TEXT     NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (project_id, name)
);

-- One configuration of a key per environment. material (the current
-- content) is sealed by internal/seal, bound to
-- "key/<key_id>/environment/<environment_id>"; deployed_material is the
-- content gateways receive, sealed under the same binding plus "/deployed".
-- It changes only on deploy, so "Save" without deploy never changes what a
-- gateway sees. deployed_revision is the environment revision of the last
-- deploy, NULL while not deployed.
CREATE TABLE key_configs (
    id                INTEGER  PRIMARY KEY,
    key_id            INTEGER  NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    environment_id    INTEGER  NOT NULL REFERENCES environments (id),
    source            TEXT     NOT NULL,
    file_name         TEXT     NOT NULL DEFAULT '',
    alias             TEXT     NOT NULL DEFAULT '',
    material          BLOB     NOT NULL,
    format            TEXT     NOT NULL,
    bits              INTEGER  NOT NULL,
    curve             TEXT     NOT NULL DEFAULT '',
    fingerprint       TEXT     NOT NULL,
    warning           TEXT     NOT NULL DEFAULT '',
    deployed_revision    INTEGER,
    deployed_at          DATETIME,
    deployed_material    BLOB,
    deployed_fingerprint TEXT     NOT NULL DEFAULT '',
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL,
    UNIQUE (key_id, environment_id)
);
CREATE INDEX key_configs_environment ON key_configs (environment_id, deployed_revision);

-- A JWK remembers its source (source_key_id is NULL once disconnected or
-- when the source was deleted with "disconnect"; source_name stays).
CREATE TABLE jwks (
    id            INTEGER  PRIMARY KEY,
    project_id    INTEGER  NOT NULL REFERENCES projects (id),
    name          TEXT     NOT NULL,
    source_type   TEXT     NOT NULL,
    source_key_id INTEGER  REFERENCES keys (id) ON DELETE SET NULL,
    source_name   TEXT     NOT NULL,
    use           TEXT     NOT NULL,
    alg           TEXT     NOT NULL,
    kid           TEXT     NOT NULL DEFAULT '',
    secret        BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX jwks_source_key ON jwks (source_key_id);

-- The JWK built for one environment. A public JWK's JSON is stored as is
-- (public_json, and deployed_json once deployed); a secret (oct) JWK's JSON
-- is sealed (sealed_json, deployed_sealed), bound to
-- "jwk/<jwk_id>/environment/<environment_id>" (+ "/deployed").
CREATE TABLE jwk_configs (
    id                INTEGER  PRIMARY KEY,
    jwk_id            INTEGER  NOT NULL REFERENCES jwks (id) ON DELETE CASCADE,
    environment_id    INTEGER  NOT NULL REFERENCES environments (id),
    kid               TEXT     NOT NULL,
    public_json       TEXT     NOT NULL DEFAULT '',
    sealed_json       BLOB,
    deployed_json     TEXT     NOT NULL DEFAULT '',
    deployed_sealed   BLOB,
    deployed_revision INTEGER,
    deployed_at       DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    UNIQUE (jwk_id, environment_id)
);
CREATE INDEX jwk_configs_environment ON jwk_configs (environment_id, deployed_revision);

-- Environment-scoped tokens gateways use to read the bundle; SHA-256 only.
CREATE TABLE gateway_tokens (
    id             INTEGER  PRIMARY KEY,
    environment_id INTEGER  NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name           TEXT     NOT NULL,
    token_hash     BLOB     NOT NULL UNIQUE,
    prefix         TEXT     NOT NULL,
    created_at     DATETIME NOT NULL,
    last_used_at   DATETIME,
    revoked_at     DATETIME,
    UNIQUE (environment_id, name)
);

-- version: 4
-- A JWK's source is any item JWKs can be made from (a key now, a
-- certificate next): source_type names the kind and source_id its row, NULL
-- once disconnected. There is no foreign key, since the row lives in the
-- table of its kind; the service that deletes a source updates, disconnects
-- or deletes its JWKs in the same transaction. The tables are rebuilt (a
-- column in a foreign key cannot be dropped); jwk_configs is rebuilt first,
-- so that dropping the old jwks cascades to nothing.

CREATE TABLE jwks_v4 (
    id          INTEGER  PRIMARY KEY,
    project_id  INTEGER  NOT NULL REFERENCES projects (id),
    name        TEXT     NOT NULL,
    source_type TEXT     NOT NULL,
    source_id   INTEGER,
    source_name TEXT     NOT NULL,
    use         TEXT     NOT NULL,
    alg         TEXT     NOT NULL,
    kid         TEXT     NOT NULL DEFAULT '',
    secret      BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (project_id, name)
);
INSERT INTO jwks_v4 (id, project_id, name, source_type, source_id, source_name, use, alg, kid, secret, created_at, updated_at)
SELECT id, project_id, name, source_type, source_key_id, source_name, use, alg, kid, secret, created_at, updated_at FROM jwks;

CREATE TABLE jwk_configs_v4 (
    id                INTEGER  PRIMARY KEY,
    jwk_id            INTEGER  NOT NULL REFERENCES jwks_v4 (id) ON DELETE CASCADE,
    environment_id    INTEGER  NOT NULL REFERENCES environments (id),
    kid               TEXT     NOT NULL,
    public_json       TEXT     NOT NULL DEFAULT '',
    sealed_json       BLOB,
    deployed_json     TEXT     NOT NULL DEFAULT '',
    deployed_sealed   BLOB,
    deployed_revision INTEGER,
    deployed_at       DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    UNIQUE (jwk_id, environment_id)
);
INSERT INTO jwk_configs_v4 SELECT * FROM jwk_configs;
DROP TABLE jwk_configs;
DROP TABLE jwks;
ALTER TABLE jwks_v4 RENAME TO jwks;
ALTER TABLE jwk_configs_v4 RENAME TO jwk_configs;
CREATE INDEX jwks_source ON jwks (source_type, source_id);
CREATE INDEX jwk_configs_environment ON jwk_configs (environment_id, deployed_revision);

-- version: 5
-- Certificates (seed 001), their per-environment configurations, and each
-- environment's truststore.

-- A certificate: name unique in its project and never renamed.
CREATE TABLE certificates (
    id          INTEGER  PRIMARY KEY,
    project_id  INTEGER  NOT NULL REFERENCES projects (id),
    name        TEXT     NOT NULL,
    description TEXT     NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (project_id, name)
);

-- One certificate per environment: der is the certificate stored, chain_pem
-- the certificates given with it (its issuers, nearest first). Certificates
-- are public, so nothing here is sealed. The parsed columns serve lists and
-- filters. deployed_* is what gateways receive; it changes only on deploy.
-- project_id repeats the certificate's, so that an alias is unique per
-- environment within a project.
CREATE TABLE certificate_configs (
    id                 INTEGER  PRIMARY KEY,
    certificate_id     INTEGER  NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    project_id         INTEGER  NOT NULL REFERENCES projects (id),
    environment_id     INTEGER  NOT NULL REFERENCES environments (id),
    source             TEXT     NOT NULL,
    source_url         TEXT     NOT NULL DEFAULT '',
    file_name          TEXT     NOT NULL DEFAULT '',
    alias              TEXT     NOT NULL DEFAULT '',
    der                BLOB     NOT NULL,
    chain_pem          TEXT     NOT NULL DEFAULT '',
    subject            TEXT     NOT NULL,
    issuer             TEXT     NOT NULL,
    serial             TEXT     NOT NULL,
    not_before         DATETIME NOT NULL,
    not_after          DATETIME NOT NULL,
    sha1               TEXT     NOT NULL,
    sha256             TEXT     NOT NULL,
    deployed_revision  INTEGER,
    deployed_at        DATETIME,
    deployed_der       BLOB,
    deployed_chain_pem TEXT     NOT NULL DEFAULT '',
    deployed_sha256    TEXT     NOT NULL DEFAULT '',
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    UNIQUE (certificate_id, environment_id)
);
CREATE UNIQUE INDEX certificate_configs_alias ON certificate_configs (project_id, environment_id, alias) WHERE alias <> '';
CREATE INDEX certificate_configs_environment ON certificate_configs (environment_id, deployed_revision);
CREATE INDEX certificate_configs_expiry ON certificate_configs (project_id, not_after);

-- The CA certificates a team adds to an environment's truststore (the
-- built-in roots come with the binary). Adding or removing one is a deploy.
CREATE TABLE truststore_cas (
    id             INTEGER  PRIMARY KEY,
    environment_id INTEGER  NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    sha256         TEXT     NOT NULL,
    alias          TEXT     NOT NULL DEFAULT '',
    der            BLOB     NOT NULL,
    subject        TEXT     NOT NULL,
    not_after      DATETIME NOT NULL,
    source         TEXT     NOT NULL DEFAULT '',
    added_by       TEXT     NOT NULL,
    created_at     DATETIME NOT NULL,
    UNIQUE (environment_id, sha256)
);

-- Whether the environment's truststore includes Mozilla's built-in roots.
ALTER TABLE environments ADD COLUMN builtin_roots BOOLEAN NOT NULL DEFAULT TRUE;

-- version: 6
-- JWT signing keys (seed 004): the private key lives in the HSM (or the
-- built-in software token); this table holds what Keyward knows about it
-- (PKCS#11 has no creation time, so the created date lives here), and the
-- environments whose JWKS publish its public key.

CREATE TABLE signing_keys (
    id          INTEGER  PRIMARY KEY,
    project_id  INTEGER  NOT NULL REFERENCES projects (id),
    cka_id      TEXT     NOT NULL UNIQUE, -- hex
    label       TEXT     NOT NULL,
    algorithm   TEXT     NOT NULL,        -- RSA or EC
    bits        INTEGER  NOT NULL,
    curve       TEXT     NOT NULL DEFAULT '',
    origin      TEXT     NOT NULL,        -- GENERATED (CKA_LOCAL) or IMPORTED
    backend     TEXT     NOT NULL,
    public_der  BLOB     NOT NULL,        -- PKIX
    kid         TEXT     NOT NULL,        -- RFC 7638 thumbprint
    created_by  TEXT     NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX signing_keys_project ON signing_keys (project_id, label);

-- A signing key's public JWK published in an environment's JWKS.
CREATE TABLE signing_key_publications (
    id                INTEGER  PRIMARY KEY,
    signing_key_id    INTEGER  NOT NULL REFERENCES signing_keys (id) ON DELETE CASCADE,
    environment_id    INTEGER  NOT NULL REFERENCES environments (id),
    jwk_json          TEXT     NOT NULL,
    deployed_revision INTEGER  NOT NULL,
    deployed_at       DATETIME NOT NULL,
    UNIQUE (signing_key_id, environment_id)
);
CREATE INDEX signing_key_publications_environment ON signing_key_publications (environment_id);

-- The built-in software token's keys: private keys sealed by internal/seal
-- (bound to "soft-token/<id hex>"), never handed out.
CREATE TABLE soft_token_keys (
    id          BLOB     PRIMARY KEY,
    label       TEXT     NOT NULL,
    algorithm   TEXT     NOT NULL,
    bits        INTEGER  NOT NULL,
    curve       TEXT     NOT NULL DEFAULT '',
    origin      TEXT     NOT NULL,
    sealed_key  BLOB     NOT NULL,
    public_der  BLOB     NOT NULL,
    created_at  DATETIME NOT NULL
);

-- version: 7
-- Signer aliases: a name that signs with its active key, rotated in
-- stages. A rotation schedules three steps: the next key is published in
-- the alias's environments lead_time before it becomes active, it becomes
-- active at the chosen time, and the old key is retired (unpublished)
-- retention after that, once tokens it signed have expired. Steps run on
-- schedule, and at start for any a stopped server missed.

CREATE TABLE signers (
    id                INTEGER  PRIMARY KEY,
    project_id        INTEGER  NOT NULL REFERENCES projects (id),
    name              TEXT     NOT NULL,
    active_key_id     INTEGER  NOT NULL REFERENCES signing_keys (id),
    lead_time_seconds INTEGER  NOT NULL,
    retention_seconds INTEGER  NOT NULL,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE signer_environments (
    signer_id      INTEGER NOT NULL REFERENCES signers (id) ON DELETE CASCADE,
    environment_id INTEGER NOT NULL REFERENCES environments (id),
    PRIMARY KEY (signer_id, environment_id)
);

CREATE TABLE signer_steps (
    id             INTEGER  PRIMARY KEY,
    signer_id      INTEGER  NOT NULL REFERENCES signers (id) ON DELETE CASCADE,
    signing_key_id INTEGER  NOT NULL REFERENCES signing_keys (id) ON DELETE CASCADE,
    kind           TEXT     NOT NULL, -- publish, activate or retire
    due_at         DATETIME NOT NULL,
    done_at        DATETIME,
    detail         TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX signer_steps_due ON signer_steps (done_at, due_at);

-- version: 8
-- Everything Keyward holds that has an end date, in one indexed table, so
-- that the expiry overview, the dashboard, the alerts and the metric read
-- one place. Triggers keep it, in the same transaction as the object, so it
-- can never disagree with the objects: a certificate configuration's not
-- after, a truststore CA's, a signer alias's scheduled activation and
-- retirement (until done), a personal API access token's and a gateway
-- token's expiry (until revoked).
--   area: the permission area whose VIEW lets a project member see the row
--         ('' = any signed-in user: the truststores; 'ADMIN' = admins only:
--         gateway tokens).
--   user_id: a personal token's owner (only they and admins see it).
--   name: the object's name as its own pages show it.

ALTER TABLE gateway_tokens ADD COLUMN expires_at DATETIME;

-- The dashboard lists the deployments whose webhook failed: few among many.
CREATE INDEX deployments_webhook_failed ON deployments (id) WHERE webhook_status LIKE 'failed%';

CREATE TABLE expiries (
    id             INTEGER  PRIMARY KEY,
    type           TEXT     NOT NULL,
    source_id      INTEGER  NOT NULL,
    area           TEXT     NOT NULL DEFAULT '',
    project_id     INTEGER,
    environment_id INTEGER,
    user_id        INTEGER,
    name           TEXT     NOT NULL,
    detail         TEXT     NOT NULL DEFAULT '',
    at             DATETIME NOT NULL,
    -- The project's and environment's names (which never change), copied
    -- in by expiries_names, so that sorting by them reads an index.
    project_name     TEXT   NOT NULL DEFAULT '',
    environment_name TEXT   NOT NULL DEFAULT '',
    UNIQUE (type, source_id)
);
-- The date, type and environment indexes carry id (the overview's order is
-- at, id) and the columns of the permission scope (area, project_id,
-- user_id), so that a member's count, and the rows an OFFSET skips, are read
-- from the index alone (docs/benchmarks.md, "Expiry overview over 100,000
-- objects").
CREATE INDEX expiries_at ON expiries (at, id, area, project_id, user_id);
CREATE INDEX expiries_project_at ON expiries (project_id, at);
CREATE INDEX expiries_type_at ON expiries (type, at, id, area, project_id, user_id);
CREATE INDEX expiries_environment_at ON expiries (environment_id, at, id, area, project_id, user_id);
CREATE INDEX expiries_name ON expiries (name, at, id);
CREATE INDEX expiries_project_name ON expiries (project_name, at, id, area, project_id, user_id);
CREATE INDEX expiries_environment_name ON expiries (environment_name, at, id, area, project_id, user_id);

CREATE TRIGGER expiries_names AFTER INSERT ON expiries BEGIN
    UPDATE expiries SET
        project_name = COALESCE((SELECT name FROM projects WHERE id = NEW.project_id), ''),
        environment_name = COALESCE((SELECT name FROM environments WHERE id = NEW.environment_id), '')
    WHERE id = NEW.id;
END;

CREATE TRIGGER expiries_certificate_insert AFTER INSERT ON certificate_configs BEGIN
    INSERT INTO expiries (type, source_id, area, project_id, environment_id, name, detail, at)
    SELECT 'certificate', NEW.id, 'SECRETS', NEW.project_id, NEW.environment_id, c.name, NEW.subject, NEW.not_after
    FROM certificates c WHERE c.id = NEW.certificate_id;
END;
CREATE TRIGGER expiries_certificate_update AFTER UPDATE OF not_after, subject ON certificate_configs BEGIN
    UPDATE expiries SET at = NEW.not_after, detail = NEW.subject WHERE type = 'certificate' AND source_id = NEW.id;
END;
CREATE TRIGGER expiries_certificate_delete AFTER DELETE ON certificate_configs BEGIN
    DELETE FROM expiries WHERE type = 'certificate' AND source_id = OLD.id;
END;

CREATE TRIGGER expiries_truststore_insert AFTER INSERT ON truststore_cas BEGIN
    INSERT INTO expiries (type, source_id, area, environment_id, name, detail, at)
    VALUES ('truststore_ca', NEW.id, '', NEW.environment_id, CASE WHEN NEW.alias <> '' THEN NEW.alias ELSE NEW.subject END, NEW.subject, NEW.not_after);
END;
CREATE TRIGGER expiries_truststore_delete AFTER DELETE ON truststore_cas BEGIN
    DELETE FROM expiries WHERE type = 'truststore_ca' AND source_id = OLD.id;
END;

CREATE TRIGGER expiries_signer_step_insert AFTER INSERT ON signer_steps
WHEN NEW.kind IN ('activate', 'retire') AND NEW.done_at IS NULL BEGIN
    INSERT INTO expiries (type, source_id, area, project_id, name, detail, at)
    SELECT 'signer_rotation', NEW.id, 'SIGNING_KEYS', s.project_id, s.name,
           NEW.kind || ' ' || k.label || ' (' || k.cka_id || ')', NEW.due_at
    FROM signers s, signing_keys k WHERE s.id = NEW.signer_id AND k.id = NEW.signing_key_id;
END;
CREATE TRIGGER expiries_signer_step_update AFTER UPDATE OF done_at, due_at ON signer_steps BEGIN
    DELETE FROM expiries WHERE type = 'signer_rotation' AND source_id = NEW.id AND NEW.done_at IS NOT NULL;
    UPDATE expiries SET at = NEW.due_at WHERE type = 'signer_rotation' AND source_id = NEW.id;
END;
CREATE TRIGGER expiries_signer_step_delete AFTER DELETE ON signer_steps BEGIN
    DELETE FROM expiries WHERE type = 'signer_rotation' AND source_id = OLD.id;
END;

CREATE TRIGGER expiries_api_token_insert AFTER INSERT ON api_tokens
WHEN NEW.expires_at IS NOT NULL AND NEW.revoked_at IS NULL BEGIN
    INSERT INTO expiries (type, source_id, user_id, name, detail, at)
    SELECT 'api_token', NEW.id, NEW.user_id, NEW.name, u.username, NEW.expires_at FROM users u WHERE u.id = NEW.user_id;
END;
CREATE TRIGGER expiries_api_token_update AFTER UPDATE OF expires_at, revoked_at ON api_tokens BEGIN
    DELETE FROM expiries WHERE type = 'api_token' AND source_id = NEW.id;
    INSERT INTO expiries (type, source_id, user_id, name, detail, at)
    SELECT 'api_token', NEW.id, NEW.user_id, NEW.name, u.username, NEW.expires_at FROM users u
    WHERE u.id = NEW.user_id AND NEW.expires_at IS NOT NULL AND NEW.revoked_at IS NULL;
END;
CREATE TRIGGER expiries_api_token_delete AFTER DELETE ON api_tokens BEGIN
    DELETE FROM expiries WHERE type = 'api_token' AND source_id = OLD.id;
END;

CREATE TRIGGER expiries_gateway_token_insert AFTER INSERT ON gateway_tokens
WHEN NEW.expires_at IS NOT NULL AND NEW.revoked_at IS NULL BEGIN
    INSERT INTO expiries (type, source_id, area, environment_id, name, at)
    VALUES ('gateway_token', NEW.id, 'ADMIN', NEW.environment_id, NEW.name, NEW.expires_at);
END;
CREATE TRIGGER expiries_gateway_token_update AFTER UPDATE OF expires_at, revoked_at ON gateway_tokens BEGIN
    DELETE FROM expiries WHERE type = 'gateway_token' AND source_id = NEW.id;
    INSERT INTO expiries (type, source_id, area, environment_id, name, at)
    SELECT 'gateway_token', NEW.id, 'ADMIN', NEW.environment_id, NEW.name, NEW.expires_at
    WHERE NEW.expires_at IS NOT NULL AND NEW.revoked_at IS NULL;
END;
CREATE TRIGGER expiries_gateway_token_delete AFTER DELETE ON gateway_tokens BEGIN
    DELETE FROM expiries WHERE type = 'gateway_token' AND source_id = OLD.id;
END;

-- What a database made before this version already holds.
INSERT INTO expiries (type, source_id, area, project_id, environment_id, name, detail, at)
SELECT 'certificate', cc.id, 'SECRETS', cc.project_id, cc.environment_id, c.name, cc.subject, cc.not_after
FROM certificate_configs cc JOIN certificates c ON c.id = cc.certificate_id;
INSERT INTO expiries (type, source_id, area, environment_id, name, detail, at)
SELECT 'truststore_ca', id, '', environment_id, CASE WHEN alias <> '' THEN alias ELSE subject END, subject, not_after FROM truststore_cas;
INSERT INTO expiries (type, source_id, area, project_id, name, detail, at)
SELECT 'signer_rotation', st.id, 'SIGNING_KEYS', s.project_id, s.name, st.kind || ' ' || k.label || ' (' || k.cka_id || ')', st.due_at
FROM signer_steps st JOIN signers s ON s.id = st.signer_id JOIN signing_keys k ON k.id = st.signing_key_id
WHERE st.kind IN ('activate', 'retire') AND st.done_at IS NULL;
INSERT INTO expiries (type, source_id, user_id, name, detail, at)
SELECT 'api_token', t.id, t.user_id, t.name, u.username, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.expires_at IS NOT NULL AND t.revoked_at IS NULL;

-- version: 9
-- API key sets (seed 003): organizations and their groups own consumer
-- applications; the API catalog lists APIs with their environments,
-- authentication types and policy template; a subscription (application,
-- API, environment) gets or reuses one key set per authentication type. A
-- key set holds a chain of keys (the newest is LATEST) and moves through
-- PENDING, ACTIVE, SUSPENDED, REVOKED and EXPIRED, on schedule or by hand,
-- each step on its timeline. Durations are seconds, NULL meaning none.

CREATE TABLE organizations (
    id          INTEGER  PRIMARY KEY,
    project_id  INTEGER  NOT NULL REFERENCES projects (id),
    name        TEXT     NOT NULL,
    description TEXT     NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE organization_groups (
    id              INTEGER  PRIMARY KEY,
    organization_id INTEGER  NOT NULL REFERENCES organizations (id),
    name            TEXT     NOT NULL,
    created_at      DATETIME NOT NULL,
    UNIQUE (organization_id, name)
);

-- status is ACTIVE or SUSPENDED; suspending an application suspends its
-- key sets (key_sets.suspended_by_application remembers which).
CREATE TABLE applications (
    id              INTEGER  PRIMARY KEY,
    project_id      INTEGER  NOT NULL REFERENCES projects (id),
    organization_id INTEGER  NOT NULL REFERENCES organizations (id),
    group_id        INTEGER  REFERENCES organization_groups (id),
    name            TEXT     NOT NULL,
    description     TEXT     NOT NULL DEFAULT '',
    status          TEXT     NOT NULL DEFAULT 'ACTIVE',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX applications_organization ON applications (organization_id, group_id);

CREATE TABLE policy_templates (
    id                   INTEGER  PRIMARY KEY,
    project_id           INTEGER  NOT NULL REFERENCES projects (id),
    name                 TEXT     NOT NULL,
    description          TEXT     NOT NULL DEFAULT '',
    expiration_seconds   INTEGER,
    rotation_seconds     INTEGER,
    manual_regeneration  BOOLEAN  NOT NULL DEFAULT TRUE,
    grace_period_seconds INTEGER,
    activation_required  BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL,
    UNIQUE (project_id, name)
);

-- auth_types is a comma-separated list in fixed order: API_KEY,CLIENT_CREDENTIALS.
CREATE TABLE apis (
    id                 INTEGER  PRIMARY KEY,
    project_id         INTEGER  NOT NULL REFERENCES projects (id),
    name               TEXT     NOT NULL,
    description        TEXT     NOT NULL DEFAULT '',
    policy_template_id INTEGER  NOT NULL REFERENCES policy_templates (id),
    auth_types         TEXT     NOT NULL,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX apis_policy ON apis (policy_template_id);

CREATE TABLE api_environments (
    api_id         INTEGER NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    environment_id INTEGER NOT NULL REFERENCES environments (id),
    PRIMARY KEY (api_id, environment_id)
);

CREATE TABLE subscriptions (
    id             INTEGER  PRIMARY KEY,
    project_id     INTEGER  NOT NULL REFERENCES projects (id),
    application_id INTEGER  NOT NULL REFERENCES applications (id),
    api_id         INTEGER  NOT NULL REFERENCES apis (id),
    environment_id INTEGER  NOT NULL REFERENCES environments (id),
    created_by     TEXT     NOT NULL,
    created_at     DATETIME NOT NULL,
    UNIQUE (application_id, api_id, environment_id)
);
CREATE INDEX subscriptions_api ON subscriptions (api_id, environment_id);

-- A key set. expires_at, next_rotation_at and last_rotated_at are its
-- LATEST key's, copied here for the list's filters. deployed_revision is the
-- environment revision of its last change (gateways read key sets in the
-- bundle).
CREATE TABLE key_sets (
    id                       INTEGER  PRIMARY KEY,
    project_id               INTEGER  NOT NULL REFERENCES projects (id),
    name                     TEXT     NOT NULL,
    application_id           INTEGER  NOT NULL REFERENCES applications (id),
    environment_id           INTEGER  NOT NULL REFERENCES environments (id),
    auth_type                TEXT     NOT NULL,
    policy_template_id       INTEGER  NOT NULL REFERENCES policy_templates (id),
    status                   TEXT     NOT NULL,
    suspended_by_application BOOLEAN  NOT NULL DEFAULT FALSE,
    expires_at               DATETIME,
    next_rotation_at         DATETIME,
    last_rotated_at          DATETIME,
    deployed_revision        INTEGER  NOT NULL DEFAULT 0,
    created_at               DATETIME NOT NULL,
    updated_at               DATETIME NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX key_sets_reuse ON key_sets (application_id, environment_id, auth_type, policy_template_id);
CREATE INDEX key_sets_project_created ON key_sets (project_id, created_at);
CREATE INDEX key_sets_project_status ON key_sets (project_id, status, created_at);
CREATE INDEX key_sets_project_auth ON key_sets (project_id, auth_type, created_at);
CREATE INDEX key_sets_project_env ON key_sets (project_id, environment_id, created_at);
CREATE INDEX key_sets_project_expires ON key_sets (project_id, expires_at);
CREATE INDEX key_sets_project_rotated ON key_sets (project_id, last_rotated_at);
CREATE INDEX key_sets_environment ON key_sets (environment_id);
CREATE INDEX key_sets_policy ON key_sets (policy_template_id);

CREATE TABLE key_set_subscriptions (
    key_set_id      INTEGER NOT NULL REFERENCES key_sets (id) ON DELETE CASCADE,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    PRIMARY KEY (key_set_id, subscription_id)
);
CREATE INDEX key_set_subscriptions_subscription ON key_set_subscriptions (subscription_id, key_set_id);

-- The chain of keys. value_hash is the SHA-256 of the API key or of the
-- client id, secret_hash the SHA-256 of the client secret; sealed is the
-- credential sealed by internal/seal, bound to "key_set/<id>/key/<seq>",
-- for "Retrieve Credentials". display is the prefix and last four of the
-- secret value, which is all lists and logs show. A key replaced by a
-- rotation or a regeneration still verifies until grace_until.
CREATE TABLE key_set_keys (
    id           INTEGER  PRIMARY KEY,
    key_set_id   INTEGER  NOT NULL REFERENCES key_sets (id) ON DELETE CASCADE,
    seq          INTEGER  NOT NULL,
    value_hash   BLOB     NOT NULL UNIQUE,
    secret_hash  BLOB,
    sealed       BLOB     NOT NULL,
    display      TEXT     NOT NULL,
    status       TEXT     NOT NULL,
    created_at   DATETIME NOT NULL,
    activated_at DATETIME,
    rotated_at   DATETIME,
    expires_at   DATETIME,
    revoked_at   DATETIME,
    grace_until  DATETIME,
    last_used_at DATETIME,
    UNIQUE (key_set_id, seq)
);

-- The timeline. A scheduled event (ROTATION, EXPIRATION) is a row in state
-- SCHEDULED until the scheduler applies it (DONE, actual_at set beside
-- scheduled_at) or it no longer applies (CANCELLED); the other events are
-- recorded DONE. The scheduler reads due rows through key_set_events_due.
CREATE TABLE key_set_events (
    id           INTEGER  PRIMARY KEY,
    key_set_id   INTEGER  NOT NULL REFERENCES key_sets (id) ON DELETE CASCADE,
    key_seq      INTEGER  NOT NULL DEFAULT 0,
    type         TEXT     NOT NULL,
    state        TEXT     NOT NULL,
    scheduled_at DATETIME,
    actual_at    DATETIME,
    actor        TEXT     NOT NULL DEFAULT '',
    detail       TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX key_set_events_key_set ON key_set_events (key_set_id, id);
CREATE INDEX key_set_events_due ON key_set_events (scheduled_at) WHERE state = 'SCHEDULED';

-- Free text in the key set list matches key set and application names
-- anywhere: a trigram index, so a substring search reads the index instead
-- of every key set. Names never change, so inserts and deletes keep it.
CREATE VIRTUAL TABLE key_set_search USING fts5(name, application, content='', contentless_delete=1, tokenize='trigram');
CREATE TRIGGER key_set_search_insert AFTER INSERT ON key_sets BEGIN
    INSERT INTO key_set_search (rowid, name, application)
    SELECT NEW.id, NEW.name, a.name FROM applications a WHERE a.id = NEW.application_id;
END;
CREATE TRIGGER key_set_search_delete AFTER DELETE ON key_sets BEGIN
    DELETE FROM key_set_search WHERE rowid = OLD.id;
END;

-- A live key set's expiration and next scheduled rotation join the
-- expiries (version 8); a revoked, expired or pending one has neither.
CREATE TRIGGER expiries_key_set_insert AFTER INSERT ON key_sets
WHEN NEW.status IN ('ACTIVE', 'SUSPENDED') BEGIN
    INSERT INTO expiries (type, source_id, area, project_id, environment_id, name, detail, at)
    SELECT 'key_set_expiration', NEW.id, 'KEY_SETS', NEW.project_id, NEW.environment_id, NEW.name, NEW.auth_type, NEW.expires_at
    WHERE NEW.expires_at IS NOT NULL;
    INSERT INTO expiries (type, source_id, area, project_id, environment_id, name, detail, at)
    SELECT 'key_set_rotation', NEW.id, 'KEY_SETS', NEW.project_id, NEW.environment_id, NEW.name, NEW.auth_type, NEW.next_rotation_at
    WHERE NEW.next_rotation_at IS NOT NULL;
END;
CREATE TRIGGER expiries_key_set_update AFTER UPDATE OF status, expires_at, next_rotation_at ON key_sets BEGIN
    DELETE FROM expiries WHERE type IN ('key_set_expiration', 'key_set_rotation') AND source_id = NEW.id;
    INSERT INTO expiries (type, source_id, area, project_id, environment_id, name, detail, at)
    SELECT 'key_set_expiration', NEW.id, 'KEY_SETS', NEW.project_id, NEW.environment_id, NEW.name, NEW.auth_type, NEW.expires_at
    WHERE NEW.expires_at IS NOT NULL AND NEW.status IN ('ACTIVE', 'SUSPENDED');
    INSERT INTO expiries (type, source_id, area, project_id, environment_id, name, detail, at)
    SELECT 'key_set_rotation', NEW.id, 'KEY_SETS', NEW.project_id, NEW.environment_id, NEW.name, NEW.auth_type, NEW.next_rotation_at
    WHERE NEW.next_rotation_at IS NOT NULL AND NEW.status IN ('ACTIVE', 'SUSPENDED');
END;
CREATE TRIGGER expiries_key_set_delete AFTER DELETE ON key_sets BEGIN
    DELETE FROM expiries WHERE type IN ('key_set_expiration', 'key_set_rotation') AND source_id = OLD.id;
END;

-- version: 10
-- Expiry alerts (internal/notify). A project's notification channels (a
-- signed JSON webhook, signed as environment webhooks are, or a
-- Slack-compatible incoming webhook) and rules (which object types, which
-- thresholds in days before the end date, which channels). A rule matches the
-- expiries rows of its own project only. An alert is one (rule, object, end
-- date, threshold): the UNIQUE key makes each one happen once, across
-- restarts; a renewed object (a new end date) is alerted again. Each alert
-- is delivered to each of the rule's enabled channels, and every delivery
-- (test sends included) keeps its attempts, retried on the scheduler's tick.

CREATE TABLE notification_channels (
    id          INTEGER  PRIMARY KEY,
    project_id  INTEGER  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT     NOT NULL,
    kind        TEXT     NOT NULL CHECK (kind IN ('WEBHOOK', 'SLACK')),
    url         TEXT     NOT NULL,
    secret      BLOB,                                    -- WEBHOOK: the HMAC secret, sealed
    enabled     BOOLEAN  NOT NULL DEFAULT TRUE,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE notification_rules (
    id          INTEGER  PRIMARY KEY,
    project_id  INTEGER  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT     NOT NULL,
    types       TEXT     NOT NULL DEFAULT '',            -- comma-separated expiries.type values; '' = every type
    thresholds  TEXT     NOT NULL,                       -- comma-separated days, largest first; 0 = on expiry
    enabled     BOOLEAN  NOT NULL DEFAULT TRUE,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE notification_rule_channels (
    rule_id     INTEGER  NOT NULL REFERENCES notification_rules (id) ON DELETE CASCADE,
    channel_id  INTEGER  NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, channel_id)
);

-- status: 'sent' (delivered to the channels) or 'skipped' (a larger threshold
-- crossed in the same run as a smaller one: only the smallest is sent).
CREATE TABLE notification_alerts (
    id          INTEGER  PRIMARY KEY,
    rule_id     INTEGER  NOT NULL REFERENCES notification_rules (id) ON DELETE CASCADE,
    object_type TEXT     NOT NULL,
    source_id   INTEGER  NOT NULL,
    object_at   DATETIME NOT NULL,
    threshold   INTEGER  NOT NULL,
    status      TEXT     NOT NULL,
    created_at  DATETIME NOT NULL,
    UNIQUE (rule_id, object_type, source_id, object_at, threshold)
);

-- One message to one channel: an alert's (alert_id set) or a test's.
-- status: pending (next_attempt_at is due), delivered, failed (gave up).
-- The names are copied so the history outlives a deleted rule or channel.
CREATE TABLE notification_deliveries (
    id              INTEGER  PRIMARY KEY,
    project_id      INTEGER  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    alert_id        INTEGER  REFERENCES notification_alerts (id) ON DELETE SET NULL,
    channel_id      INTEGER  REFERENCES notification_channels (id) ON DELETE SET NULL,
    channel_name    TEXT     NOT NULL,
    rule_name       TEXT     NOT NULL DEFAULT '',        -- '' for a test
    object_type     TEXT     NOT NULL DEFAULT '',
    object_name     TEXT     NOT NULL DEFAULT '',
    environment     TEXT     NOT NULL DEFAULT '',
    threshold       INTEGER,
    payload         TEXT     NOT NULL,                   -- the JSON body (never a secret)
    status          TEXT     NOT NULL,
    attempts        INTEGER  NOT NULL DEFAULT 0,
    status_code     INTEGER  NOT NULL DEFAULT 0,         -- the last attempt's HTTP status, 0 for none
    error           TEXT     NOT NULL DEFAULT '',        -- the last attempt's error
    created_at      DATETIME NOT NULL,
    last_attempt_at DATETIME,
    next_attempt_at DATETIME,
    delivered_at    DATETIME
);
CREATE INDEX notification_deliveries_project ON notification_deliveries (project_id, id);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);

CREATE TABLE notification_attempts (
    id           INTEGER  PRIMARY KEY,
    delivery_id  INTEGER  NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
    at           DATETIME NOT NULL,
    status_code  INTEGER  NOT NULL DEFAULT 0,
    error        TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX notification_attempts_delivery ON notification_attempts (delivery_id);
