-- name: CreateKey :one
INSERT INTO keys (project_id, name, description, key_type, algorithm, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetKeyByName :one
SELECT * FROM keys WHERE project_id = ? AND name = ?;

-- name: UpdateKey :exec
UPDATE keys SET description = ?, algorithm = ?, updated_at = ? WHERE id = ?;

-- name: DeleteKey :exec
DELETE FROM keys WHERE id = ?;

-- name: CountKeysInProject :one
SELECT count(*) FROM keys WHERE project_id = ?;

-- name: ListKeyConfigs :many
SELECT sqlc.embed(key_configs), sqlc.embed(environments)
FROM key_configs JOIN environments ON environments.id = key_configs.environment_id
WHERE key_configs.key_id = ?
ORDER BY environments.name;

-- name: UpsertKeyConfig :one
INSERT INTO key_configs (key_id, environment_id, source, file_name, alias, material, format, bits, curve, fingerprint, warning, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key_id, environment_id) DO UPDATE SET
    source = excluded.source, file_name = excluded.file_name, alias = excluded.alias,
    material = excluded.material, format = excluded.format, bits = excluded.bits,
    curve = excluded.curve, fingerprint = excluded.fingerprint, warning = excluded.warning,
    updated_at = excluded.updated_at
RETURNING *;

-- name: UpdateKeyConfigAlias :exec
UPDATE key_configs SET alias = ?, updated_at = ? WHERE id = ?;

-- name: DeleteKeyConfig :exec
DELETE FROM key_configs WHERE id = ?;

-- name: SetKeyConfigDeployed :exec
UPDATE key_configs SET deployed_revision = ?, deployed_at = ?, deployed_material = ?, deployed_fingerprint = ? WHERE id = ?;

-- name: ListDeployedKeyConfigs :many
SELECT sqlc.embed(key_configs), keys.name AS key_name, keys.key_type, keys.algorithm, projects.name AS project_name
FROM key_configs
JOIN keys ON keys.id = key_configs.key_id
JOIN projects ON projects.id = keys.project_id
WHERE key_configs.environment_id = ? AND key_configs.deployed_revision IS NOT NULL
ORDER BY projects.name, keys.name;

-- name: CreateJWK :one
INSERT INTO jwks (project_id, name, source_type, source_id, source_name, use, alg, kid, secret, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetJWKByName :one
SELECT * FROM jwks WHERE project_id = ? AND name = ?;

-- name: ListJWKs :many
SELECT * FROM jwks WHERE project_id = ? ORDER BY name;

-- name: ListJWKsBySource :many
SELECT * FROM jwks WHERE source_type = ? AND source_id = ? ORDER BY name;

-- name: DisconnectJWK :exec
UPDATE jwks SET source_id = NULL, updated_at = ? WHERE id = ?;

-- name: DeleteJWK :exec
DELETE FROM jwks WHERE id = ?;

-- name: CountJWKsInProject :one
SELECT count(*) FROM jwks WHERE project_id = ?;

-- name: ListJWKConfigs :many
SELECT sqlc.embed(jwk_configs), sqlc.embed(environments)
FROM jwk_configs JOIN environments ON environments.id = jwk_configs.environment_id
WHERE jwk_configs.jwk_id = ?
ORDER BY environments.name;

-- name: UpsertJWKConfig :one
INSERT INTO jwk_configs (jwk_id, environment_id, kid, public_json, sealed_json, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (jwk_id, environment_id) DO UPDATE SET
    kid = excluded.kid, public_json = excluded.public_json, sealed_json = excluded.sealed_json,
    updated_at = excluded.updated_at
RETURNING *;

-- name: SetJWKConfigDeployed :exec
UPDATE jwk_configs SET deployed_revision = ?, deployed_at = ?, deployed_json = ?, deployed_sealed = ? WHERE id = ?;

-- name: ListDeployedJWKConfigs :many
SELECT sqlc.embed(jwk_configs), jwks.name AS jwk_name, jwks.secret, projects.name AS project_name
FROM jwk_configs
JOIN jwks ON jwks.id = jwk_configs.jwk_id
JOIN projects ON projects.id = jwks.project_id
WHERE jwk_configs.environment_id = ? AND jwk_configs.deployed_revision IS NOT NULL
ORDER BY projects.name, jwks.name;

-- name: ListAllDeployedPublicJWKs :many
SELECT jwk_configs.deployed_json, jwk_configs.kid, projects.name AS project_name, environments.name AS environment_name
FROM jwk_configs
JOIN jwks ON jwks.id = jwk_configs.jwk_id
JOIN projects ON projects.id = jwks.project_id
JOIN environments ON environments.id = jwk_configs.environment_id
WHERE jwk_configs.deployed_revision IS NOT NULL AND NOT jwks.secret
ORDER BY projects.name, environments.name, jwks.name;

-- name: CreateGatewayToken :one
INSERT INTO gateway_tokens (environment_id, name, token_hash, prefix, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetGatewayTokenByHash :one
SELECT gateway_tokens.*, environments.name AS environment_name
FROM gateway_tokens JOIN environments ON environments.id = gateway_tokens.environment_id
WHERE gateway_tokens.token_hash = ?;

-- name: ListGatewayTokens :many
SELECT * FROM gateway_tokens WHERE environment_id = ? ORDER BY created_at DESC, id DESC;

-- name: RevokeGatewayToken :execrows
UPDATE gateway_tokens SET revoked_at = ? WHERE id = ? AND environment_id = ? AND revoked_at IS NULL;

-- name: TouchGatewayToken :exec
UPDATE gateway_tokens SET last_used_at = ? WHERE id = ?;

-- name: ListKeys :many
SELECT * FROM keys
WHERE project_id = sqlc.arg(project_id)
  AND (sqlc.arg(search) = '' OR instr(lower(name), sqlc.arg(search)) > 0 OR instr(lower(description), sqlc.arg(search)) > 0)
  AND (sqlc.arg(key_type) = '' OR key_type = sqlc.arg(key_type))
  AND (sqlc.arg(algorithm) = '' OR algorithm = sqlc.arg(algorithm))
  AND (sqlc.arg(environment_id) = 0 OR EXISTS (
        SELECT 1 FROM key_configs WHERE key_configs.key_id = keys.id AND key_configs.environment_id = sqlc.arg(environment_id)))
ORDER BY name
LIMIT sqlc.arg(lim) OFFSET sqlc.arg(off);

-- name: CountKeys :one
SELECT count(*) FROM keys
WHERE project_id = sqlc.arg(project_id)
  AND (sqlc.arg(search) = '' OR instr(lower(name), sqlc.arg(search)) > 0 OR instr(lower(description), sqlc.arg(search)) > 0)
  AND (sqlc.arg(key_type) = '' OR key_type = sqlc.arg(key_type))
  AND (sqlc.arg(algorithm) = '' OR algorithm = sqlc.arg(algorithm))
  AND (sqlc.arg(environment_id) = 0 OR EXISTS (
        SELECT 1 FROM key_configs WHERE key_configs.key_id = keys.id AND key_configs.environment_id = sqlc.arg(environment_id)));

-- name: ListKeyConfigsForProject :many
SELECT sqlc.embed(key_configs), environments.name AS environment_name
FROM key_configs
JOIN keys ON keys.id = key_configs.key_id
JOIN environments ON environments.id = key_configs.environment_id
WHERE keys.project_id = ?
ORDER BY environments.name;

-- name: GetKeyConfig :one
SELECT * FROM key_configs WHERE key_id = ? AND environment_id = ?;

-- name: ListSecretKeyConfigs :many
SELECT key_configs.id, key_configs.key_id, key_configs.environment_id, key_configs.material, key_configs.deployed_material
FROM key_configs JOIN keys ON keys.id = key_configs.key_id
WHERE keys.key_type = 'SECRET_KEY'
ORDER BY key_configs.id;

-- name: SetKeyConfigFingerprints :exec
UPDATE key_configs SET fingerprint = ?, deployed_fingerprint = ? WHERE id = ?;
