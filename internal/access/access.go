// Package access defines who is acting (Principal) and what project
// permissions exist, and checks them. Services call Require before they write
// anything, so a request missing a permission is refused with 403 and changes
// nothing.
package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Permission is an AREA:LEVEL pair such as "SECRETS:MANAGE".
type Permission string

// The project permissions. MANAGE lets a member change items of the area;
// DEPLOY_UNDEPLOY is needed in addition to MANAGE to publish to or withdraw
// from an environment.
const (
	SecretsView       Permission = "SECRETS:VIEW"
	SecretsManage     Permission = "SECRETS:MANAGE"
	SecretsDeploy     Permission = "SECRETS:DEPLOY_UNDEPLOY"
	SigningKeysView   Permission = "SIGNING_KEYS:VIEW"
	SigningKeysManage Permission = "SIGNING_KEYS:MANAGE"
	SigningKeysDeploy Permission = "SIGNING_KEYS:DEPLOY_UNDEPLOY"
	// SigningKeysSign lets a caller sign JWTs with the project's keys
	// without being able to manage them (a service's token).
	SigningKeysSign Permission = "SIGNING_KEYS:SIGN"
	KeySetsView     Permission = "KEY_SETS:VIEW"
	KeySetsManage   Permission = "KEY_SETS:MANAGE"
	KeySetsDeploy   Permission = "KEY_SETS:DEPLOY_UNDEPLOY"
	AuditView       Permission = "AUDIT:VIEW"
)

// All lists every permission in display order.
var All = []Permission{
	SecretsView, SecretsManage, SecretsDeploy,
	SigningKeysView, SigningKeysManage, SigningKeysDeploy, SigningKeysSign,
	KeySetsView, KeySetsManage, KeySetsDeploy,
	AuditView,
}

// Presets are named permission sets offered in the member form.
var Presets = map[string][]Permission{
	// Auditor reads everything but secret material, and the audit log.
	"auditor":  {SecretsView, SigningKeysView, KeySetsView, AuditView},
	"operator": {SecretsView, SecretsManage, SecretsDeploy, SigningKeysView, SigningKeysManage, SigningKeysDeploy, SigningKeysSign, KeySetsView, KeySetsManage, KeySetsDeploy},
	"owner":    All,
}

// PresetNames lists Presets' keys in display order.
var PresetNames = []string{"auditor", "operator", "owner"}

// Set is a set of permissions.
type Set map[Permission]bool

// ParseList validates permission names (e.g. from the API) and returns the set.
// MANAGE and DEPLOY_UNDEPLOY imply VIEW of the same area.
func ParseList(names []string, field string) (Set, error) {
	s := Set{}
	for i, n := range names {
		p := Permission(strings.ToUpper(strings.TrimSpace(n)))
		if !slices.Contains(All, p) {
			return nil, errs.FieldErrorf(fmt.Sprintf("%s[%d]", field, i),
				"%s[%d] %q is not a permission; use one of %s", field, i, n, strings.Join(Strings(All), ", "))
		}
		s[p] = true
		if area, level, _ := strings.Cut(string(p), ":"); level != "VIEW" {
			s[Permission(area+":VIEW")] = true
		}
	}
	return s, nil
}

// Decode reads the stored comma-separated form; unknown names are dropped.
func Decode(stored string) Set {
	s := Set{}
	for _, n := range strings.Split(stored, ",") {
		if p := Permission(n); slices.Contains(All, p) {
			s[p] = true
		}
	}
	return s
}

// Encode returns the stored form: sorted in All's order, comma-separated.
func (s Set) Encode() string { return strings.Join(Strings(s.List()), ",") }

// List returns the permissions in All's order.
func (s Set) List() []Permission {
	var out []Permission
	for _, p := range All {
		if s[p] {
			out = append(out, p)
		}
	}
	return out
}

// Strings converts permissions to strings.
func Strings(ps []Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// Principal is who performs an operation: a signed-in user, a user's API
// token, or the local command line.
type Principal struct {
	UserID     int64
	Username   string
	Admin      bool
	Via        string // "web", "token:<name>", "gateway:<name>", "cli"
	SourceAddr string
	// GatewayEnvironment is set for an environment's gateway token, which
	// may read that environment's bundle and nothing else.
	GatewayEnvironment string
}

// Authenticated reports whether the principal is a known user.
func (p Principal) Authenticated() bool { return p.UserID != 0 }

// Project is the minimum a permission check needs to know about a project.
type Project struct {
	ID   int64
	Name string
}

// Permissions returns the principal's permissions in a project; an admin
// holds them all.
func Permissions(ctx context.Context, q *queries.Queries, p Principal, projectID int64) (Set, error) {
	if p.Admin {
		s := Set{}
		for _, perm := range All {
			s[perm] = true
		}
		return s, nil
	}
	stored, err := q.GetMemberPermissions(ctx, queries.GetMemberPermissionsParams{ProjectID: projectID, UserID: p.UserID})
	if errors.Is(err, sql.ErrNoRows) {
		return Set{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load permissions: %w", err)
	}
	return Decode(stored), nil
}

// Require returns a Forbidden error unless the principal holds every one of
// perms in the project.
func Require(ctx context.Context, q *queries.Queries, p Principal, project Project, perms ...Permission) error {
	if !p.Authenticated() {
		return errs.Errorf(errs.Unauthorized, "Authentication is required.")
	}
	have, err := Permissions(ctx, q, p, project.ID)
	if err != nil {
		return err
	}
	var missing []string
	for _, perm := range perms {
		if !have[perm] {
			missing = append(missing, string(perm))
		}
	}
	if len(missing) > 0 {
		return errs.Errorf(errs.Forbidden, "You need the %s permission in project %q.", strings.Join(missing, " and "), project.Name)
	}
	return nil
}

// RequireAdmin returns a Forbidden error unless the principal is an admin.
func RequireAdmin(p Principal) error {
	if !p.Authenticated() {
		return errs.Errorf(errs.Unauthorized, "Authentication is required.")
	}
	if !p.Admin {
		return errs.Errorf(errs.Forbidden, "Only administrators can do this.")
	}
	return nil
}
