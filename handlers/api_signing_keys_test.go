package handlers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/keyward/keyward/internal/testenv"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/keyward/keyward/internal/access"
)

const signingPath = "/apiops/projects/payments/signingKeys/"

// signingWorld is a secrets world whose members also hold signing-key
// permissions: vic VIEW, manny MANAGE, dora MANAGE+DEPLOY_UNDEPLOY, and
// sam (a service) SIGN only; the software token's PIN is 2468.
func signingWorld(t *testing.T) (*secretsWorld, string) {
	t.Helper()
	w := newSecretsWorld(t)
	w.env.Grant("payments", "vic", access.SigningKeysView)
	w.env.Grant("payments", "manny", access.SigningKeysView, access.SigningKeysManage)
	w.env.Grant("payments", "dora", access.SigningKeysView, access.SigningKeysManage, access.SigningKeysDeploy)
	w.env.CreateUser("sam", false)
	w.env.Grant("payments", "sam", access.SigningKeysSign)
	w.must(w.root, http.MethodPut, "/apiops/hsm/pin/", map[string]any{"pin": "2468"})
	return w, w.env.Token("sam")
}

func ecPEM(t *testing.T) (string, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), k
}

// TestAPISigningKeyLifecycle: keys generated and imported in the software
// token, listed (a shared label told apart by CKA_ID), published in the
// JWKS, JWTs signed by a SIGN-only service and verified against the
// published JWKS with go-jose, then deleted only with the right PIN; no
// private key byte ever appears in the database, the logs or an answer.
func TestAPISigningKeyLifecycle(t *testing.T) {
	w, sam := signingWorld(t)
	if b := w.must(w.vic, http.MethodGet, "/apiops/hsm/", nil).Body["backend"].(map[string]any); b["backend"] != "Built-in software token — no HSM configured" {
		t.Errorf("backend %v", b)
	}
	rsaKey := w.must(w.manny, http.MethodPost, signingPath, map[string]any{"label": "tokens", "algorithm": "RSA", "keyLength": 2048}).Body["signingKey"].(map[string]any)
	importPEM, ecKey := ecPEM(t)
	ec := w.must(w.manny, http.MethodPost, signingPath, map[string]any{"label": "tokens", "algorithm": "ECDSA", "curve": "prime256v1",
		"generationType": "IMPORT", "privateKeyPem": importPEM}).Body["signingKey"].(map[string]any)
	if rsaKey["generationType"] != "AUTO" || rsaKey["keyLength"] != float64(2048) || ec["generationType"] != "IMPORT" || ec["curve"] != "P-256" ||
		!strings.HasPrefix(ec["publicKeyPem"].(string), "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("created %v / %v", rsaKey, ec)
	}
	// The imported key's public half is the one given.
	block, _ := pem.Decode([]byte(ec["publicKeyPem"].(string)))
	if pub, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil || !pub.(*ecdsa.PublicKey).Equal(&ecKey.PublicKey) {
		t.Errorf("imported public key %v", err)
	}
	list := w.must(w.vic, http.MethodGet, signingPath, nil)
	if list.Body["resultCount"] != float64(2) || list.Body["backend"] == "" {
		t.Errorf("list %s", list.Raw)
	}
	rsaID, ecID := rsaKey["ckaId"].(string), ec["ckaId"].(string)

	// Publish the RSA key: a deploy, and its kid in the JWKS.
	rev := w.revision("production")
	w.must(w.dora, http.MethodPost, signingPath+rsaID+"/environments/production/", nil)
	set := w.jwks("payments", "production")
	if w.revision("production") != rev+1 || !slices.Contains(set.kids(), rsaKey["kid"].(string)) {
		t.Fatalf("after publishing: revision %d→%d, JWKS %v", rev, w.revision("production"), set.kids())
	}

	// A service holding only SIGN signs; the token verifies against the JWKS.
	for _, alg := range []string{"RS256", "PS256"} {
		r := w.must(sam, http.MethodPost, signingPath+rsaID+"/sign", map[string]any{"claims": map[string]any{"sub": "client-7", "aud": "payments"},
			"alg": alg, "expiresIn": "10m"})
		verifyAgainstJWKS(t, w, r.Body["token"].(string), alg, "client-7")
	}
	w.must(w.dora, http.MethodPost, signingPath+ecID+"/environments/production/", nil)
	r := w.must(sam, http.MethodPost, signingPath+ecID+"/sign", map[string]any{"claims": map[string]any{"sub": "client-8"}})
	verifyAgainstJWKS(t, w, r.Body["token"].(string), "ES256", "client-8")
	if refused := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: signingPath + rsaID + "/sign", Authorization: "Bearer " + w.manny,
		Body: map[string]any{"claims": map[string]any{}}}); refused.Status != http.StatusForbidden || !strings.Contains(string(refused.Raw), "SIGNING_KEYS:SIGN") {
		t.Errorf("MANAGE without SIGN signed: %s", refused.Raw)
	}

	// Delete: a wrong PIN deletes nothing; the right one removes the key
	// and its JWKS entry.
	wrong := apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: signingPath + rsaID + "/", Authorization: "Bearer " + w.dora, Body: map[string]any{"pin": "0000"}})
	checkAPIAnswer(t, wrong, http.StatusBadRequest)
	if wrong.Body["field"] != "pin" || w.must(w.vic, http.MethodGet, signingPath, nil).Body["resultCount"] != float64(2) {
		t.Fatalf("wrong PIN: %s", wrong.Raw)
	}
	w.must(w.dora, http.MethodDelete, signingPath+rsaID+"/", map[string]any{"pin": "2468"})
	if kids := w.jwks("payments", "production").kids(); slices.Contains(kids, rsaKey["kid"].(string)) || len(kids) != 1 {
		t.Errorf("JWKS after deleting the RSA key: %v", kids)
	}
	gone := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: signingPath + rsaID + "/sign", Authorization: "Bearer " + sam, Body: map[string]any{"claims": map[string]any{}}})
	checkAPIAnswer(t, gone, http.StatusNotFound)

	// The imported private key is nowhere in clear.
	scalar := string(ecKey.D.FillBytes(make([]byte, 32))) // the private scalar itself
	secretLine := strings.Split(importPEM, "\n")[1]
	files, _ := filepath.Glob(filepath.Join(w.env.Dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), secretLine) || strings.Contains(string(b), scalar) {
			t.Errorf("%s holds the imported private key", filepath.Base(f))
		}
	}
	if strings.Contains(w.env.Logs.String(), secretLine) {
		t.Error("the logs hold the imported private key")
	}
	for _, path := range []string{signingPath, signingPath + ecID + "/"} {
		if body := string(w.must(w.root, http.MethodGet, path, nil).Raw); strings.Contains(body, secretLine) || strings.Contains(body, `"d":`) {
			t.Errorf("GET %s shows private material", path)
		}
	}
}

