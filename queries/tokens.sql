-- name: CreateAPIToken :one
INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetAPITokenByHash :one
SELECT api_tokens.*, users.username, users.is_admin, users.disabled
FROM api_tokens JOIN users ON users.id = api_tokens.user_id
WHERE api_tokens.token_hash = ?;

-- name: ListAPITokensByUser :many
SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC;

-- name: GetAPITokenByUserAndID :one
SELECT * FROM api_tokens WHERE user_id = ? AND id = ?;

-- name: RevokeAPIToken :exec
UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL;

-- name: TouchAPIToken :exec
UPDATE api_tokens SET last_used_at = ? WHERE id = ?;
