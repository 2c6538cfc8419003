-- name: CreateSigner :one
INSERT INTO signers (project_id, name, active_key_id, lead_time_seconds, retention_seconds, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetSigner :one
SELECT * FROM signers WHERE project_id = ? AND name = ?;

-- name: GetSignerByID :one
SELECT * FROM signers WHERE id = ?;

-- name: ListSigners :many
SELECT * FROM signers WHERE project_id = ? ORDER BY name;

-- name: SetSignerActiveKey :exec
UPDATE signers SET active_key_id = ?, updated_at = ? WHERE id = ?;

-- name: AddSignerEnvironment :exec
INSERT INTO signer_environments (signer_id, environment_id) VALUES (?, ?);

-- name: ListSignerEnvironments :many
SELECT environments.* FROM signer_environments JOIN environments ON environments.id = signer_environments.environment_id
WHERE signer_environments.signer_id = ? ORDER BY environments.name;

-- name: AddSignerStep :one
INSERT INTO signer_steps (signer_id, signing_key_id, kind, due_at, done_at, detail)
VALUES (?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: ListSignerSteps :many
SELECT signer_steps.*, signing_keys.cka_id, signing_keys.label
FROM signer_steps JOIN signing_keys ON signing_keys.id = signer_steps.signing_key_id
WHERE signer_steps.signer_id = ? ORDER BY signer_steps.due_at, signer_steps.id;

-- name: ListDueSignerSteps :many
SELECT * FROM signer_steps WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id;

-- name: PendingSignerSteps :one
SELECT count(*) FROM signer_steps WHERE signer_id = ? AND done_at IS NULL;

-- name: MarkSignerStepDone :exec
UPDATE signer_steps SET done_at = ?, detail = ? WHERE id = ?;

-- name: CountSignersUsingKey :one
SELECT count(*) FROM signers WHERE active_key_id = sqlc.arg(key_id)
   OR id IN (SELECT signer_id FROM signer_steps WHERE signing_key_id = sqlc.arg(key_id) AND done_at IS NULL);

-- name: GetSigningKeyByID :one
SELECT * FROM signing_keys WHERE id = ?;