// verifyAgainstJWKS checks a token's signature with the key of its kid in
// the public JWKS, as a gateway would.
func verifyAgainstJWKS(t *testing.T, w *secretsWorld, token, alg, sub string) {
	t.Helper()
	resp, err := http.Get(w.env.URL("/jwks/payments/production"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("%s token: %v", alg, err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("%s token's kid %q is not in the JWKS", alg, tok.Headers[0].KeyID)
	}
	var claims jwt.Claims
	if err := tok.Claims(keys[0].Key, &claims); err != nil || claims.Subject != sub {
		t.Errorf("%s token does not verify against the JWKS: %v (%+v)", alg, err, claims)
	}
}

// TestAPISigningKeyPINLock: five wrong PINs lock deleting for 15 minutes
// (per user and per token), even with the right PIN; the clock moving on
// lifts it.
func TestAPISigningKeyPINLock(t *testing.T) {
	w, _ := signingWorld(t)
	id := w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": "k", "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string)
	del := func(pin string) int {
		return apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: signingPath + id + "/", Authorization: "Bearer " + w.dora, Body: map[string]any{"pin": pin}}).Status
	}
	for i := range 5 {
		if got := del("9999"); got != http.StatusBadRequest {
			t.Fatalf("wrong PIN %d: %d", i+1, got)
		}
	}
	if got := del("2468"); got != http.StatusTooManyRequests {
		t.Fatalf("the right PIN while locked: %d, want 429", got)
	}
	w.env.Clock.Advance(16 * 60 * 1e9)
	if got := del("2468"); got != http.StatusOK {
		t.Fatalf("the right PIN after the lock: %d", got)
	}
}

