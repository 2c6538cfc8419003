package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestHiddenProjectAnswersLikeAMissingOne: to a caller who is no member of
// a project, every project route answers exactly as for a project that does
// not exist (404 not_found, the same sentence with the name swapped), so
// project names cannot be probed.
func TestHiddenProjectAnswersLikeAMissingOne(t *testing.T) {
	w := newSecretsWorld(t)
	w.must(w.dora, http.MethodPost, keysPath, keyBody("existing", "SECRET_KEY", "", keyConfig("development", secretBytes(16, 1), "")))
	outsider := "Bearer " + w.pat // a user with no membership anywhere
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/apiops/projects/%s/"},
		{http.MethodGet, "/apiops/projects/%s/members/"},
		{http.MethodGet, "/apiops/projects/%s/keys/"},
		{http.MethodGet, "/apiops/projects/%s/keys/existing/"},
		{http.MethodGet, "/apiops/projects/%s/jwks/"},
		{http.MethodPost, "/apiops/projects/%s/keys/"},
		{http.MethodDelete, "/apiops/projects/%s/keys/existing/"},
		{http.MethodGet, "/apiops/audit/?project=%s"},
	} {
		var body any
		if c.method == http.MethodPost {
			body = keyBody("k", "SECRET_KEY", "", keyConfig("development", secretBytes(16, 2), ""))
		}
		before := w.secretsState(t)
		hidden := apiSend(t, w.env, apiRequest{Method: c.method, Path: strings.Replace(c.path, "%s", "payments", 1), Authorization: outsider, Body: body})
		missing := apiSend(t, w.env, apiRequest{Method: c.method, Path: strings.Replace(c.path, "%s", "paymentz", 1), Authorization: outsider, Body: body})
		checkAPIAnswer(t, hidden, http.StatusNotFound)
		checkAPIAnswer(t, missing, http.StatusNotFound)
		if h, m := strings.Replace(string(hidden.Raw), "payments", "paymentz", -1), string(missing.Raw); h != m {
			t.Errorf("%s %s: a hidden project answers %s, a missing one %s", c.method, c.path, hidden.Raw, missing.Raw)
		}
		if !strings.Contains(string(hidden.Raw), "does not exist or you have no access to it") {
			t.Errorf("%s %s: %s", c.method, c.path, hidden.Raw)
		}
		if d := w.changedSince(t, before); d != "" {
			t.Errorf("%s %s changed something: %s", c.method, c.path, d)
		}
	}
}

// TestLabelsRefuseControlCharacters: the names of tokens and gateway tokens
// and a JWK's kid are free text, but a control character (which would
// corrupt logs, CSV exports and terminals) is refused with the field named,
// and nothing is created.
func TestLabelsRefuseControlCharacters(t *testing.T) {
	w := newSecretsWorld(t)
	w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "SECRET_KEY", "", keyConfig("development", secretBytes(32, 1), "")))
	for _, c := range []struct {
		name, path string
		body       any
		field      string
	}{
		{"gateway token", "/apiops/environments/development/gatewayTokens/", map[string]string{"name": "edge\r\n1"}, "name"},
		{"gateway token (escape)", "/apiops/environments/development/gatewayTokens/", map[string]string{"name": "edge\x1b[31m"}, "name"},
		{"JWK kid", "/apiops/projects/payments/jwks/", map[string]any{"name": "j", "sourceType": "KEY", "sourceName": "signer",
			"use": "sig", "alg": "HS256", "kid": "k\x00id", "environmentNames": []string{"development"}}, "kid"},
	} {
		before := w.secretsState(t)
		r := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: c.path, Authorization: "Bearer " + w.root, Body: c.body})
		checkAPIAnswer(t, r, http.StatusBadRequest)
		if r.Body["field"] != c.field || !strings.Contains(r.Body["error_description"].(string), "control characters") {
			t.Errorf("%s: %s", c.name, r.Raw)
		}
		if d := w.changedSince(t, before); d != "" {
			t.Errorf("%s changed something: %s", c.name, d)
		}
	}
	// A personal token's name, through the account page's service.
	_, err := w.env.App.Auth.CreateToken(t.Context(), w.env.Principal("vic"), "", "ci\tbot", 0)
	if err == nil || !strings.Contains(err.Error(), "control characters") {
		t.Errorf("token named with a tab: %v", err)
	}
	var n int
	if err := w.env.App.DB.Read.QueryRow("SELECT count(*) FROM api_tokens WHERE name LIKE 'ci%'").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tokens created (%v)", n, err)
	}
}
