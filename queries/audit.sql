-- name: LastAuditEntry :one
SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1;

-- name: InsertAuditEntry :one
INSERT INTO audit_log (id, at, actor, via, action, project, object, environment, source_addr, outcome, detail, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id;

-- name: AuditEntriesAfter :many
SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?;

-- name: ListProjectNamesWithPermission :many
-- ListProjectNamesWithPermission lists the projects in which a user holds one
-- permission; project_members keeps a comma-separated list ("AUDIT:VIEW,SECRETS:VIEW").
SELECT projects.name FROM projects
JOIN project_members ON project_members.project_id = projects.id
WHERE project_members.user_id = sqlc.arg(user_id)
  AND instr(',' || project_members.permissions || ',', ',' || CAST(sqlc.arg(permission) AS TEXT) || ',') > 0
ORDER BY projects.name;

-- name: AuditMentionsProject :one
-- AuditMentionsProject reports whether any entry names a project, so that an
-- admin can still read the entries of a project that was deleted.
SELECT EXISTS (SELECT 1 FROM audit_log WHERE project = ?) AS mentioned;
