package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/testenv"
)

// apiRequest is one raw call to the REST API. Unlike testenv.Env.API it
// reports to the calling (sub)test and lets a test send any Authorization
// and Content-Type header. Its answer is checked against the served OpenAPI
// document all the same.
type apiRequest struct {
	Method, Path  string
	Authorization string // the whole header; "" sends none
	ContentType   string // "" means application/json when there is a body
	Body          any    // a string is sent as is, anything else as JSON
}

func apiSend(t *testing.T, env *testenv.Env, r apiRequest) testenv.APIResponse {
	t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = strings.NewReader(string(j))
	}
	req, err := http.NewRequest(r.Method, env.URL(r.Path), body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := r.ContentType; ct != "" {
		req.Header.Set("Content-Type", ct)
	} else if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Authorization != "" {
		req.Header.Set("Authorization", r.Authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := testenv.APIResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &out.Body); err != nil && !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("%s %s: the answer is not JSON: %s", r.Method, r.Path, raw)
	}
	if err := env.CheckAPIResponse(req, resp.StatusCode, resp.Header, raw); err != nil {
		t.Errorf("%s %s: the answer (%d %s) disagrees with the OpenAPI document: %v", r.Method, r.Path, resp.StatusCode, raw, err)
	}
	return out
}

// apiCodes are the API error codes of each status.
var apiCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusRequestEntityTooLarge: "bad_request",
	http.StatusUnauthorized:          "unauthorized_client",
	http.StatusForbidden:             "access_denied",
	http.StatusNotFound:              "not_found",
}

// checkAPIAnswer fails unless resp has the status and the body shape that
// goes with it: "success": true, or the status's error code with a
// description (and, for 401, a WWW-Authenticate: Bearer challenge).
func checkAPIAnswer(t *testing.T, resp testenv.APIResponse, status int) {
	t.Helper()
	if resp.Status != status {
		t.Errorf("status %d, want %d (body %s)", resp.Status, status, resp.Raw)
		return
	}
	if status == http.StatusOK {
		if strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			return // a download: the body is the file
		}
		if resp.Body["success"] != true {
			t.Errorf("200 without \"success\": true: %s", resp.Raw)
		}
		return
	}
	if got, want := resp.Body["error"], apiCodes[status]; got != want {
		t.Errorf("error %v, want %q (body %s)", got, want, resp.Raw)
	}
	if d, _ := resp.Body["error_description"].(string); d == "" {
		t.Errorf("no error_description: %s", resp.Raw)
	}
	if _, ok := resp.Body["success"]; ok {
		t.Errorf("an error carries \"success\": %s", resp.Raw)
	}
	if ch := resp.Header.Get("WWW-Authenticate"); status == http.StatusUnauthorized && !strings.HasPrefix(ch, "Bearer") {
		t.Errorf("401 with WWW-Authenticate %q, want a Bearer challenge", ch)
	}
}

// apiOK calls the API with a bearer token and stops the test unless the
// call succeeds.
func apiOK(t *testing.T, env *testenv.Env, token, method, path string, body any) testenv.APIResponse {
	t.Helper()
	resp := apiSend(t, env, apiRequest{Method: method, Path: path, Authorization: "Bearer " + token, Body: body})
	if resp.Status != http.StatusOK {
		t.Fatalf("%s %s: status %d, body %s", method, path, resp.Status, resp.Raw)
	}
	return resp
}

// apiState is what the bad-input tests expect to stay unchanged: the
// project list, the environment list and every project's members, as an
// admin reads them through the API.
func apiState(t *testing.T, env *testenv.Env, admin string) string {
	t.Helper()
	var b strings.Builder
	projects := apiOK(t, env, admin, http.MethodGet, "/apiops/projects/", nil)
	b.Write(projects.Raw)
	b.Write(apiOK(t, env, admin, http.MethodGet, "/apiops/environments/", nil).Raw)
	for _, p := range projects.Body["resultList"].([]any) {
		name := p.(map[string]any)["name"].(string)
		b.Write(apiOK(t, env, admin, http.MethodGet, "/apiops/projects/"+name+"/members/", nil).Raw)
	}
	return b.String()
}

