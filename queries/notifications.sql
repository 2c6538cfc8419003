-- name: CreateNotificationChannel :one
INSERT INTO notification_channels (project_id, name, kind, url, secret, enabled, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: UpdateNotificationChannel :exec
UPDATE notification_channels SET name = ?, kind = ?, url = ?, secret = ?, enabled = ?, updated_at = ? WHERE id = ?;

-- name: GetNotificationChannel :one
SELECT * FROM notification_channels WHERE project_id = ? AND id = ?;

-- name: GetNotificationChannelByName :one
SELECT * FROM notification_channels WHERE project_id = ? AND name = ?;

-- name: ListNotificationChannels :many
SELECT * FROM notification_channels WHERE project_id = ? ORDER BY name;

-- name: DeleteNotificationChannel :exec
DELETE FROM notification_channels WHERE id = ?;

-- name: CreateNotificationRule :one
INSERT INTO notification_rules (project_id, name, types, thresholds, enabled, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: UpdateNotificationRule :exec
UPDATE notification_rules SET name = ?, types = ?, thresholds = ?, enabled = ?, updated_at = ? WHERE id = ?;

-- name: GetNotificationRule :one
SELECT * FROM notification_rules WHERE project_id = ? AND id = ?;

-- name: GetNotificationRuleByName :one
SELECT * FROM notification_rules WHERE project_id = ? AND name = ?;

-- name: ListNotificationRules :many
SELECT * FROM notification_rules WHERE project_id = ? ORDER BY name;

-- name: ListEnabledNotificationRules :many
SELECT notification_rules.*, projects.name AS project_name
FROM notification_rules JOIN projects ON projects.id = notification_rules.project_id
WHERE notification_rules.enabled ORDER BY notification_rules.id;

-- name: DeleteNotificationRule :exec
DELETE FROM notification_rules WHERE id = ?;

-- name: AddNotificationRuleChannel :exec
INSERT INTO notification_rule_channels (rule_id, channel_id) VALUES (?, ?);

-- name: ClearNotificationRuleChannels :exec
DELETE FROM notification_rule_channels WHERE rule_id = ?;

-- name: ListNotificationRuleChannels :many
SELECT notification_channels.* FROM notification_rule_channels
JOIN notification_channels ON notification_channels.id = notification_rule_channels.channel_id
WHERE notification_rule_channels.rule_id = ? ORDER BY notification_channels.name;

-- name: ListNotificationAlertsForObject :many
SELECT threshold, object_at FROM notification_alerts
WHERE rule_id = ? AND object_type = ? AND source_id = ?;

-- name: CreateNotificationAlert :one
INSERT INTO notification_alerts (rule_id, object_type, source_id, object_at, threshold, status, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING id;

-- name: CreateNotificationDelivery :one
INSERT INTO notification_deliveries (project_id, alert_id, channel_id, channel_name, rule_name, object_type, object_name,
    environment, threshold, payload, status, created_at, next_attempt_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: ListDueNotificationDeliveries :many
SELECT * FROM notification_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id;

-- name: RecordNotificationAttempt :exec
UPDATE notification_deliveries SET status = ?, attempts = attempts + 1, status_code = ?, error = ?, last_attempt_at = ?,
    next_attempt_at = ?, delivered_at = ? WHERE id = ?;

-- name: AddNotificationAttempt :exec
INSERT INTO notification_attempts (delivery_id, at, status_code, error) VALUES (?, ?, ?, ?);

-- name: GetNotificationDelivery :one
SELECT * FROM notification_deliveries WHERE id = ?;

-- name: ListNotificationDeliveries :many
SELECT * FROM notification_deliveries WHERE project_id = ? ORDER BY id DESC LIMIT ? OFFSET ?;

-- name: CountNotificationDeliveries :one
SELECT count(*) FROM notification_deliveries WHERE project_id = ?;