// TestAPISigningKeyBadInputChangesNothing: each refusal names its field
// and leaves every table as it was.
func TestAPISigningKeyBadInputChangesNothing(t *testing.T) {
	w, sam := signingWorld(t)
	id := w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": "k", "algorithm": "RSA", "keyLength": 2048}).Body["signingKey"].(map[string]any)["ckaId"].(string)
	rsaPriv := privatePEM(t, testKeys().rsaA)
	pub := publicPEM(t, &testKeys().rsaA.PublicKey)
	ec, _ := ecPEM(t)
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		field                     string
	}{
		{"unknown algorithm", http.MethodPost, signingPath, w.dora, map[string]any{"label": "x", "algorithm": "DSA"}, 400, "algorithm"},
		{"RSA 1024", http.MethodPost, signingPath, w.dora, map[string]any{"label": "x", "algorithm": "RSA", "keyLength": 1024}, 400, "keyLength"},
		{"curve P-384", http.MethodPost, signingPath, w.dora, map[string]any{"label": "x", "algorithm": "ECDSA", "curve": "P-384"}, 400, "curve"},
		{"empty label", http.MethodPost, signingPath, w.dora, map[string]any{"label": "", "algorithm": "ECDSA"}, 400, "label"},
		{"201-character label", http.MethodPost, signingPath, w.dora, map[string]any{"label": strings.Repeat("l", 201), "algorithm": "ECDSA"}, 400, "label"},
		{"import a public key", http.MethodPost, signingPath, w.dora, map[string]any{"label": "x", "algorithm": "RSA", "keyLength": 2048, "generationType": "IMPORT", "privateKeyPem": string(pub)}, 400, "privateKeyPem"},
		{"import of another algorithm", http.MethodPost, signingPath, w.dora, map[string]any{"label": "x", "algorithm": "RSA", "keyLength": 2048, "generationType": "IMPORT", "privateKeyPem": ec}, 400, "privateKeyPem"},
		{"import with the wrong length", http.MethodPost, signingPath, w.dora, map[string]any{"label": "x", "algorithm": "RSA", "keyLength": 4096, "generationType": "IMPORT", "privateKeyPem": string(rsaPriv)}, 400, "privateKeyPem"},
		{"import garbage", http.MethodPost, signingPath, w.dora, map[string]any{"label": "x", "algorithm": "ECDSA", "generationType": "IMPORT", "privateKeyPem": "hello"}, 400, "privateKeyPem"},
		{"alg that does not fit", http.MethodPost, signingPath + id + "/sign", sam, map[string]any{"claims": map[string]any{}, "alg": "ES256"}, 400, "alg"},
		{"claims not an object", http.MethodPost, signingPath + id + "/sign", sam, map[string]any{"claims": []int{1}}, 400, "claims"},
		{"bad expiresIn", http.MethodPost, signingPath + id + "/sign", sam, map[string]any{"claims": map[string]any{}, "expiresIn": "soon"}, 400, "expiresIn"},
		{"empty PIN", http.MethodDelete, signingPath + id + "/", w.dora, map[string]any{"pin": ""}, 400, "pin"},
		{"unknown CKA_ID", http.MethodGet, signingPath + "00ff/", w.vic, nil, 404, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := w.secretsState(t)
			r := apiSend(t, w.env, apiRequest{Method: c.method, Path: c.path, Authorization: "Bearer " + c.token, Body: c.body})
			checkAPIAnswer(t, r, c.status)
			if f, _ := r.Body["field"].(string); f != c.field {
				t.Errorf("field %q, want %q (%s)", f, c.field, r.Raw)
			}
			if d := w.changedSince(t, before); d != "" {
				t.Errorf("changed: %s", d)
			}
		})
	}
}

