package handlers_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"github.com/keyward/keyward/internal/access"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/internal/app"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/labstack/echo/v4"
)

// openAPIDoc is the served document, decoded loosely so that the tests read
// it the way a client would.
type openAPIDoc map[string]any

// fetchOpenAPI reads /apiops/openapi.json without a token.
func fetchOpenAPI(t *testing.T, env *testenv.Env) openAPIDoc {
	t.Helper()
	r := env.API("", http.MethodGet, "/apiops/openapi.json", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /apiops/openapi.json: status %d, body %s", r.Status, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET /apiops/openapi.json: Content-Type %q", ct)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// docObject walks down a chain of object keys and fails when one is missing.
func docObject(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is not an object", strings.Join(keys[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s is missing", strings.Join(keys[:i+1], "."))
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object", strings.Join(keys, "."))
	}
	return m
}

// resolve follows a local $ref ("#/components/schemas/Project").
func (d openAPIDoc) resolve(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	ref, ok := v["$ref"].(string)
	if !ok {
		return v
	}
	if !strings.HasPrefix(ref, "#/") {
		t.Fatalf("$ref %q is not local", ref)
	}
	return docObject(t, map[string]any(d), strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
}

// docOperation is one documented method of one path.
type docOperation struct {
	Method, Path string
	Spec         map[string]any
}

func (o docOperation) String() string { return o.Method + " " + o.Path }

func (d openAPIDoc) operations(t *testing.T) []docOperation {
	t.Helper()
	var out []docOperation
	for path, item := range docObject(t, map[string]any(d), "paths") {
		for method, spec := range item.(map[string]any) {
			out = append(out, docOperation{Method: strings.ToUpper(method), Path: path, Spec: spec.(map[string]any)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func TestOpenAPIDocument(t *testing.T) {
	env := testenv.New(t)
	doc := fetchOpenAPI(t, env)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") && !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.0.x or 3.1.x", v)
	}
	info := docObject(t, map[string]any(doc), "info")
	if info["title"] != "Keyward" || info["version"] != app.Version {
		t.Errorf("info = %v, want title Keyward and version %q", info, app.Version)
	}
	bearer := docObject(t, map[string]any(doc), "components", "securitySchemes", "bearerAuth")
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("bearerAuth = %v, want http bearer", bearer)
	}
	var tags []string
	for _, tag := range doc["tags"].([]any) {
		tags = append(tags, tag.(map[string]any)["name"].(string))
	}
	for _, op := range doc.operations(t) {
		if _, ok := op.Spec["operationId"].(string); !ok {
			t.Errorf("%s has no operationId", op)
		}
		for _, tag := range op.Spec["tags"].([]any) {
			if !slices.Contains(tags, tag.(string)) {
				t.Errorf("%s: tag %q is not declared", op, tag)
			}
		}
	}
	// Every $ref anywhere in the document points at something.
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["$ref"]; ok {
				doc.resolve(t, v)
			}
			for k, x := range v {
				walk(x, where+"."+k)
			}
		case []any:
			for _, x := range v {
				walk(x, where)
			}
		}
	}
	walk(map[string]any(doc), "")
}

// servedAPIRoutes returns the /apiops/ routes the server serves, as "METHOD
// /path/{param}/": without the slash-less twins apiRoute registers, the
// catch-all and openapi.json itself.
func servedAPIRoutes(e *echo.Echo) []string {
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		registered[r.Method+" "+r.Path] = true
	}
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	var out []string
	for _, r := range e.Routes() {
		switch {
		case !strings.HasPrefix(r.Path, "/apiops/"), r.Path == "/apiops/*", r.Path == "/apiops/openapi.json",
			r.Method == echo.RouteNotFound,
			!strings.HasSuffix(r.Path, "/") && registered[r.Method+" "+r.Path+"/"]:
			continue
		}
		out = append(out, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	env := testenv.New(t)
	doc := fetchOpenAPI(t, env)
	documented := map[string]bool{}
	for _, op := range doc.operations(t) {
		documented[op.String()] = true
	}
	served := servedAPIRoutes(env.Echo)
	if len(served) < 10 {
		t.Fatalf("only %d /apiops/ routes found: %v", len(served), served)
	}
	for _, r := range served {
		if !documented[r] {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
		delete(documented, r)
	}
	delete(documented, "GET /apiops/openapi.json")
	for op := range documented {
		t.Errorf("documented operation %s is not served by any route", op)
	}
}

func TestOpenAPIOperationsDocumentAuthAndErrors(t *testing.T) {
	env := testenv.New(t)
	doc := fetchOpenAPI(t, env)
	errorCodes := docObject(t, map[string]any(doc), "components", "schemas", "Error", "properties", "error")["enum"]
	for _, code := range []string{"bad_request", "unauthorized_client", "access_denied", "not_found"} {
		if !slices.Contains(errorCodes.([]any), any(code)) {
			t.Errorf("Error.error does not list %q", code)
		}
	}
	for _, op := range doc.operations(t) {
		responses := docObject(t, op.Spec, "responses")
		if isDownload(op) {
			for ct, m := range docObject(t, responses, "200", "content") {
				if s := m.(map[string]any)["schema"].(map[string]any); s["type"] != "string" || s["format"] != "binary" || !strings.Contains(ct, "/") {
					t.Errorf("%s: download %s is documented as %v", op, ct, s)
				}
			}
			continue
		}
		success := doc.resolve(t, docObject(t, responses, "200", "content", "application/json", "schema"))
		public := op.Path == "/apiops/openapi.json"
		if public {
			if sec, ok := op.Spec["security"].([]any); !ok || len(sec) != 0 {
				t.Errorf("%s: security = %v, want [] (public)", op, op.Spec["security"])
			}
			continue
		}
		if sec, ok := op.Spec["security"]; ok {
			// Only the bundle and credential verification take another
			// credential: a gateway token.
			gateway := op.String() == "GET /apiops/environments/{environmentName}/bundle" || op.String() == "POST /apiops/environments/{environmentName}/credentials/verify"
			if !gateway || asJSON(sec) != `[{"gatewayToken":[]}]` {
				t.Errorf("%s overrides the document's bearerAuth security", op)
			}
			docObject(t, map[string]any(doc), "components", "securitySchemes", "gatewayToken")
		}
		if ok := docObject(t, success, "properties", "success"); !reflect.DeepEqual(ok["enum"], []any{true}) {
			t.Errorf("%s: 200 body's success is %v, want enum [true]", op, ok)
		}
		for _, status := range []string{"401", "403"} {
			r, found := responses[status].(map[string]any)
			if !found {
				t.Errorf("%s does not document %s", op, status)
				continue
			}
			r = doc.resolve(t, r)
			if s := docObject(t, r, "content", "application/json", "schema"); s["$ref"] != "#/components/schemas/Error" {
				t.Errorf("%s: %s body is %v, want the Error schema", op, status, s)
			}
		}
		// Each {param} of the path is a documented, required path parameter.
		var params []string
		ps, _ := op.Spec["parameters"].([]any)
		for _, p := range ps {
			if p := p.(map[string]any); p["in"] == "path" && p["required"] == true {
				params = append(params, p["name"].(string))
			}
		}
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(op.Path, -1) {
			if !slices.Contains(params, m[1]) {
				t.Errorf("%s: path parameter %s is not documented", op, m[1])
			}
		}
	}
}

// dtoJSONFields lists the JSON names of a struct's fields.
func dtoJSONFields(v any) []string {
	var out []string
	for _, f := range reflect.VisibleFields(reflect.TypeOf(v)) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.IsExported() && !f.Anonymous && name != "-" {
			out = append(out, orDefault(name, f.Name))
		}
	}
	sort.Strings(out)
	return out
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func schemaPropertyNames(s map[string]any) []string {
	var out []string
	for name := range s["properties"].(map[string]any) {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIRequestBodiesMatchDTOs(t *testing.T) {
	env := testenv.New(t)
	doc := fetchOpenAPI(t, env)
	types := handlers.OpenAPISchemaTypes()
	bodies := 0
	for _, op := range doc.operations(t) {
		body, ok := op.Spec["requestBody"].(map[string]any)
		if !ok {
			continue
		}
		bodies++
		ref, _ := docObject(t, body, "content", "application/json", "schema")["$ref"].(string)
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		dto, ok := types[name]
		if !ok {
			t.Errorf("%s: request body %q is not derived from a DTO type", op, ref)
			continue
		}
		if body["required"] != true {
			t.Errorf("%s: request body is not required", op)
		}
		got := schemaPropertyNames(doc.resolve(t, map[string]any{"$ref": ref}))
		if want := dtoJSONFields(dto); !slices.Equal(got, want) {
			t.Errorf("%s: schema %s has properties %v, the DTO %T has JSON fields %v", op, name, got, dto, want)
		}
	}
	if bodies < 3 {
		t.Errorf("only %d operations document a request body", bodies)
	}
	// Response schemas come from DTOs as well.
	for name, dto := range types {
		got := schemaPropertyNames(docObject(t, map[string]any(doc), "components", "schemas", name))
		if want := dtoJSONFields(dto); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v, the DTO %T has JSON fields %v", name, got, dto, want)
		}
	}
	// memberPutDTO's permissions are an enum of every permission.
	perms := docObject(t, map[string]any(doc), "components", "schemas", "Permission")["enum"].([]any)
	if len(perms) != len(access.All) || perms[0] != "SECRETS:VIEW" || !slices.Contains(perms, any("SIGNING_KEYS:SIGN")) || !slices.Contains(perms, any("AUDIT:VIEW")) {
		t.Errorf("Permission enum = %v", perms)
	}
}

// TestOpenAPINamePattern keeps the documented name pattern in step with
// what internal/names accepts.
func TestOpenAPINamePattern(t *testing.T) {
	env := testenv.New(t)
	doc := fetchOpenAPI(t, env)
	pattern := docObject(t, map[string]any(doc), "components", "schemas", "ProjectCreate", "properties", "name")["pattern"].(string)
	re := regexp.MustCompile(pattern)
	for _, name := range []string{"a", "payments", "Payments-2.v_1", strings.Repeat("x", 64), strings.Repeat("x", 65),
		"-lead", ".hidden", "has space", "ümlaut", "a/b", ""} {
		if got, want := re.MatchString(name), names.Validate("name", "Project", name) == nil; got != want {
			t.Errorf("name %q: pattern says %v, names.Validate says %v", name, got, want)
		}
	}
}

// conforms reports where v breaks schema s: an undocumented or missing
// property, or a value of the wrong type.
func (d openAPIDoc) conforms(t *testing.T, s map[string]any, v any, where string) []string {
	t.Helper()
	s = d.resolve(t, s)
	var bad []string
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		bad = append(bad, where+": "+asJSON(v)+" is not in the enum")
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(bad, where+": not an object")
		}
		props, _ := s["properties"].(map[string]any)
		required, _ := s["required"].([]any)
		for _, r := range required {
			if _, ok := m[r.(string)]; !ok {
				bad = append(bad, where+"."+r.(string)+": required but missing")
			}
		}
		for k, x := range m {
			p, ok := props[k].(map[string]any)
			if !ok {
				bad = append(bad, where+"."+k+": not documented")
				continue
			}
			bad = append(bad, d.conforms(t, p, x, where+"."+k)...)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return append(bad, where+": not an array")
		}
		for i, x := range a {
			bad = append(bad, d.conforms(t, s["items"].(map[string]any), x, where+"["+asJSON(i)+"]")...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			bad = append(bad, where+": not a string")
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			bad = append(bad, where+": not an integer")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad = append(bad, where+": not a boolean")
		}
	}
	return bad
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestOpenAPIDescribesActualResponses calls every documented operation and
// checks the answers against the documented schemas, so that the document
// cannot drift from what the handlers return.
func TestOpenAPIDescribesActualResponses(t *testing.T) {
	env := testenv.New(t)
	doc := fetchOpenAPI(t, env)
	env.CreateUser("root", true)
	env.CreateUser("dave", false)
	root := env.Token("root")
	chain := newTestChain(t, "edge.example.com")
	alertHook := newReceiver(t, 0)
	calls := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments", "description": "Payments APIs"}},
		{http.MethodPost, "/apiops/projects/", map[string]string{"name": "doomed"}},
		{http.MethodGet, "/apiops/projects/", nil},
		{http.MethodGet, "/apiops/projects/payments/", nil},
		{http.MethodPut, "/apiops/projects/payments/members/dave/", map[string][]string{"permissions": {"SECRETS:MANAGE"}}},
		{http.MethodGet, "/apiops/projects/payments/members/", nil},
		{http.MethodDelete, "/apiops/projects/doomed/", nil},
		{http.MethodPost, "/apiops/environments/", map[string]string{"name": "production", "webhookUrl": "https://hooks.example.com/kw"}},
		{http.MethodGet, "/apiops/environments/", nil},
		{http.MethodGet, "/apiops/environments/production/", nil},
		{http.MethodGet, "/apiops/audit/?project=payments&size=5", nil},
		{http.MethodGet, "/apiops/expiring/?within=3650d&size=5", nil},
		// Expiry alerts: a channel (tested against a real receiver) and a rule.
		{http.MethodPost, "/apiops/projects/payments/notificationChannels/", map[string]any{"name": "ops", "kind": "WEBHOOK", "url": alertHook.URL}},
		{http.MethodGet, "/apiops/projects/payments/notificationChannels/", nil},
		{http.MethodGet, "/apiops/projects/payments/notificationChannels/1/", nil},
		{http.MethodPut, "/apiops/projects/payments/notificationChannels/1/", map[string]any{"name": "ops", "kind": "WEBHOOK", "rotateSecret": true}},
		{http.MethodPost, "/apiops/projects/payments/notificationChannels/1/test", nil},
		{http.MethodPost, "/apiops/projects/payments/notificationRules/", map[string]any{"name": "certs", "channels": []string{"ops"}}},
		{http.MethodGet, "/apiops/projects/payments/notificationRules/", nil},
		{http.MethodGet, "/apiops/projects/payments/notificationRules/1/", nil},
		{http.MethodPut, "/apiops/projects/payments/notificationRules/1/", map[string]any{"name": "certs", "channels": []string{"ops"}, "thresholds": []int{7, 0}, "objectTypes": []string{"certificate"}}},
		{http.MethodGet, "/apiops/projects/payments/notificationDeliveries/?size=5", nil},
		{http.MethodDelete, "/apiops/projects/payments/notificationRules/1/", nil},
		{http.MethodDelete, "/apiops/projects/payments/notificationChannels/1/", nil},
		// Keys, JWKs and gateways, in an environment without a webhook.
		{http.MethodPost, "/apiops/environments/", map[string]string{"name": "development"}},
		{http.MethodPost, "/apiops/projects/payments/keys/", keyBody("signer", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, testKeys().rsaA), "signer"))},
		{http.MethodPost, "/apiops/projects/payments/keys/", keyBody("session-key", "SECRET_KEY", "", keyConfig("development", secretBytes(32, 1), ""))},
		{http.MethodPost, "/apiops/projects/payments/jwks/", jwkBody("signer-jwk", "signer", "sig", "RS256", "", "development")},
		{http.MethodPost, "/apiops/projects/payments/jwks/", jwkBody("session-jwk", "session-key", "sig", "HS256", "", "development")},
		{http.MethodGet, "/apiops/projects/payments/keys/", nil},
		{http.MethodGet, "/apiops/projects/payments/keys/signer/", nil},
		{http.MethodGet, "/apiops/projects/payments/jwks/", nil},
		{http.MethodGet, "/apiops/projects/payments/jwks/signer-jwk/", nil},
		{http.MethodPut, "/apiops/projects/payments/keys/signer/?jwkUpdateAction=UPDATE", map[string]any{"description": "rotated",
			"cryptoKeyInfoEnvironmentList": []any{keyConfig("development", privatePEM(t, testKeys().rsaB), "signer")}}},
		{http.MethodDelete, "/apiops/projects/payments/keys/session-key/environments/development/", nil},
		{http.MethodPost, "/apiops/projects/payments/keys/session-key/environments/development/", nil},
		{http.MethodPost, "/apiops/environments/development/gatewayTokens/", map[string]string{"name": "edge"}},
		{http.MethodGet, "/apiops/environments/development/bundle", nil}, // with the gateway token just created
		{http.MethodGet, "/apiops/environments/development/gatewayTokens/", nil},
		{http.MethodDelete, "/apiops/environments/development/gatewayTokens/1/", nil},
		{http.MethodDelete, "/apiops/projects/payments/jwks/session-jwk/", nil},
		{http.MethodDelete, "/apiops/projects/payments/keys/signer/?jwkDeleteAction=DELETE", nil},
		// Certificates and the truststore.
		{http.MethodPost, "/apiops/projects/payments/certificates/", map[string]any{"name": "edge-tls", "certificateEnvironmentList": []any{
			map[string]any{"environmentName": "development", "content": base64.StdEncoding.EncodeToString(pemOf(chain.leaf, chain.intermediate)), "alias": "edge"}}}},
		{http.MethodGet, "/apiops/projects/payments/certificates/?expiresWithin=400d", nil},
		{http.MethodGet, "/apiops/projects/payments/certificates/edge-tls/", nil},
		{http.MethodPut, "/apiops/projects/payments/certificates/edge-tls/", map[string]any{"description": "edge",
			"certificateEnvironmentList": []any{map[string]any{"environmentName": "development", "alias": "edge"}}}},
		{http.MethodDelete, "/apiops/projects/payments/certificates/edge-tls/environments/development/", nil},
		{http.MethodPost, "/apiops/projects/payments/certificates/edge-tls/environments/development/", nil},
		{http.MethodGet, "/apiops/projects/payments/certificates/edge-tls/export/?environment=development&format=der", nil},
		{http.MethodPost, "/apiops/environments/development/truststore/", map[string]any{"content": base64.StdEncoding.EncodeToString(pemOf(chain.root))}},
		{http.MethodGet, "/apiops/environments/development/truststore/", nil},
		{http.MethodPut, "/apiops/environments/development/truststore/builtInRoots/", map[string]any{"include": false}},
		{http.MethodGet, "/apiops/environments/development/truststore/export?format=pem", nil},
		{http.MethodDelete, "/apiops/environments/development/truststore/" + sha256Hex(chain.root.Raw) + "/", nil},
		{http.MethodDelete, "/apiops/projects/payments/certificates/edge-tls/", nil},
		{http.MethodPost, "/apiops/certificates/fetch", map[string]any{"url": tlsServer(t, chain), "environmentName": "development"}},
		// Key sets: the catalog, a subscription, the lifecycle, a gateway's verify.
		{http.MethodPost, "/apiops/projects/payments/organizations/", map[string]any{"name": "acme", "description": "ACME"}},
		{http.MethodGet, "/apiops/projects/payments/organizations/", nil},
		{http.MethodGet, "/apiops/projects/payments/organizations/acme/", nil},
		{http.MethodPut, "/apiops/projects/payments/organizations/acme/", map[string]any{"description": "ACME Corp"}},
		{http.MethodPost, "/apiops/projects/payments/organizations/acme/groups/", map[string]any{"name": "mobile"}},
		{http.MethodPost, "/apiops/projects/payments/organizations/acme/groups/", map[string]any{"name": "old"}},
		{http.MethodGet, "/apiops/projects/payments/organizations/acme/groups/", nil},
		{http.MethodDelete, "/apiops/projects/payments/organizations/acme/groups/old/", nil},
		{http.MethodPost, "/apiops/projects/payments/organizations/", map[string]any{"name": "gone"}},
		{http.MethodDelete, "/apiops/projects/payments/organizations/gone/", nil},
		{http.MethodPost, "/apiops/projects/payments/applications/", map[string]any{"name": "shop", "organization": "acme", "group": "mobile"}},
		{http.MethodGet, "/apiops/projects/payments/applications/", nil},
		{http.MethodGet, "/apiops/projects/payments/applications/shop/", nil},
		{http.MethodPut, "/apiops/projects/payments/applications/shop/", map[string]any{"description": "Shop", "organization": "acme"}},
		{http.MethodPost, "/apiops/projects/payments/policyTemplates/", map[string]any{"name": "standard", "expiration": "90d", "rotation": "30d", "manualRegeneration": true, "gracePeriod": "1h"}},
		{http.MethodGet, "/apiops/projects/payments/policyTemplates/", nil},
		{http.MethodGet, "/apiops/projects/payments/policyTemplates/standard/", nil},
		{http.MethodPut, "/apiops/projects/payments/policyTemplates/standard/", map[string]any{"expiration": "90d", "rotation": "1d12h", "manualRegeneration": true, "gracePeriod": nil}},
		{http.MethodPost, "/apiops/projects/payments/policyTemplates/", map[string]any{"name": "unused"}},
		{http.MethodDelete, "/apiops/projects/payments/policyTemplates/unused/", nil},
		{http.MethodPost, "/apiops/projects/payments/apis/", map[string]any{"name": "orders", "environments": []string{"development"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "standard"}},
		{http.MethodPost, "/apiops/projects/payments/apis/", map[string]any{"name": "retired", "environments": []string{"development"}, "authTypes": []string{"CLIENT_CREDENTIALS"}, "policyTemplate": "standard"}},
		{http.MethodGet, "/apiops/projects/payments/apis/", nil},
		{http.MethodGet, "/apiops/projects/payments/apis/orders/", nil},
		{http.MethodPut, "/apiops/projects/payments/apis/orders/", map[string]any{"description": "Orders", "environments": []string{"development"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "standard"}},
		{http.MethodDelete, "/apiops/projects/payments/apis/retired/", nil},
		{http.MethodPost, "/apiops/projects/payments/applications/shop/subscriptions/", map[string]any{"api": "orders", "environment": "development"}},
		{http.MethodGet, "/apiops/projects/payments/applications/shop/subscriptions/", nil},
		{http.MethodGet, "/apiops/projects/payments/applications/shop/subscriptions/1/", nil},
		{http.MethodGet, "/apiops/projects/payments/keySets/?status=ACTIVE&authType=API_KEY&api=orders&environment=development&organization=acme&group=mobile&search=shop&expiresFrom=2026-01-01&createdTo=2030-01-01T00:00:00Z", nil},
		{http.MethodGet, "/apiops/projects/payments/keySets/API_KEY-shop/", nil},
		{http.MethodPost, "/apiops/projects/payments/keySets/API_KEY-shop/credentials", nil},
		{http.MethodPost, "/apiops/projects/payments/keySets/API_KEY-shop/suspend", nil},
		{http.MethodPost, "/apiops/projects/payments/keySets/API_KEY-shop/activate", nil},
		{http.MethodPost, "/apiops/projects/payments/keySets/API_KEY-shop/regenerate?key=1", nil},
		{http.MethodPost, "/apiops/projects/payments/applications/shop/suspend", nil},
		{http.MethodPost, "/apiops/projects/payments/applications/shop/reactivate", nil},
		{http.MethodPost, "/apiops/environments/development/gatewayTokens/", map[string]string{"name": "edge-verify"}},
		{http.MethodPost, "/apiops/environments/development/credentials/verify", map[string]any{"key": "kw_ak_0000000000000000000000000000000000000", "api": "orders"}},
		{http.MethodPost, "/apiops/projects/payments/keySets/API_KEY-shop/revoke", map[string]any{"confirm": "API_KEY-shop"}},
		{http.MethodDelete, "/apiops/projects/payments/applications/shop/subscriptions/1/", nil},
		{http.MethodDelete, "/apiops/projects/payments/applications/shop/", nil},
		// Signing keys, on the built-in software token ({cka} is the key just created).
		{http.MethodGet, "/apiops/hsm/", nil},
		{http.MethodPut, "/apiops/hsm/pin/", map[string]any{"pin": "2468"}},
		{http.MethodPost, "/apiops/projects/payments/signingKeys/", map[string]any{"label": "tokens", "algorithm": "ECDSA", "curve": "P-256"}},
		{http.MethodGet, "/apiops/projects/payments/signingKeys/", nil},
		{http.MethodGet, "/apiops/projects/payments/signingKeys/{cka}/", nil},
		{http.MethodPost, "/apiops/projects/payments/signingKeys/{cka}/environments/development/", nil},
		{http.MethodPost, "/apiops/projects/payments/signingKeys/{cka}/sign", map[string]any{"claims": map[string]any{"sub": "svc"}, "expiresIn": "5m"}},
		{http.MethodDelete, "/apiops/projects/payments/signingKeys/{cka}/environments/development/", nil},
		{http.MethodPost, "/apiops/projects/payments/signingKeys/signers/", map[string]any{"name": "api-token", "activeKey": "{cka}", "environments": []string{"development"}, "leadTime": "1h", "retention": "10m"}},
		{http.MethodPost, "/apiops/projects/payments/signingKeys/", map[string]any{"label": "next", "algorithm": "ECDSA"}},
		{http.MethodPost, "/apiops/projects/payments/signingKeys/signers/api-token/rotate", map[string]any{"nextKey": "{cka}"}},
		{http.MethodGet, "/apiops/projects/payments/signingKeys/signers/", nil},
		{http.MethodGet, "/apiops/projects/payments/signingKeys/signers/api-token/", nil},
		{http.MethodPost, "/apiops/projects/payments/signingKeys/signers/api-token/sign", map[string]any{"claims": map[string]any{"sub": "svc"}}},
		{http.MethodPost, "/apiops/projects/payments/signingKeys/", map[string]any{"label": "doomed", "algorithm": "ECDSA"}},
		{http.MethodDelete, "/apiops/projects/payments/signingKeys/{cka}/", map[string]any{"pin": "2468"}},
	}
	called := map[string]bool{"GET /apiops/openapi.json": true}
	gatewayToken, cka := "", ""
	for _, c := range calls {
		token := root
		if strings.HasSuffix(c.path, "/bundle") || strings.HasSuffix(c.path, "/credentials/verify") {
			token = gatewayToken
		}
		c.path = strings.Replace(c.path, "{cka}", cka, 1)
		if m, ok := c.body.(map[string]any); ok {
			for k, v := range m {
				if v == "{cka}" {
					m[k] = cka
				}
			}
		}
		r := env.API(token, c.method, c.path, c.body)
		if v, ok := r.Body["token"].(string); ok && strings.HasPrefix(v, "kw_gw_") {
			gatewayToken = v
		}
		if k, ok := r.Body["signingKey"].(map[string]any); ok {
			cka = k["ckaId"].(string)
		}
		path, _, _ := strings.Cut(c.path, "?")
		op := findDocOperation(t, doc, c.method, path)
		called[op.String()] = true
		if r.Status != http.StatusOK {
			t.Errorf("%s %s: status %d, body %s", c.method, c.path, r.Status, r.Raw)
			continue
		}
		if isDownload(op) {
			if ct := r.Header.Get("Content-Type"); docObject(t, op.Spec, "responses", "200", "content")[ct] == nil ||
				!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment; filename=") || len(r.Raw) == 0 {
				t.Errorf("%s %s: download answered %s, %q", c.method, c.path, ct, r.Header.Get("Content-Disposition"))
			}
			continue
		}
		s := docObject(t, op.Spec, "responses", "200", "content", "application/json", "schema")
		for _, problem := range doc.conforms(t, s, r.Body, "body") {
			t.Errorf("%s %s: %s (body %s)", c.method, c.path, problem, r.Raw)
		}
	}
	for _, op := range doc.operations(t) {
		if !called[op.String()] {
			t.Errorf("%s was not exercised; add a call", op)
		}
	}
	// Error bodies follow the Error schema.
	for _, c := range []struct {
		token, method, path string
		body                any
	}{
		{"", http.MethodGet, "/apiops/projects/", nil},
		{env.Token("dave"), http.MethodPost, "/apiops/projects/", map[string]string{"name": "x"}},
		{root, http.MethodGet, "/apiops/projects/nope/", nil},
		{root, http.MethodPost, "/apiops/environments/", map[string]string{"name": "e", "webhookUrl": "ftp://x"}},
	} {
		r := env.API(c.token, c.method, c.path, c.body)
		for _, problem := range doc.conforms(t, map[string]any{"$ref": "#/components/schemas/Error"}, r.Body, "error") {
			t.Errorf("%s %s (status %d): %s (body %s)", c.method, c.path, r.Status, problem, r.Raw)
		}
	}
}

// findDocOperation finds the documented operation a concrete path matches.
func findDocOperation(t *testing.T, doc openAPIDoc, method, path string) docOperation {
	t.Helper()
	for _, op := range doc.operations(t) {
		re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(op.Path), `[^/]+`) + "$")
		if op.Method == method && re.MatchString(path) {
			return op
		}
	}
	t.Fatalf("no documented operation for %s %s", method, path)
	return docOperation{}
}

