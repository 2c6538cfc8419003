package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/testenv"
)

// The permission matrix: every API route of a permission area, called as
// each role the area defines, must answer the status the route's need and
// the role's permissions call for; a refusal must change nothing (every
// table, and the JWKS gateways read) but the audit log, and tell a member
// which permission is missing. An item type plugs in with its area and a
// route list: runPermissionMatrix(t, env, project, area, routes).

// nonMemberStatus is how a project answers a caller who is not its member,
// in this one place: 404 not_found ("does not exist or you have no access"),
// the same as for a project that does not exist, so that project names
// cannot be probed (PRODUCT.md).
const nonMemberStatus = http.StatusNotFound

// permissionArea is one area of project permissions and the permission of
// each of its levels ("" where the area has no such level: AUDIT only has
// VIEW).
type permissionArea struct {
	name                 string
	view, manage, deploy access.Permission
	sign                 access.Permission // SIGNING_KEYS:SIGN: signing without managing
}

// permissionAreas are the product's areas; TestPermissionAreasCoverEveryPermission
// keeps them in step with internal/access.
var permissionAreas = []permissionArea{
	{"SECRETS", access.SecretsView, access.SecretsManage, access.SecretsDeploy, ""},
	{"SIGNING_KEYS", access.SigningKeysView, access.SigningKeysManage, access.SigningKeysDeploy, access.SigningKeysSign},
	{"KEY_SETS", access.KeySetsView, access.KeySetsManage, access.KeySetsDeploy, ""},
	{name: "AUDIT", view: access.AuditView},
}

var (
	secretsArea = permissionAreas[0]
	auditArea   = permissionAreas[3]
)

// perms lists the area's permissions.
func (a permissionArea) perms() []access.Permission {
	var out []access.Permission
	for _, p := range []access.Permission{a.view, a.manage, a.deploy, a.sign} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// need is what a route asks for in its area.
type need int

const (
	needView   need = iota + 1 // reads: VIEW
	needManage                 // changes that publish nothing: MANAGE
	needDeploy                 // changes that deploy or undeploy: MANAGE and DEPLOY_UNDEPLOY
	needSign                   // signing with a key: SIGN (MANAGE is not enough)
)

// required lists the permissions a route of need n asks for.
func (a permissionArea) required(n need) []access.Permission {
	switch n {
	case needView:
		return []access.Permission{a.view}
	case needManage:
		return []access.Permission{a.manage}
	case needDeploy:
		return []access.Permission{a.manage, a.deploy}
	case needSign:
		return []access.Permission{a.sign}
	}
	panic(fmt.Sprintf("unknown need %d", n))
}

// matrixRoute is one route of a permission matrix.
type matrixRoute struct {
	name, method, path string
	body               any
	need               need
	action             string // the audit action a member's refusal records; "" when a refusal is not audited (reads)
}

// matrixRole is one caller of the matrix.
type matrixRole struct {
	name   string
	token  string // "" sends no Authorization header
	member bool
	admin  bool
	perms  access.Set // what the role holds in the project
}

// matrixRoles creates a user and a token for each role of area in project,
// least privileged first: no token, a non-member, a member with every
// permission of the other areas, VIEW, MANAGE without DEPLOY_UNDEPLOY,
// MANAGE and DEPLOY_UNDEPLOY (the levels the area has), and an admin.
func matrixRoles(t *testing.T, env *testenv.Env, project string, a permissionArea) []matrixRole {
	t.Helper()
	prefix := strings.ToLower(strings.ReplaceAll(a.name, "_", "-"))
	role := func(name, user string, member, admin bool, perms ...access.Permission) matrixRole {
		env.CreateUser(prefix+"-"+user, admin)
		r := matrixRole{name: name, token: env.Token(prefix + "-" + user), member: member, admin: admin, perms: access.Set{}}
		for _, p := range perms {
			r.perms[p] = true
		}
		if member {
			env.Grant(project, prefix+"-"+user, perms...)
		}
		return r
	}
	var others []access.Permission
	for _, p := range access.All {
		if !slices.Contains(a.perms(), p) {
			others = append(others, p)
		}
	}
	roles := []matrixRole{
		{name: "no token"},
		role("non-member", "outsider", false, false),
		role("other areas' permissions", "other", true, false, others...),
		role(string(a.view), "viewer", true, false, a.view),
	}
	if a.manage != "" {
		roles = append(roles, role(string(a.manage)+" without DEPLOY_UNDEPLOY", "manager", true, false, a.view, a.manage))
	}
	if a.deploy != "" {
		roles = append(roles, role(string(a.manage)+" and DEPLOY_UNDEPLOY", "deployer", true, false, a.view, a.manage, a.deploy))
	}
	if a.sign != "" {
		roles = append(roles, role(string(a.sign)+" only", "signer", true, false, a.view, a.sign))
	}
	return append(roles, role("admin", "admin", false, true))
}

// want is the status role gets from rt.
func (r matrixRole) want(a permissionArea, rt matrixRoute) int {
	switch {
	case r.token == "":
		return http.StatusUnauthorized
	case r.admin:
		return http.StatusOK
	case !r.member:
		return nonMemberStatus
	}
	for _, p := range a.required(rt.need) {
		if !r.perms[p] {
			return http.StatusForbidden
		}
	}
	return http.StatusOK
}

// runPermissionMatrix calls every route as each role of area in project
// and checks the status and error shape (401 with a Bearer challenge), and
// that a refused request changes no table and no published JWKS, adds
// exactly one denied audit entry of the route's action (none for reads and
// for 401) and, for a member, names each permission it lacks.
//
// A read is made by every role allowed it. A write is made once, by the
// least privileged role allowed it: a second create or delete would collide
// with the first. Call it once per instance and area (it creates the role
// users).
func runPermissionMatrix(t *testing.T, env *testenv.Env, project string, area permissionArea, routes []matrixRoute) {
	t.Helper()
	roles := matrixRoles(t, env, project, area)
	for _, rt := range routes {
		written := false
		for _, role := range roles {
			want := role.want(area, rt)
			if want == http.StatusOK && written {
				continue
			}
			t.Run(rt.name+"/"+role.name, func(t *testing.T) {
				before, published, audit := testenv.TakeSnapshot(t, env), publishedState(t, env), len(auditRows(t, env))
				auth := ""
				if role.token != "" {
					auth = "Bearer " + role.token
				}
				r := apiSend(t, env, apiRequest{Method: rt.method, Path: rt.path, Authorization: auth, Body: rt.body})
				checkAPIAnswer(t, r, want)
				if want == http.StatusOK {
					return
				}
				if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
					t.Errorf("a refused request changed %s", d)
				}
				if after := publishedState(t, env); after != published {
					t.Errorf("a refused request changed a published JWKS:\nbefore %s\nafter  %s", published, after)
				}
				if want == http.StatusUnauthorized || rt.action == "" {
					checkRefusal(t, env, audit)
				} else {
					checkRefusal(t, env, audit, rt.action)
				}
				if !role.member {
					return
				}
				d, _ := r.Body["error_description"].(string)
				for _, p := range area.required(rt.need) {
					if !role.perms[p] && !strings.Contains(d, string(p)) {
						t.Errorf("error_description %q does not name the missing %s", d, p)
					}
				}
			})
			if want == http.StatusOK && rt.method != http.MethodGet {
				written = true
			}
		}
	}
}

