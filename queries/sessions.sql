-- name: CreateWebSession :exec
INSERT INTO web_sessions (id_hash, user_id, created_at, last_seen_at, source_addr)
VALUES (?, ?, ?, ?, ?);

-- name: GetWebSession :one
SELECT web_sessions.*, users.username, users.is_admin, users.disabled
FROM web_sessions JOIN users ON users.id = web_sessions.user_id
WHERE web_sessions.id_hash = ?;

-- name: TouchWebSession :exec
UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ?;

-- name: DeleteWebSession :exec
DELETE FROM web_sessions WHERE id_hash = ?;

-- name: DeleteUserWebSessions :exec
DELETE FROM web_sessions WHERE user_id = ?;

-- name: DeleteExpiredWebSessions :exec
DELETE FROM web_sessions WHERE created_at < ? OR last_seen_at < ?;

-- name: GetLoginThrottle :one
SELECT * FROM login_throttle WHERE subject = ?;

-- name: UpsertLoginThrottle :exec
INSERT INTO login_throttle (subject, failures, last_failure_at, locked_until)
VALUES (?, ?, ?, ?)
ON CONFLICT (subject) DO UPDATE SET
    failures = excluded.failures,
    last_failure_at = excluded.last_failure_at,
    locked_until = excluded.locked_until;

-- name: DeleteLoginThrottle :exec
DELETE FROM login_throttle WHERE subject = ?;

-- name: GetSetting :one
SELECT value FROM settings WHERE name = ?;

-- name: PutSetting :exec
INSERT INTO settings (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value;

-- name: DeleteSetting :exec
DELETE FROM settings WHERE name = ?;

-- name: DeleteOtherWebSessions :exec
DELETE FROM web_sessions WHERE user_id = ? AND id_hash <> ?;