// TestOpenAPIValidationCatchesDrift proves that the response check every
// API test runs (testenv.Env.CheckAPIResponse) fails on an answer that
// drifts from the document: a field of another type or shape, an
// undocumented field, a missing one, a value outside an enum or a format, an
// undocumented status, a 304 with a body.
func TestOpenAPIValidationCatchesDrift(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("root", true)
	root := env.Token("root")
	env.API(root, http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments"})
	get := func(path string) (*http.Request, *http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, env.URL(path), nil)
		req.Header.Set("Authorization", "Bearer "+root)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return req, resp, raw
	}
	req, resp, raw := get("/apiops/projects/")
	if err := env.CheckAPIResponse(req, resp.StatusCode, resp.Header, raw); err != nil {
		t.Fatalf("the real answer fails the check: %v (%s)", err, raw)
	}
	// edit decodes the real answer, changes it and encodes it again.
	edit := func(change func(body, project map[string]any)) []byte {
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		change(body, body["resultList"].([]any)[0].(map[string]any))
		b, _ := json.Marshal(body)
		return b
	}
	for _, c := range []struct {
		name   string
		status int
		body   []byte
	}{
		{"a count as a string", http.StatusOK, edit(func(b, _ map[string]any) { b["resultCount"] = "1" })},
		{"a list as an object", http.StatusOK, edit(func(b, _ map[string]any) { b["resultList"] = map[string]any{} })},
		{"null for a list", http.StatusOK, edit(func(b, _ map[string]any) { b["resultList"] = nil })},
		{"an undocumented field", http.StatusOK, edit(func(b, _ map[string]any) { b["projects"] = []any{} })},
		{"an undocumented field in an item", http.StatusOK, edit(func(_, p map[string]any) { p["secret"] = "x" })},
		{"a missing field", http.StatusOK, edit(func(b, _ map[string]any) { delete(b, "resultCount") })},
		{"a missing field in an item", http.StatusOK, edit(func(_, p map[string]any) { delete(p, "createdAt") })},
		{"success false", http.StatusOK, edit(func(b, _ map[string]any) { b["success"] = false })},
		{"a time that is not one", http.StatusOK, edit(func(_, p map[string]any) { p["createdAt"] = "yesterday" })},
		{"a value outside the enum", http.StatusOK, edit(func(_, p map[string]any) { p["permissions"] = []any{"SECRETS:FLY"} })},
		{"an undocumented status", http.StatusConflict, []byte(`{"error":"conflict","error_description":"No."}`)},
		{"an error code outside the enum", http.StatusForbidden, []byte(`{"error":"nope","error_description":"No."}`)},
		{"an error without its description", http.StatusForbidden, []byte(`{"error":"access_denied"}`)},
		{"a 304 where none is documented", http.StatusNotModified, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := env.CheckAPIResponse(req, c.status, resp.Header, c.body)
			if err == nil {
				t.Fatalf("%d %s passed the check", c.status, c.body)
			}
			t.Logf("refused: %v", err)
		})
	}
	// A conditional route's 304 has no body.
	bundle, _ := http.NewRequest(http.MethodGet, env.URL("/apiops/environments/production/bundle"), nil)
	if err := env.CheckAPIResponse(bundle, http.StatusNotModified, http.Header{"Etag": {`"production-1"`}}, nil); err != nil {
		t.Errorf("an empty 304 of the bundle fails the check: %v", err)
	}
	if err := env.CheckAPIResponse(bundle, http.StatusNotModified, http.Header{"Etag": {`"production-1"`}}, []byte(`{}`)); err == nil {
		t.Error("a 304 with a body passed the check")
	}
	// An address the document does not know only answers errors.
	unknown, _ := http.NewRequest(http.MethodGet, env.URL("/apiops/nothing/"), nil)
	if err := env.CheckAPIResponse(unknown, http.StatusOK, resp.Header, raw); err == nil {
		t.Error("a 200 from an undocumented address passed the check")
	}
	// The slash-less spelling of a path is checked as the documented one.
	short, _ := http.NewRequest(http.MethodGet, env.URL("/apiops/projects"), nil)
	if err := env.CheckAPIResponse(short, http.StatusOK, resp.Header, edit(func(b, _ map[string]any) { b["resultCount"] = "1" })); err == nil {
		t.Error("a drifted answer to /apiops/projects passed the check")
	}
}

// isDownload reports whether an operation answers a file, not JSON.
func isDownload(op docOperation) bool { return strings.Contains(op.Path, "/export") }

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
