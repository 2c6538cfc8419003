-- name: CreateProject :one
INSERT INTO projects (name, description, created_at, updated_at)
VALUES (?, ?, ?, ?)
RETURNING *;

-- name: GetProjectByName :one
SELECT * FROM projects WHERE name = ?;

-- name: ListProjects :many
SELECT * FROM projects ORDER BY name;

-- name: ListProjectsForUser :many
SELECT projects.* FROM projects
JOIN project_members ON project_members.project_id = projects.id
WHERE project_members.user_id = ?
ORDER BY projects.name;

-- name: UpdateProjectDescription :exec
UPDATE projects SET description = ?, updated_at = ? WHERE id = ?;

-- name: DeleteProject :exec
DELETE FROM projects WHERE id = ?;

-- name: GetMemberPermissions :one
SELECT permissions FROM project_members WHERE project_id = ? AND user_id = ?;

-- name: ListProjectMembers :many
SELECT project_members.*, users.username
FROM project_members JOIN users ON users.id = project_members.user_id
WHERE project_members.project_id = ?
ORDER BY users.username;

-- name: UpsertProjectMember :exec
INSERT INTO project_members (project_id, user_id, permissions, updated_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (project_id, user_id) DO UPDATE SET
    permissions = excluded.permissions,
    updated_at = excluded.updated_at;

-- name: DeleteProjectMember :exec
DELETE FROM project_members WHERE project_id = ? AND user_id = ?;

-- name: GetProjectByID :one
SELECT * FROM projects WHERE id = ?;

-- name: ProjectAreaCounts :one
SELECT
    (SELECT count(*) FROM keys k WHERE k.project_id = sqlc.arg(project_id)) AS keys,
    (SELECT count(*) FROM certificates c WHERE c.project_id = sqlc.arg(project_id)) AS certificates,
    (SELECT count(*) FROM jwks j WHERE j.project_id = sqlc.arg(project_id)) AS jwks,
    (SELECT count(*) FROM signing_keys s WHERE s.project_id = sqlc.arg(project_id)) AS signing_keys,
    (SELECT count(*) FROM key_sets ks WHERE ks.project_id = sqlc.arg(project_id)) AS key_sets,
    (SELECT count(*) FROM apis a WHERE a.project_id = sqlc.arg(project_id)) AS apis,
    (SELECT count(*) FROM truststore_cas) AS truststore_cas,
    (SELECT count(*) FROM notification_rules r WHERE r.project_id = sqlc.arg(project_id)) AS notification_rules,
    -- Capped: a busy project's log grows by every signature; the nav says "1000+".
    (SELECT count(*) FROM (SELECT 1 FROM audit_log l WHERE l.project = sqlc.arg(project_name) LIMIT 1000)) AS audit_entries;
