-- name: CreateSigningKey :one
INSERT INTO signing_keys (project_id, cka_id, label, algorithm, bits, curve, origin, backend, public_der, kid, created_by, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetSigningKey :one
SELECT * FROM signing_keys WHERE project_id = ? AND cka_id = ?;

-- name: ListSigningKeys :many
SELECT * FROM signing_keys
WHERE project_id = sqlc.arg(project_id)
  AND (CAST(sqlc.arg(search) AS TEXT) = '' OR instr(lower(label), sqlc.arg(search)) > 0 OR instr(cka_id, sqlc.arg(search)) > 0)
ORDER BY label, cka_id
LIMIT sqlc.arg(lim) OFFSET sqlc.arg(off);

-- name: CountSigningKeys :one
SELECT count(*) FROM signing_keys
WHERE project_id = sqlc.arg(project_id)
  AND (CAST(sqlc.arg(search) AS TEXT) = '' OR instr(lower(label), sqlc.arg(search)) > 0 OR instr(cka_id, sqlc.arg(search)) > 0);

-- name: CountSigningKeysInProject :one
SELECT count(*) FROM signing_keys WHERE project_id = ?;

-- name: DeleteSigningKey :exec
DELETE FROM signing_keys WHERE id = ?;

-- name: ListSigningKeyPublications :many
SELECT signing_key_publications.*, environments.name AS environment_name
FROM signing_key_publications JOIN environments ON environments.id = signing_key_publications.environment_id
WHERE signing_key_publications.signing_key_id = ?
ORDER BY environments.name;

-- name: UpsertSigningKeyPublication :exec
INSERT INTO signing_key_publications (signing_key_id, environment_id, jwk_json, deployed_revision, deployed_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (signing_key_id, environment_id) DO UPDATE SET
    jwk_json = excluded.jwk_json, deployed_revision = excluded.deployed_revision, deployed_at = excluded.deployed_at;

-- name: DeleteSigningKeyPublication :exec
DELETE FROM signing_key_publications WHERE signing_key_id = ? AND environment_id = ?;

-- name: ListAllSigningKeyPublications :many
SELECT signing_key_publications.jwk_json, signing_keys.kid, projects.name AS project_name, environments.name AS environment_name
FROM signing_key_publications
JOIN signing_keys ON signing_keys.id = signing_key_publications.signing_key_id
JOIN projects ON projects.id = signing_keys.project_id
JOIN environments ON environments.id = signing_key_publications.environment_id
ORDER BY projects.name, environments.name, signing_keys.label, signing_keys.cka_id;

-- name: PutSoftTokenKey :exec
INSERT INTO soft_token_keys (id, label, algorithm, bits, curve, origin, sealed_key, public_der, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: GetSoftTokenKey :one
SELECT * FROM soft_token_keys WHERE id = ?;

-- name: ListSoftTokenKeys :many
SELECT * FROM soft_token_keys ORDER BY created_at, id;

-- name: DeleteSoftTokenKey :execrows
DELETE FROM soft_token_keys WHERE id = ?;

-- name: ListSharedSigningKeyLabels :many
SELECT label FROM signing_keys WHERE project_id = ? GROUP BY label HAVING count(*) > 1;
