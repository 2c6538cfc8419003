-- name: CreateCertificate :one
INSERT INTO certificates (project_id, name, description, created_at, updated_at)
VALUES (?, ?, ?, ?, ?)
RETURNING *;

-- name: GetCertificateByName :one
SELECT * FROM certificates WHERE project_id = ? AND name = ?;

-- name: UpdateCertificate :exec
UPDATE certificates SET description = ?, updated_at = ? WHERE id = ?;

-- name: DeleteCertificate :exec
DELETE FROM certificates WHERE id = ?;

-- name: CountCertificatesInProject :one
SELECT count(*) FROM certificates WHERE project_id = ?;

-- name: ListCertificateConfigs :many
SELECT sqlc.embed(certificate_configs), sqlc.embed(environments)
FROM certificate_configs JOIN environments ON environments.id = certificate_configs.environment_id
WHERE certificate_configs.certificate_id = ?
ORDER BY environments.name;

-- name: GetCertificateConfig :one
SELECT * FROM certificate_configs WHERE certificate_id = ? AND environment_id = ?;

-- name: CertificateAliasOwner :one
SELECT certificates.name FROM certificate_configs JOIN certificates ON certificates.id = certificate_configs.certificate_id
WHERE certificate_configs.project_id = ? AND certificate_configs.environment_id = ? AND certificate_configs.alias = ?
  AND certificate_configs.certificate_id <> ?;

-- name: UpsertCertificateConfig :one
INSERT INTO certificate_configs (certificate_id, project_id, environment_id, source, source_url, file_name, alias, der, chain_pem,
    subject, issuer, serial, not_before, not_after, sha1, sha256, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (certificate_id, environment_id) DO UPDATE SET
    source = excluded.source, source_url = excluded.source_url, file_name = excluded.file_name, alias = excluded.alias,
    der = excluded.der, chain_pem = excluded.chain_pem, subject = excluded.subject, issuer = excluded.issuer,
    serial = excluded.serial, not_before = excluded.not_before, not_after = excluded.not_after,
    sha1 = excluded.sha1, sha256 = excluded.sha256, updated_at = excluded.updated_at
RETURNING *;

-- name: UpdateCertificateConfigAlias :exec
UPDATE certificate_configs SET alias = ?, updated_at = ? WHERE id = ?;

-- name: DeleteCertificateConfig :exec
DELETE FROM certificate_configs WHERE id = ?;

-- name: SetCertificateConfigDeployed :exec
UPDATE certificate_configs SET deployed_revision = ?, deployed_at = ?, deployed_der = ?, deployed_chain_pem = ?, deployed_sha256 = ?
WHERE id = ?;

-- name: ListCertificates :many
SELECT * FROM certificates
WHERE certificates.project_id = sqlc.arg(project_id)
  AND (CAST(sqlc.arg(search) AS TEXT) = '' OR instr(lower(certificates.name), sqlc.arg(search)) > 0
       OR instr(lower(certificates.description), sqlc.arg(search)) > 0
       OR EXISTS (SELECT 1 FROM certificate_configs c WHERE c.certificate_id = certificates.id
                  AND (instr(lower(c.subject), sqlc.arg(search)) > 0 OR instr(lower(c.issuer), sqlc.arg(search)) > 0)))
  AND (CAST(sqlc.arg(environment_id) AS INTEGER) = 0 OR EXISTS (
        SELECT 1 FROM certificate_configs c WHERE c.certificate_id = certificates.id AND c.environment_id = sqlc.arg(environment_id)))
  AND (CAST(sqlc.arg(filter_expiry) AS INTEGER) = 0 OR certificates.id IN (
        SELECT c.certificate_id FROM certificate_configs c
        WHERE c.project_id = sqlc.arg(project_id) AND c.not_after < sqlc.arg(expires_before)
          AND (sqlc.arg(environment_id) = 0 OR c.environment_id = sqlc.arg(environment_id))))
ORDER BY certificates.name
LIMIT sqlc.arg(lim) OFFSET sqlc.arg(off);

-- name: CountCertificates :one
SELECT count(*) FROM certificates
WHERE certificates.project_id = sqlc.arg(project_id)
  AND (CAST(sqlc.arg(search) AS TEXT) = '' OR instr(lower(certificates.name), sqlc.arg(search)) > 0
       OR instr(lower(certificates.description), sqlc.arg(search)) > 0
       OR EXISTS (SELECT 1 FROM certificate_configs c WHERE c.certificate_id = certificates.id
                  AND (instr(lower(c.subject), sqlc.arg(search)) > 0 OR instr(lower(c.issuer), sqlc.arg(search)) > 0)))
  AND (CAST(sqlc.arg(environment_id) AS INTEGER) = 0 OR EXISTS (
        SELECT 1 FROM certificate_configs c WHERE c.certificate_id = certificates.id AND c.environment_id = sqlc.arg(environment_id)))
  AND (CAST(sqlc.arg(filter_expiry) AS INTEGER) = 0 OR certificates.id IN (
        SELECT c.certificate_id FROM certificate_configs c
        WHERE c.project_id = sqlc.arg(project_id) AND c.not_after < sqlc.arg(expires_before)
          AND (sqlc.arg(environment_id) = 0 OR c.environment_id = sqlc.arg(environment_id))));

-- name: ListCertificateConfigsForCertificates :many
SELECT certificate_configs.id, certificate_configs.certificate_id, certificate_configs.environment_id, certificate_configs.source,
    certificate_configs.source_url, certificate_configs.file_name, certificate_configs.alias, certificate_configs.subject,
    certificate_configs.issuer, certificate_configs.serial, certificate_configs.not_before, certificate_configs.not_after,
    certificate_configs.sha1, certificate_configs.sha256, certificate_configs.deployed_revision, certificate_configs.deployed_sha256,
    environments.name AS environment_name
FROM certificate_configs JOIN environments ON environments.id = certificate_configs.environment_id
WHERE certificate_configs.certificate_id IN (sqlc.slice(ids))
ORDER BY environments.name;

-- name: ListDeployedCertificateConfigs :many
SELECT sqlc.embed(certificate_configs), certificates.name AS certificate_name, projects.name AS project_name
FROM certificate_configs
JOIN certificates ON certificates.id = certificate_configs.certificate_id
JOIN projects ON projects.id = certificates.project_id
WHERE certificate_configs.environment_id = ? AND certificate_configs.deployed_revision IS NOT NULL
ORDER BY projects.name, certificates.name;

-- name: ListTruststoreCAs :many
SELECT * FROM truststore_cas WHERE environment_id = ? ORDER BY subject, sha256;

-- name: GetTruststoreCA :one
SELECT * FROM truststore_cas WHERE environment_id = ? AND sha256 = ?;

-- name: AddTruststoreCA :one
INSERT INTO truststore_cas (environment_id, sha256, alias, der, subject, not_after, source, added_by, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: DeleteTruststoreCA :exec
DELETE FROM truststore_cas WHERE id = ?;

-- name: SetEnvironmentBuiltinRoots :exec
UPDATE environments SET builtin_roots = ?, updated_at = ? WHERE id = ?;
