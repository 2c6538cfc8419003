-- name: LastAuditEntry :one
SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1;

-- name: InsertAuditEntry :one
INSERT INTO audit_log (id, at, actor, via, action, project, object, environment, source_addr, outcome, detail, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id;

-- name: AuditEntriesAfter :many
SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?;