// listedNames lists the "name" (or "username") of each object in a list
// answer's resultList.
func listedNames(resp testenv.APIResponse) []string {
	var out []string
	list, _ := resp.Body["resultList"].([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		if n, ok := m["name"].(string); ok {
			out = append(out, n)
		} else {
			out = append(out, m["username"].(string))
		}
	}
	return out
}

// roleKind is whom a credential authenticates, if anyone.
type roleKind int

const (
	rejected roleKind = iota // the credential is refused with 401
	plainUser
	viewer  // SECRETS:VIEW in payments
	auditor // the auditor preset in payments
	admin
)

type apiRole struct {
	name          string
	kind          roleKind
	authorization string
	why           string // for rejected credentials: what error_description says
}

// outcomes are a route's expected statuses for each authenticated role.
type outcomes struct{ plain, viewer, auditor, admin int }

func (o outcomes) of(k roleKind) int {
	switch k {
	case plainUser:
		return o.plain
	case viewer:
		return o.viewer
	case auditor:
		return o.auditor
	case admin:
		return o.admin
	}
	return http.StatusUnauthorized
}

// permissionWorld builds the matrix's world: project payments (vic holds
// SECRETS:VIEW, audrey the auditor preset), project doomed, environment
// production, user dave, and one credential per role. The admin comes last
// so that its writes happen after everyone else was refused.
func permissionWorld(t *testing.T) (*testenv.Env, []apiRole) {
	env := testenv.New(t)
	ctx := t.Context()
	for _, u := range []struct {
		name  string
		admin bool
	}{{"root", true}, {"mallory", true}, {"pat", false}, {"vic", false}, {"audrey", false}, {"dave", false}} {
		env.CreateUser(u.name, u.admin)
	}
	root := env.Principal("root")
	for _, p := range []string{"payments", "doomed"} {
		if _, err := env.App.Projects.Create(ctx, root, p, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.App.Environments.Create(ctx, root, environments.Input{Name: "production"}); err != nil {
		t.Fatal(err)
	}
	env.Grant("payments", "vic", access.SecretsView)
	env.Grant("payments", "audrey", access.Presets["auditor"]...)

	// Each refused credential is shown to work first, so that the matrix
	// proves it fails for the reason named.
	works := func(tok string) {
		t.Helper()
		apiOK(t, env, tok, http.MethodGet, "/apiops/projects/", nil)
	}
	revoked, err := env.App.Auth.CreateToken(ctx, root, "", "to-revoke", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	works(revoked.Value)
	if err := env.App.Auth.RevokeToken(ctx, root, revoked.Token.ID); err != nil {
		t.Fatal(err)
	}
	expired, err := env.App.Auth.CreateToken(ctx, root, "", "short-lived", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	works(expired.Value)
	disabled := env.Token("mallory")
	works(disabled)
	if err := env.App.Auth.SetDisabled(ctx, root, "mallory", true); err != nil {
		t.Fatal(err)
	}
	roles := []apiRole{
		{name: "no token", why: "required"},
		{name: "malformed header", authorization: "Basic cm9vdDpzZWNyZXQ=", why: "Bearer"},
		{name: "bearer without token", authorization: "Bearer", why: "required"},
		{name: "unknown token", authorization: "Bearer kw_pat_" + strings.Repeat("A", 43), why: "not valid"},
		{name: "revoked token", authorization: "Bearer " + revoked.Value, why: "revoked"},
		{name: "expired token", authorization: "Bearer " + expired.Value, why: "expired"},
		{name: "disabled user's token", authorization: "Bearer " + disabled, why: "disabled"},
		{name: "plain user", kind: plainUser, authorization: "Bearer " + env.Token("pat")},
		{name: "SECRETS:VIEW member", kind: viewer, authorization: "Bearer " + env.Token("vic")},
		{name: "auditor", kind: auditor, authorization: "Bearer " + env.Token("audrey")},
		{name: "admin", kind: admin, authorization: "Bearer " + env.Token("root")},
	}
	env.Clock.Advance(time.Hour) // the short-lived token expires now; the others last a day
	return env, roles
}

func TestAPIPermissionMatrix(t *testing.T) {
	env, roles := permissionWorld(t)
	const ok, denied, missing = http.StatusOK, http.StatusForbidden, http.StatusNotFound
	routes := []struct {
		name         string
		method, path string
		body         any
		want         outcomes
	}{
		{"list projects", http.MethodGet, "/apiops/projects/", nil, outcomes{ok, ok, ok, ok}},
		{"create project", http.MethodPost, "/apiops/projects/", map[string]string{"name": "created"}, outcomes{denied, denied, denied, ok}},
		{"get project", http.MethodGet, "/apiops/projects/payments/", nil, outcomes{nonMemberStatus, ok, ok, ok}},
		{"get unknown project", http.MethodGet, "/apiops/projects/nope/", nil, outcomes{missing, missing, missing, missing}},
		{"delete project", http.MethodDelete, "/apiops/projects/doomed/", nil, outcomes{denied, denied, denied, ok}},
		{"list members", http.MethodGet, "/apiops/projects/payments/members/", nil, outcomes{nonMemberStatus, ok, ok, ok}},
		{"set member", http.MethodPut, "/apiops/projects/payments/members/dave/",
			map[string][]string{"permissions": {"SECRETS:VIEW"}}, outcomes{denied, denied, denied, ok}},
		{"list environments", http.MethodGet, "/apiops/environments/", nil, outcomes{ok, ok, ok, ok}},
		{"create environment", http.MethodPost, "/apiops/environments/", map[string]string{"name": "staging"}, outcomes{denied, denied, denied, ok}},
		{"get environment", http.MethodGet, "/apiops/environments/production/", nil, outcomes{ok, ok, ok, ok}},
		{"get unknown environment", http.MethodGet, "/apiops/environments/nope/", nil, outcomes{missing, missing, missing, missing}},
		{"read audit log", http.MethodGet, "/apiops/audit/", nil, outcomes{denied, denied, ok, ok}},
		{"read project's audit log", http.MethodGet, "/apiops/audit/?project=payments", nil, outcomes{nonMemberStatus, denied, ok, ok}},
	}
	for _, rt := range routes {
		for _, role := range roles {
			t.Run(rt.name+"/"+role.name, func(t *testing.T) {
				resp := apiSend(t, env, apiRequest{Method: rt.method, Path: rt.path, Authorization: role.authorization, Body: rt.body})
				checkAPIAnswer(t, resp, rt.want.of(role.kind))
				if d, _ := resp.Body["error_description"].(string); role.kind == rejected && !strings.Contains(d, role.why) {
					t.Errorf("error_description %q does not say %q", d, role.why)
				}
			})
		}
	}

	// Only the admin's writes happened.
	root := strings.TrimPrefix(roles[len(roles)-1].authorization, "Bearer ")
	if got := listedNames(apiOK(t, env, root, http.MethodGet, "/apiops/projects/", nil)); !slices.Equal(got, []string{"created", "payments"}) {
		t.Errorf("projects after the matrix: %v, want [created payments]", got)
	}
	if got := listedNames(apiOK(t, env, root, http.MethodGet, "/apiops/environments/", nil)); !slices.Equal(got, []string{"production", "staging"}) {
		t.Errorf("environments after the matrix: %v, want [production staging]", got)
	}
	if got := listedNames(apiOK(t, env, root, http.MethodGet, "/apiops/projects/payments/members/", nil)); !slices.Equal(got, []string{"audrey", "dave", "vic"}) {
		t.Errorf("members of payments after the matrix: %v, want [audrey dave vic]", got)
	}
}

// badInputWorld has an admin token, project payments with member vic and
// environment production.
func badInputWorld(t *testing.T) (*testenv.Env, string) {
	env := testenv.New(t)
	env.CreateUser("root", true)
	env.CreateUser("vic", false)
	env.CreateUser("dave", false)
	root := env.Token("root")
	apiOK(t, env, root, http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments", "description": "Payments APIs"})
	apiOK(t, env, root, http.MethodPost, "/apiops/environments/", map[string]string{"name": "production"})
	env.Grant("payments", "vic", access.SecretsView)
	return env, root
}

func TestAPIBadInputChangesNothing(t *testing.T) {
	env, root := badInputWorld(t)
	long := strings.Repeat("x", 1001)
	cases := []struct {
		name        string
		req         apiRequest
		status      int
		field       string // the field the error names, if any
		description string // a part of error_description, if any
	}{
		{"duplicate project name", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", Body: `{"name":"payments"}`},
			http.StatusBadRequest, "name", "already exists"},
		{"invalid project name", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", Body: `{"name":"no spaces here"}`},
			http.StatusBadRequest, "name", "not valid"},
		{"missing project name", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", Body: `{"description":"x"}`},
			http.StatusBadRequest, "name", "required"},
		{"project description too long", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", Body: map[string]string{"name": "fresh", "description": long}},
			http.StatusBadRequest, "description", "at most 1000"},
		{"form body instead of JSON", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", ContentType: "application/x-www-form-urlencoded", Body: "name=fresh"},
			http.StatusBadRequest, "", "Content-Type: application/json"},
		{"JSON sent as text/plain", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", ContentType: "text/plain", Body: `{"name":"fresh"}`},
			http.StatusBadRequest, "", "Content-Type: application/json"},
		{"body over 1 MiB", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", Body: map[string]string{"name": "fresh", "description": strings.Repeat("x", 1<<20)}},
			http.StatusRequestEntityTooLarge, "", "too large"},
		{"malformed JSON", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", Body: `{"name": "fresh"`},
			http.StatusBadRequest, "", "not valid JSON"},
		{"JSON of the wrong type", apiRequest{Method: http.MethodPost, Path: "/apiops/projects/", Body: `{"name": 42}`},
			http.StatusBadRequest, "", "not valid JSON"},
		{"unknown permission", apiRequest{Method: http.MethodPut, Path: "/apiops/projects/payments/members/dave/", Body: `{"permissions":["SECRETS:VIEW","SECRETS:FLY"]}`},
			http.StatusBadRequest, "permissions[1]", "SECRETS:FLY"},
		{"unknown permission replacing a member's", apiRequest{Method: http.MethodPut, Path: "/apiops/projects/payments/members/vic/", Body: `{"permissions":["AUDIT:EVERYTHING"]}`},
			http.StatusBadRequest, "permissions[0]", "AUDIT:EVERYTHING"},
		// null is not an empty list: it must not remove vic.
		{"null permissions for a member", apiRequest{Method: http.MethodPut, Path: "/apiops/projects/payments/members/vic/", Body: `{"permissions":null}`},
			http.StatusBadRequest, "permissions", "not null"},
		{"null permissions for a new member", apiRequest{Method: http.MethodPut, Path: "/apiops/projects/payments/members/dave/", Body: `{"permissions":null}`},
			http.StatusBadRequest, "permissions", "not null"},
		{"missing permissions", apiRequest{Method: http.MethodPut, Path: "/apiops/projects/payments/members/vic/", Body: `{}`},
			http.StatusBadRequest, "permissions", "required"},
		{"permissions of the wrong type", apiRequest{Method: http.MethodPut, Path: "/apiops/projects/payments/members/vic/", Body: `{"permissions":"SECRETS:VIEW"}`},
			http.StatusBadRequest, "", "not valid JSON"},
		{"unknown user", apiRequest{Method: http.MethodPut, Path: "/apiops/projects/payments/members/ghost/", Body: `{"permissions":["SECRETS:VIEW"]}`},
			http.StatusBadRequest, "username", "ghost"},
		{"member of an unknown project", apiRequest{Method: http.MethodPut, Path: "/apiops/projects/nope/members/dave/", Body: `{"permissions":["SECRETS:VIEW"]}`},
			http.StatusNotFound, "", "nope"},
		{"unknown project", apiRequest{Method: http.MethodGet, Path: "/apiops/projects/nope/"}, http.StatusNotFound, "", "nope"},
		{"members of an unknown project", apiRequest{Method: http.MethodGet, Path: "/apiops/projects/nope/members/"}, http.StatusNotFound, "", "nope"},
		{"delete an unknown project", apiRequest{Method: http.MethodDelete, Path: "/apiops/projects/nope/"}, http.StatusNotFound, "", "nope"},
		{"duplicate environment", apiRequest{Method: http.MethodPost, Path: "/apiops/environments/", Body: `{"name":"production"}`},
			http.StatusBadRequest, "name", "already exists"},
		{"invalid environment name", apiRequest{Method: http.MethodPost, Path: "/apiops/environments/", Body: `{"name":"prod/eu"}`},
			http.StatusBadRequest, "name", "not valid"},
		{"environment description too long", apiRequest{Method: http.MethodPost, Path: "/apiops/environments/", Body: map[string]string{"name": "staging", "description": long}},
			http.StatusBadRequest, "description", "at most 1000"},
		{"webhook URL with another scheme", apiRequest{Method: http.MethodPost, Path: "/apiops/environments/", Body: `{"name":"staging","webhookUrl":"ftp://hooks.example.com/kw"}`},
			http.StatusBadRequest, "webhookUrl", "http"},
		{"relative webhook URL", apiRequest{Method: http.MethodPost, Path: "/apiops/environments/", Body: `{"name":"staging","webhookUrl":"/hooks/kw"}`},
			http.StatusBadRequest, "webhookUrl", "absolute"},
		{"unknown environment", apiRequest{Method: http.MethodGet, Path: "/apiops/environments/nope/"}, http.StatusNotFound, "", "nope"},
		{"deployment page 0", apiRequest{Method: http.MethodGet, Path: "/apiops/environments/production/?page=0"}, http.StatusBadRequest, "page", ""},
		{"deployment page size too large", apiRequest{Method: http.MethodGet, Path: "/apiops/environments/production/?size=201"}, http.StatusBadRequest, "size", ""},
		{"audit log from a non-date", apiRequest{Method: http.MethodGet, Path: "/apiops/audit/?from=yesterday"}, http.StatusBadRequest, "from", "yesterday"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, tables := apiState(t, env, root), testenv.TakeSnapshot(t, env)
			c.req.Authorization = "Bearer " + root
			resp := apiSend(t, env, c.req)
			checkAPIAnswer(t, resp, c.status)
			if got, _ := resp.Body["field"].(string); got != c.field {
				t.Errorf("field %q, want %q (body %s)", got, c.field, resp.Raw)
			}
			if d, _ := resp.Body["error_description"].(string); !strings.Contains(d, c.description) {
				t.Errorf("error_description %q does not mention %q", d, c.description)
			}
			if after := apiState(t, env, root); after != before {
				t.Errorf("the refused request changed the state:\nbefore %s\nafter  %s", before, after)
			}
			if d := tables.Changes(t, testenv.AuditMayGrow); d != "" {
				t.Errorf("the refused request changed %s", d)
			}
		})
	}
}

func TestAPIWebhookSecretIsShownOnce(t *testing.T) {
	env, root := badInputWorld(t)
	plain := apiOK(t, env, root, http.MethodPost, "/apiops/environments/", map[string]string{"name": "staging"})
	if _, ok := plain.Body["webhookSecret"]; ok {
		t.Errorf("an environment without a webhook got a secret: %s", plain.Raw)
	}
	created := apiOK(t, env, root, http.MethodPost, "/apiops/environments/",
		map[string]string{"name": "eu-prod", "webhookUrl": "https://hooks.example.com/keyward"})
	secret, _ := created.Body["webhookSecret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 32 {
		t.Fatalf("webhookSecret %q, want a whsec_ secret", secret)
	}
	if got := created.Body["environment"].(map[string]any)["webhookUrl"]; got != "https://hooks.example.com/keyward" {
		t.Errorf("environment.webhookUrl = %v", got)
	}
	for _, path := range []string{"/apiops/environments/", "/apiops/environments/eu-prod/", "/apiops/environments/eu-prod"} {
		r := apiOK(t, env, root, http.MethodGet, path, nil)
		if strings.Contains(string(r.Raw), secret) || strings.Contains(string(r.Raw), "webhookSecret") {
			t.Errorf("GET %s shows the webhook secret: %s", path, r.Raw)
		}
	}
	// Nothing secret at rest in clear, nor in the logs.
	files, _ := filepath.Glob(filepath.Join(env.Dir, "*"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("%s holds the webhook secret in clear", filepath.Base(f))
		}
	}
	if strings.Contains(env.Logs.String(), secret) {
		t.Error("the logs hold the webhook secret")
	}
}

func TestAPINewEnvironmentHasNoDeployments(t *testing.T) {
	env, root := badInputWorld(t)
	r := apiOK(t, env, root, http.MethodGet, "/apiops/environments/production/", nil)
	e := r.Body["environment"].(map[string]any)
	if e["name"] != "production" || e["revision"] != float64(0) {
		t.Errorf("environment = %v, want production at revision 0", e)
	}
	if deps, ok := r.Body["deployments"].([]any); !ok || len(deps) != 0 {
		t.Errorf("deployments = %v, want [] (body %s)", r.Body["deployments"], r.Raw)
	}
	if r.Body["deploymentCount"] != float64(0) {
		t.Errorf("deploymentCount = %v, want 0", r.Body["deploymentCount"])
	}
}

func TestAPIDeleteProject(t *testing.T) {
	env, root := badInputWorld(t)
	// Members do not keep a project alive.
	apiOK(t, env, root, http.MethodDelete, "/apiops/projects/payments/", nil)
	for _, req := range []apiRequest{
		{Method: http.MethodGet, Path: "/apiops/projects/payments/"},
		{Method: http.MethodGet, Path: "/apiops/projects/payments/members/"},
		{Method: http.MethodDelete, Path: "/apiops/projects/payments/"},
	} {
		req.Authorization = "Bearer " + root
		t.Run(req.Method+" "+req.Path, func(t *testing.T) {
			checkAPIAnswer(t, apiSend(t, env, req), http.StatusNotFound)
		})
	}
	if got := listedNames(apiOK(t, env, root, http.MethodGet, "/apiops/projects/", nil)); len(got) != 0 {
		t.Errorf("projects after delete: %v", got)
	}
	// The memberships went with it: a new project of the same name starts empty.
	apiOK(t, env, root, http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments"})
	if got := listedNames(apiOK(t, env, root, http.MethodGet, "/apiops/projects/payments/members/", nil)); len(got) != 0 {
		t.Errorf("members of the re-created project: %v, want none", got)
	}
	vic := "Bearer " + env.Token("vic")
	checkAPIAnswer(t, apiSend(t, env, apiRequest{Method: http.MethodGet, Path: "/apiops/projects/payments/", Authorization: vic}), nonMemberStatus)
}

func TestAPIPathsWithAndWithoutTrailingSlash(t *testing.T) {
	env, root := badInputWorld(t)
	withSlash := apiOK(t, env, root, http.MethodGet, "/apiops/projects/", nil)
	without := apiOK(t, env, root, http.MethodGet, "/apiops/projects", nil)
	if string(withSlash.Raw) != string(without.Raw) {
		t.Errorf("/apiops/projects/ and /apiops/projects differ:\n%s\n%s", withSlash.Raw, without.Raw)
	}
	apiOK(t, env, root, http.MethodPost, "/apiops/projects", map[string]string{"name": "billing"})
	apiOK(t, env, root, http.MethodGet, "/apiops/projects/billing", nil)
	apiOK(t, env, root, http.MethodPut, "/apiops/projects/billing/members/vic", map[string][]string{"permissions": {"AUDIT:VIEW"}})
	members := apiOK(t, env, root, http.MethodGet, "/apiops/projects/billing/members", nil)
	if got := listedNames(members); !slices.Equal(got, []string{"vic"}) {
		t.Errorf("members of billing: %v", got)
	}
	apiOK(t, env, root, http.MethodGet, "/apiops/environments", nil)
	apiOK(t, env, root, http.MethodGet, "/apiops/environments/production", nil)
	apiOK(t, env, root, http.MethodGet, "/apiops/audit", nil)
	apiOK(t, env, root, http.MethodDelete, "/apiops/projects/billing", nil)
	// An unknown address under /apiops/ is a JSON 404 once authenticated.
	checkAPIAnswer(t, apiSend(t, env, apiRequest{Method: http.MethodGet, Path: "/apiops/nothing-here/", Authorization: "Bearer " + root}), http.StatusNotFound)
}

func TestAPIRecordsTokenLastUse(t *testing.T) {
	env, _ := badInputWorld(t)
	ctx := t.Context()
	vic := env.Principal("vic")
	tok, err := env.App.Auth.CreateToken(ctx, vic, "", "ci", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() (time.Time, bool) {
		t.Helper()
		list, err := env.App.Auth.ListTokens(ctx, vic)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range list {
			if x.ID == tok.Token.ID {
				return x.LastUsedAt.Time, x.LastUsedAt.Valid
			}
		}
		t.Fatal("the token is not listed")
		return time.Time{}, false
	}
	if _, used := lastUsed(); used {
		t.Fatal("a new token already has a last-used time")
	}
	env.Clock.Advance(10 * time.Minute)
	first := env.Clock.Now()
	apiOK(t, env, tok.Value, http.MethodGet, "/apiops/projects/", nil)
	if at, used := lastUsed(); !used || !at.Equal(first) {
		t.Errorf("last used %v (%v), want %v", at, used, first)
	}
	// Written at most once a minute, then again.
	env.Clock.Advance(30 * time.Second)
	apiOK(t, env, tok.Value, http.MethodGet, "/apiops/projects/", nil)
	if at, _ := lastUsed(); !at.Equal(first) {
		t.Errorf("last used %v after 30 seconds, want it kept at %v", at, first)
	}
	env.Clock.Advance(time.Minute)
	apiOK(t, env, tok.Value, http.MethodGet, "/apiops/projects/", nil)
	if at, _ := lastUsed(); !at.Equal(env.Clock.Now()) {
		t.Errorf("last used %v, want %v", at, env.Clock.Now())
	}
	// A refused request is not a use.
	if err := env.App.Auth.RevokeToken(ctx, vic, tok.Token.ID); err != nil {
		t.Fatal(err)
	}
	before, _ := lastUsed()
	env.Clock.Advance(time.Hour)
	checkAPIAnswer(t, apiSend(t, env, apiRequest{Method: http.MethodGet, Path: "/apiops/projects/", Authorization: "Bearer " + tok.Value}), http.StatusUnauthorized)
	if at, _ := lastUsed(); !at.Equal(before) {
		t.Errorf("a revoked token's use moved last used to %v", at)
	}
}