// publishedState is the public JWKS of every project in every environment,
// as gateways read it (from memory, not from a table).
func publishedState(t testing.TB, env *testenv.Env) string {
	t.Helper()
	names := func(q string) []string {
		rows, err := env.App.DB.Read.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	var b strings.Builder
	for _, p := range names("SELECT name FROM projects ORDER BY name") {
		for _, e := range names("SELECT name FROM environments ORDER BY name") {
			resp, err := http.Get(env.URL("/jwks/" + p + "/" + e))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Fprintf(&b, "jwks %s/%s %d %s\n", p, e, resp.StatusCode, body)
		}
	}
	return b.String()
}

// TestPermissionAreasCoverEveryPermission: each permission internal/access
// defines is a level of exactly one area of the matrix, so a new permission
// (or area) is taught to the runner before its routes can be tested.
func TestPermissionAreasCoverEveryPermission(t *testing.T) {
	seen := map[access.Permission]string{}
	for _, a := range permissionAreas {
		for _, p := range a.perms() {
			if area, _, _ := strings.Cut(string(p), ":"); area != a.name {
				t.Errorf("area %s lists %s", a.name, p)
			}
			if other, dup := seen[p]; dup {
				t.Errorf("%s is in areas %s and %s", p, other, a.name)
			}
			seen[p] = a.name
		}
	}
	for _, p := range access.All {
		if seen[p] == "" {
			t.Errorf("permission %s is in no area of the permission matrix", p)
		}
	}
}

// TestAPIAuditPermissions: a project's audit log is read with AUDIT:VIEW.
func TestAPIAuditPermissions(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("root", true)
	if _, err := env.App.Projects.Create(t.Context(), env.Principal("root"), "payments", ""); err != nil {
		t.Fatal(err)
	}
	runPermissionMatrix(t, env, "payments", auditArea, []matrixRoute{
		{name: "read the project's audit log", method: http.MethodGet, path: "/apiops/audit/?project=payments", need: needView},
	})
}
