-- name: CreateEnvironment :one
INSERT INTO environments (name, description, webhook_url, webhook_secret, revision, created_at, updated_at)
VALUES (?, ?, ?, ?, 0, ?, ?)
RETURNING *;

-- name: GetEnvironmentByName :one
SELECT * FROM environments WHERE name = ?;

-- name: ListEnvironments :many
SELECT * FROM environments ORDER BY name;

-- name: UpdateEnvironment :exec
UPDATE environments SET description = ?, webhook_url = ?, webhook_secret = ?, updated_at = ? WHERE id = ?;

-- name: BumpEnvironmentRevision :one
UPDATE environments SET revision = revision + 1, updated_at = ? WHERE id = ?
RETURNING revision;

-- name: CreateDeployment :one
INSERT INTO deployments (environment_id, revision, actor, action, project, object_type, object_name, success, message, webhook_status, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: ListDeployments :many
SELECT * FROM deployments WHERE environment_id = ? ORDER BY id DESC LIMIT ? OFFSET ?;

-- name: CountDeployments :one
SELECT count(*) FROM deployments WHERE environment_id = ?;

-- name: SetDeploymentWebhookStatus :exec
UPDATE deployments SET webhook_status = ? WHERE id = ?;
