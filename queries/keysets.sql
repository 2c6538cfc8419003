-- Organizations, groups and applications (the consumers).

-- name: CreateOrganization :one
INSERT INTO organizations (project_id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *;

-- name: GetOrganization :one
SELECT * FROM organizations WHERE project_id = ? AND name = ?;

-- name: ListOrganizations :many
SELECT * FROM organizations WHERE project_id = ? ORDER BY name;

-- name: UpdateOrganization :exec
UPDATE organizations SET description = ?, updated_at = ? WHERE id = ?;

-- name: DeleteOrganization :exec
DELETE FROM organizations WHERE id = ?;

-- name: CreateOrganizationGroup :one
INSERT INTO organization_groups (organization_id, name, created_at) VALUES (?, ?, ?) RETURNING *;

-- name: GetOrganizationGroup :one
SELECT * FROM organization_groups WHERE organization_id = ? AND name = ?;

-- name: ListOrganizationGroups :many
SELECT * FROM organization_groups WHERE organization_id = ? ORDER BY name;

-- name: CountOrganizationGroups :one
SELECT count(*) FROM organization_groups WHERE organization_id = ?;

-- name: DeleteOrganizationGroup :exec
DELETE FROM organization_groups WHERE id = ?;

-- name: ListApplicationNamesOfOrganization :many
SELECT name FROM applications WHERE organization_id = ? ORDER BY name;

-- name: ListApplicationNamesOfGroup :many
SELECT name FROM applications WHERE group_id = ? ORDER BY name;

-- name: CreateApplication :one
INSERT INTO applications (project_id, organization_id, group_id, name, description, status, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?) RETURNING *;

-- name: GetApplication :one
SELECT applications.*, organizations.name AS organization_name, coalesce(organization_groups.name, '') AS group_name
FROM applications
JOIN organizations ON organizations.id = applications.organization_id
LEFT JOIN organization_groups ON organization_groups.id = applications.group_id
WHERE applications.project_id = ? AND applications.name = ?;

-- name: ListApplications :many
SELECT applications.*, organizations.name AS organization_name, coalesce(organization_groups.name, '') AS group_name
FROM applications
JOIN organizations ON organizations.id = applications.organization_id
LEFT JOIN organization_groups ON organization_groups.id = applications.group_id
WHERE applications.project_id = ? ORDER BY applications.name;

-- name: UpdateApplication :exec
UPDATE applications SET description = ?, organization_id = ?, group_id = ?, updated_at = ? WHERE id = ?;

-- name: SetApplicationStatus :exec
UPDATE applications SET status = ?, updated_at = ? WHERE id = ?;

-- name: DeleteApplication :exec
DELETE FROM applications WHERE id = ?;

-- Policy templates and the API catalog.

-- name: CreatePolicyTemplate :one
INSERT INTO policy_templates (project_id, name, description, expiration_seconds, rotation_seconds, manual_regeneration,
    grace_period_seconds, activation_required, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *;

-- name: GetPolicyTemplate :one
SELECT * FROM policy_templates WHERE project_id = ? AND name = ?;

-- name: GetPolicyTemplateByID :one
SELECT * FROM policy_templates WHERE id = ?;

-- name: ListPolicyTemplates :many
SELECT * FROM policy_templates WHERE project_id = ? ORDER BY name;

-- name: UpdatePolicyTemplate :exec
UPDATE policy_templates SET description = ?, expiration_seconds = ?, rotation_seconds = ?, manual_regeneration = ?,
    grace_period_seconds = ?, activation_required = ?, updated_at = ?
WHERE id = ?;

-- name: DeletePolicyTemplate :exec
DELETE FROM policy_templates WHERE id = ?;

-- name: ListAPINamesUsingPolicy :many
SELECT name FROM apis WHERE policy_template_id = ? ORDER BY name;

-- name: CountKeySetsUsingPolicy :one
SELECT count(*) FROM key_sets WHERE policy_template_id = ?;

-- name: CreateAPI :one
INSERT INTO apis (project_id, name, description, policy_template_id, auth_types, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *;

-- name: GetAPI :one
SELECT apis.*, policy_templates.name AS policy_name
FROM apis JOIN policy_templates ON policy_templates.id = apis.policy_template_id
WHERE apis.project_id = ? AND apis.name = ?;

-- name: ListAPIs :many
SELECT apis.*, policy_templates.name AS policy_name
FROM apis JOIN policy_templates ON policy_templates.id = apis.policy_template_id
WHERE apis.project_id = ? ORDER BY apis.name;

-- name: UpdateAPI :exec
UPDATE apis SET description = ?, policy_template_id = ?, auth_types = ?, updated_at = ? WHERE id = ?;

-- name: DeleteAPI :exec
DELETE FROM apis WHERE id = ?;

-- name: AddAPIEnvironment :exec
INSERT INTO api_environments (api_id, environment_id) VALUES (?, ?);

-- name: DeleteAPIEnvironments :exec
DELETE FROM api_environments WHERE api_id = ?;

-- name: ListAPIEnvironments :many
SELECT environments.name FROM api_environments JOIN environments ON environments.id = api_environments.environment_id
WHERE api_environments.api_id = ? ORDER BY environments.name;

-- Subscriptions.

-- name: CreateSubscription :one
INSERT INTO subscriptions (project_id, application_id, api_id, environment_id, created_by, created_at)
VALUES (?, ?, ?, ?, ?, ?) RETURNING *;

-- name: GetSubscription :one
SELECT subscriptions.*, applications.name AS application_name, apis.name AS api_name, environments.name AS environment_name
FROM subscriptions
JOIN applications ON applications.id = subscriptions.application_id
JOIN apis ON apis.id = subscriptions.api_id
JOIN environments ON environments.id = subscriptions.environment_id
WHERE subscriptions.id = ? AND subscriptions.project_id = ?;

-- name: FindSubscription :one
SELECT id FROM subscriptions WHERE application_id = ? AND api_id = ? AND environment_id = ?;

-- name: ListSubscriptionsOfApplication :many
SELECT subscriptions.*, applications.name AS application_name, apis.name AS api_name, environments.name AS environment_name
FROM subscriptions
JOIN applications ON applications.id = subscriptions.application_id
JOIN apis ON apis.id = subscriptions.api_id
JOIN environments ON environments.id = subscriptions.environment_id
WHERE subscriptions.application_id = ? ORDER BY apis.name, environments.name;

-- name: ListSubscriptionsOfAPI :many
SELECT subscriptions.*, applications.name AS application_name, apis.name AS api_name, environments.name AS environment_name
FROM subscriptions
JOIN applications ON applications.id = subscriptions.application_id
JOIN apis ON apis.id = subscriptions.api_id
JOIN environments ON environments.id = subscriptions.environment_id
WHERE subscriptions.api_id = ? ORDER BY applications.name, environments.name;

-- name: ListSubscriptionsOfKeySet :many
SELECT subscriptions.*, applications.name AS application_name, apis.name AS api_name, environments.name AS environment_name
FROM key_set_subscriptions
JOIN subscriptions ON subscriptions.id = key_set_subscriptions.subscription_id
JOIN applications ON applications.id = subscriptions.application_id
JOIN apis ON apis.id = subscriptions.api_id
JOIN environments ON environments.id = subscriptions.environment_id
WHERE key_set_subscriptions.key_set_id = ? ORDER BY apis.name;

-- name: DeleteSubscription :exec
DELETE FROM subscriptions WHERE id = ?;

-- name: LinkKeySetSubscription :exec
INSERT INTO key_set_subscriptions (key_set_id, subscription_id) VALUES (?, ?);

-- name: ListKeySetIDsOfSubscription :many
SELECT key_set_id FROM key_set_subscriptions WHERE subscription_id = ? ORDER BY key_set_id;

-- name: CountSubscriptionsOfKeySet :one
SELECT count(*) FROM key_set_subscriptions WHERE key_set_id = ?;

-- name: ListKeySetIDsOfAPI :many
SELECT DISTINCT key_set_subscriptions.key_set_id FROM key_set_subscriptions
JOIN subscriptions ON subscriptions.id = key_set_subscriptions.subscription_id
WHERE subscriptions.api_id = ?;

-- Key sets.

-- name: CreateKeySet :one
INSERT INTO key_sets (project_id, name, application_id, environment_id, auth_type, policy_template_id, status, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *;

-- name: KeySetNameTaken :one
SELECT count(*) FROM key_sets WHERE project_id = ? AND name = ?;

-- name: GetKeySet :one
SELECT * FROM key_sets WHERE project_id = ? AND name = ?;

-- name: GetKeySetByID :one
SELECT * FROM key_sets WHERE id = ?;

-- name: FindReusableKeySets :many
SELECT * FROM key_sets
WHERE application_id = ? AND environment_id = ? AND auth_type = ? AND policy_template_id = ?
  AND status NOT IN ('REVOKED', 'EXPIRED')
ORDER BY id;

-- name: ListKeySetsOfApplication :many
SELECT * FROM key_sets WHERE application_id = ? ORDER BY id;

-- name: SetKeySetStatus :exec
UPDATE key_sets SET status = ?, suspended_by_application = ?, updated_at = ? WHERE id = ?;

-- name: SetKeySetSchedule :exec
UPDATE key_sets SET expires_at = ?, next_rotation_at = ?, last_rotated_at = ?, updated_at = ? WHERE id = ?;

-- name: SetKeySetDeployedRevision :exec
UPDATE key_sets SET deployed_revision = ? WHERE id = ?;

-- name: DeleteKeySet :exec
DELETE FROM key_sets WHERE id = ?;

-- name: ListDeployedKeySets :many
SELECT key_sets.*, projects.name AS project_name, applications.name AS application_name, organizations.name AS organization_name
FROM key_sets
JOIN projects ON projects.id = key_sets.project_id
JOIN applications ON applications.id = key_sets.application_id
JOIN organizations ON organizations.id = applications.organization_id
WHERE key_sets.environment_id = ? AND key_sets.deployed_revision > 0
ORDER BY projects.name, key_sets.name;

-- name: GetKeySetIndexRow :one
SELECT key_sets.*, projects.name AS project_name, applications.name AS application_name, organizations.name AS organization_name,
    environments.name AS environment_name
FROM key_sets
JOIN projects ON projects.id = key_sets.project_id
JOIN applications ON applications.id = key_sets.application_id
JOIN organizations ON organizations.id = applications.organization_id
JOIN environments ON environments.id = key_sets.environment_id
WHERE key_sets.id = ?;

-- name: ListKeySetIndexRows :many
SELECT key_sets.*, projects.name AS project_name, applications.name AS application_name, organizations.name AS organization_name,
    environments.name AS environment_name
FROM key_sets
JOIN projects ON projects.id = key_sets.project_id
JOIN applications ON applications.id = key_sets.application_id
JOIN organizations ON organizations.id = applications.organization_id
JOIN environments ON environments.id = key_sets.environment_id
ORDER BY key_sets.id;

-- name: ListAuthorizedAPIs :many
SELECT DISTINCT apis.name FROM key_set_subscriptions
JOIN subscriptions ON subscriptions.id = key_set_subscriptions.subscription_id
JOIN apis ON apis.id = subscriptions.api_id
JOIN api_environments ON api_environments.api_id = apis.id AND api_environments.environment_id = subscriptions.environment_id
WHERE key_set_subscriptions.key_set_id = sqlc.arg(key_set_id)
  AND instr(',' || apis.auth_types || ',', ',' || CAST(sqlc.arg(auth_type) AS TEXT) || ',') > 0
ORDER BY apis.name;

-- name: ListAllAuthorizedAPIs :many
SELECT DISTINCT key_sets.id AS key_set_id, apis.name AS api_name FROM key_sets
JOIN key_set_subscriptions ON key_set_subscriptions.key_set_id = key_sets.id
JOIN subscriptions ON subscriptions.id = key_set_subscriptions.subscription_id
JOIN apis ON apis.id = subscriptions.api_id
JOIN api_environments ON api_environments.api_id = apis.id AND api_environments.environment_id = subscriptions.environment_id
WHERE instr(',' || apis.auth_types || ',', ',' || key_sets.auth_type || ',') > 0
ORDER BY key_sets.id, apis.name;

-- name: CountKeySetsInProject :one
SELECT (SELECT count(*) FROM key_sets WHERE key_sets.project_id = sqlc.arg(project_id))
     + (SELECT count(*) FROM organizations WHERE organizations.project_id = sqlc.arg(project_id))
     + (SELECT count(*) FROM policy_templates WHERE policy_templates.project_id = sqlc.arg(project_id));

-- Keys of a key set.

-- name: AddKeySetKey :one
INSERT INTO key_set_keys (key_set_id, seq, value_hash, secret_hash, sealed, display, status, created_at, activated_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *;

-- name: ListKeySetKeys :many
SELECT * FROM key_set_keys WHERE key_set_id = ? ORDER BY seq DESC;

-- name: ListAllKeySetKeys :many
SELECT * FROM key_set_keys ORDER BY key_set_id, seq DESC;

-- name: GetLatestKeySetKey :one
SELECT * FROM key_set_keys WHERE key_set_id = ? ORDER BY seq DESC LIMIT 1;

-- name: SetKeySetKeyStatus :exec
UPDATE key_set_keys SET status = sqlc.arg(status), activated_at = coalesce(activated_at, sqlc.narg(activated_at)) WHERE id = sqlc.arg(id);

-- name: SetKeySetKeyExpires :exec
UPDATE key_set_keys SET expires_at = ? WHERE id = ?;

-- name: RetireKeySetKey :exec
UPDATE key_set_keys SET status = 'REVOKED', rotated_at = ?, revoked_at = ?, grace_until = ? WHERE id = ?;

-- name: TouchKeySetKey :exec
UPDATE key_set_keys SET last_used_at = sqlc.arg(last_used_at) WHERE id = sqlc.arg(id) AND (last_used_at IS NULL OR last_used_at < sqlc.arg(last_used_at));

-- Timeline and scheduler.

-- name: AddKeySetEvent :one
INSERT INTO key_set_events (key_set_id, key_seq, type, state, scheduled_at, actual_at, actor, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *;

-- name: ListKeySetEvents :many
SELECT * FROM key_set_events WHERE key_set_id = ? ORDER BY coalesce(actual_at, scheduled_at), id;

-- name: ListDueKeySetEvents :many
SELECT * FROM key_set_events WHERE state = 'SCHEDULED' AND scheduled_at <= ? ORDER BY scheduled_at, id LIMIT ?;

-- name: GetKeySetEvent :one
SELECT * FROM key_set_events WHERE id = ?;

-- name: FinishKeySetEvent :execrows
UPDATE key_set_events SET state = ?, actual_at = ?, actor = ?, detail = ? WHERE id = ? AND state = 'SCHEDULED';

-- name: ListScheduledKeySetEvents :many
SELECT * FROM key_set_events WHERE key_set_id = ? AND state = 'SCHEDULED' ORDER BY id;

-- name: RevokeKeySetKeys :exec
UPDATE key_set_keys SET status = 'REVOKED',
    revoked_at = CASE WHEN revoked_at IS NULL OR revoked_at > sqlc.arg(at) THEN sqlc.arg(at) ELSE revoked_at END,
    grace_until = CASE WHEN grace_until > sqlc.arg(at) THEN sqlc.arg(at) ELSE grace_until END
WHERE key_set_id = sqlc.arg(key_set_id) AND status <> 'EXPIRED';

-- name: CancelKeySetEvents :exec
UPDATE key_set_events SET state = 'CANCELLED', detail = sqlc.arg(detail)
WHERE key_set_id = sqlc.arg(key_set_id) AND state = 'SCHEDULED' AND (CAST(sqlc.arg(key_seq) AS INTEGER) = 0 OR key_seq = sqlc.arg(key_seq));

-- name: GetEnvironmentByID :one
SELECT * FROM environments WHERE id = ?;

-- name: GetApplicationByID :one
SELECT applications.*, organizations.name AS organization_name, coalesce(organization_groups.name, '') AS group_name
FROM applications
JOIN organizations ON organizations.id = applications.organization_id
LEFT JOIN organization_groups ON organization_groups.id = applications.group_id
WHERE applications.id = ?;