// TestAPISigningKeyPermissions runs the SIGNING_KEYS matrix, with the role
// that holds only SIGN: it may sign and read, not manage.
func TestAPISigningKeyPermissions(t *testing.T) {
	w, _ := signingWorld(t)
	id := w.must(w.root, http.MethodPost, signingPath, map[string]any{"label": "existing", "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string)
	other := w.must(w.root, http.MethodPost, signingPath, map[string]any{"label": "doomed", "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string)
	runPermissionMatrix(t, w.env, "payments", permissionAreas[1], []matrixRoute{
		{"list", http.MethodGet, signingPath, nil, needView, ""},
		{"get", http.MethodGet, signingPath + id + "/", nil, needView, ""},
		{"create", http.MethodPost, signingPath, map[string]any{"label": "created", "algorithm": "ECDSA"}, needManage, "signing_key.create"},
		{"publish", http.MethodPost, signingPath + id + "/environments/production/", nil, needDeploy, "signing_key.deploy"},
		{"sign", http.MethodPost, signingPath + id + "/sign", map[string]any{"claims": map[string]any{"sub": "x"}}, needSign, "signing_key.sign"},
		{"delete", http.MethodDelete, signingPath + other + "/", map[string]any{"pin": "2468"}, needDeploy, "signing_key.delete"},
	})
}

// TestAPISignerStagedRotation: an alias signs with its active key; a
// rotation publishes the next key lead time before the switch (both in the
// JWKS, the alias still signing with the old one), switches on time, and
// retires the old key after the retention. The timeline shows each step.
func TestAPISignerStagedRotation(t *testing.T) {
	w, sam := signingWorld(t)
	mk := func(label string) (string, string) {
		k := w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": label, "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)
		return k["ckaId"].(string), k["kid"].(string)
	}
	oldID, oldKid := mk("tokens-2026")
	newID, newKid := mk("tokens-2027")
	signers := signingPath + "signers/"
	w.must(w.dora, http.MethodPost, signers, map[string]any{"name": "payments-token", "activeKey": oldID, "environments": []string{"production"},
		"leadTime": "1h", "retention": "30m"})
	sign := func() string {
		t.Helper()
		return w.must(sam, http.MethodPost, signers+"payments-token/sign", map[string]any{"claims": map[string]any{"sub": "svc"}}).Body["kid"].(string)
	}
	kids := func() []string { return w.jwks("payments", "production").kids() }
	if got := kids(); !slices.Equal(got, []string{oldKid}) || sign() != oldKid {
		t.Fatalf("after create: JWKS %v", got)
	}
	activate := w.env.Clock.Now().Add(2 * time.Hour)
	w.must(w.dora, http.MethodPost, signers+"payments-token/rotate", map[string]any{"nextKey": newID, "activateAt": activate.Format(time.RFC3339)})
	step := func(d time.Duration) {
		w.env.Clock.Advance(d)
		if err := w.env.App.Signing.RunDue(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := kids(); !slices.Equal(got, []string{oldKid}) {
		t.Errorf("2h before the switch: JWKS %v, want the old key only", got)
	}
	step(time.Hour) // lead time reached: the next key is published
	if got := kids(); len(got) != 2 || sign() != oldKid {
		t.Errorf("1h before the switch: JWKS %v, alias signs with %s", got, sign())
	}
	step(time.Hour) // the switch
	if sign() != newKid || len(kids()) != 2 {
		t.Errorf("after the switch: alias signs with %s, JWKS %v", sign(), kids())
	}
	step(29 * time.Minute)
	if len(kids()) != 2 {
		t.Errorf("within the retention: JWKS %v", kids())
	}
	step(time.Minute) // retention over: the old key leaves the JWKS
	if got := kids(); !slices.Equal(got, []string{newKid}) {
		t.Errorf("after the retention: JWKS %v, want the new key only", got)
	}
	tl := w.must(w.vic, http.MethodGet, signers+"payments-token/", nil).Body["signer"].(map[string]any)["timeline"].([]any)
	var kinds []string
	for _, s := range tl {
		st := s.(map[string]any)
		if st["doneAt"] == nil {
			t.Errorf("step not done: %v", st)
		}
		kinds = append(kinds, st["kind"].(string))
	}
	if !slices.Equal(kinds, []string{"activate", "publish", "activate", "retire"}) {
		t.Errorf("timeline %v", kinds)
	}
	// A key an alias relies on cannot be deleted.
	r := apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: signingPath + newID + "/", Authorization: "Bearer " + w.dora, Body: map[string]any{"pin": "2468"}})
	checkAPIAnswer(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.Raw), "signer alias") {
		t.Errorf("deleting the active key: %s", r.Raw)
	}
	// The retired key can go.
	w.must(w.dora, http.MethodDelete, signingPath+oldID+"/", map[string]any{"pin": "2468"})
}

// TestSignerRotationCatchesUpAfterRestart: steps a stopped server missed
// run when it starts again.
func TestSignerRotationCatchesUpAfterRestart(t *testing.T) {
	dir := t.TempDir()
	env := testenv.NewAt(t, dir)
	env.CreateUser("root", true)
	root := env.Token("root")
	for _, r := range []testenv.APIResponse{
		env.API(root, http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments"}),
		env.API(root, http.MethodPost, "/apiops/environments/", map[string]string{"name": "production"}),
	} {
		if r.Status != http.StatusOK {
			t.Fatal(string(r.Raw))
		}
	}
	ids := []string{}
	for _, l := range []string{"a", "b"} {
		ids = append(ids, env.API(root, http.MethodPost, signingPath, map[string]any{"label": l, "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string))
	}
	env.API(root, http.MethodPost, signingPath+"signers/", map[string]any{"name": "s", "activeKey": ids[0], "environments": []string{"production"}})
	env.API(root, http.MethodPost, signingPath+"signers/s/rotate", map[string]any{"nextKey": ids[1], "activateAt": env.Clock.Now().Add(time.Hour).Format(time.RFC3339)})
	env.Server.Close()
	if err := env.App.Close(); err != nil {
		t.Fatal(err)
	}
	// Start again two hours later: the switch and the retirement have passed.
	later := testenv.NewWithClock(t, dir, env.Clock.Now().Add(2*time.Hour))
	tok := later.Token("root")
	sg := later.API(tok, http.MethodGet, signingPath+"signers/s/", nil).Body["signer"].(map[string]any)
	if sg["activeKey"] != ids[1] {
		t.Errorf("after the restart the alias signs with %v, want %s", sg["activeKey"], ids[1])
	}
	detail := fmt.Sprint(sg["timeline"])
	if !strings.Contains(detail, "late") {
		t.Errorf("the timeline does not say the steps ran late: %s", detail)
	}
}

// TestSignerScheduleRunsDueSteps: the background schedule (one tick a
// minute of the clock) runs a rotation's steps without anyone calling it,
// and stops when its context ends.
func TestSignerScheduleRunsDueSteps(t *testing.T) {
	w, _ := signingWorld(t)
	a := w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": "a", "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string)
	b := w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": "b", "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string)
	w.must(w.dora, http.MethodPost, signingPath+"signers/", map[string]any{"name": "s", "activeKey": a, "environments": []string{"production"}, "leadTime": "1m"})
	w.must(w.dora, http.MethodPost, signingPath+"signers/s/rotate", map[string]any{"nextKey": b, "activateAt": w.env.Clock.Now().Add(3 * time.Minute).Format(time.RFC3339)})
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.env.App.Signing.Schedule(ctx, func(err error) { t.Error(err) })
	}()
	active := func() string {
		return w.must(w.vic, http.MethodGet, signingPath+"signers/s/", nil).Body["signer"].(map[string]any)["activeKey"].(string)
	}
	deadline := time.Now().Add(10 * time.Second)
	for active() != b {
		if time.Now().After(deadline) {
			t.Fatalf("the schedule did not switch the alias (clock %s)", w.env.Clock.Now())
		}
		if len(w.env.Clock.Sleepers()) > 0 { // the schedule is asleep: one tick
			w.env.Clock.Advance(time.Minute)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the schedule did not stop when its context ended")
	}
}

// TestProjectWithSigningKeysCannotBeDeleted: a project holding signing keys
// is refused like one holding keys (and not with an internal error).
func TestProjectWithSigningKeysCannotBeDeleted(t *testing.T) {
	w, _ := signingWorld(t)
	w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": "k", "algorithm": "ECDSA"})
	r := apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: "/apiops/projects/payments/", Authorization: "Bearer " + w.root})
	checkAPIAnswer(t, r, http.StatusBadRequest)
	if !strings.Contains(r.Body["error_description"].(string), "1 signing key(s)") {
		t.Errorf("delete a project with a signing key: %s", r.Raw)
	}
}

// TestSigningSeesAccessChangesAtOnce: the sign path remembers a token and
// the key it may sign with between writes (db.Memo). A permission taken
// away, a revoked token or a deleted key is refused on the very next call,
// and every signature made before is in the audit log at once.
func TestSigningSeesAccessChangesAtOnce(t *testing.T) {
	w, _ := signingWorld(t)
	ctx := context.Background()
	key := w.must(w.manny, http.MethodPost, signingPath, map[string]any{"label": "svc", "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)
	tok, err := w.env.App.Auth.CreateToken(ctx, w.env.Principal("sam"), "", "svc", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sam := tok.Value
	path := signingPath + key["ckaId"].(string) + "/sign"
	sign := func(wantStatus int, why string) {
		t.Helper()
		r := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: path, Authorization: "Bearer " + sam, Body: map[string]any{"claims": map[string]any{"sub": why}}})
		if r.Status != wantStatus {
			t.Fatalf("%s: status %d, want %d: %s", why, r.Status, wantStatus, r.Raw)
		}
	}
	sign(http.StatusOK, "first")
	sign(http.StatusOK, "second")
	w.env.Grant("payments", "sam", access.SigningKeysView)
	sign(http.StatusForbidden, "after SIGN was taken away")
	w.env.Grant("payments", "sam", access.SigningKeysSign)
	sign(http.StatusOK, "after SIGN was given back")
	if err := w.env.App.Auth.RevokeToken(ctx, w.env.Principal("sam"), tok.Token.ID); err != nil {
		t.Fatal(err)
	}
	sign(http.StatusUnauthorized, "with the revoked token")
	sam = w.env.Token("sam")
	sign(http.StatusOK, "with a new token")
	w.must(w.dora, http.MethodDelete, signingPath+key["ckaId"].(string)+"/", map[string]any{"pin": "2468"})
	sign(http.StatusNotFound, "after the key was deleted")

	// Newest first: the refusals (written at once) and the signatures
	// (journaled) in the order they happened. The revoked token never
	// reached the sign service: its refusal is the authentication's.
	page := w.must(w.root, http.MethodGet, "/apiops/audit/?action=signing_key.sign", nil)
	var got []string
	for _, e := range page.Body["resultList"].([]any) {
		got = append(got, e.(map[string]any)["outcome"].(string)+": "+e.(map[string]any)["detail"].(string))
	}
	want := []string{"denied: Project \"payments\" has no signing key", "success: sub with a new token", "success: sub after SIGN was given back",
		"denied: You need the SIGNING_KEYS:SIGN permission", "success: sub second", "success: sub first"}
	if len(got) != len(want) {
		t.Fatalf("the audit log lists %d signing entries, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		outcome, detail, _ := strings.Cut(want[i], ": ")
		if !strings.HasPrefix(got[i], outcome+": ") || !strings.Contains(got[i], detail) {
			t.Errorf("signing entry %d: %q, want %q", i, got[i], want[i])
		}
	}
}
