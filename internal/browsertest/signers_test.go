package browsertest

import (
	"context"
	"encoding/json"
	"net/http"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/testenv"
)

// The signer alias test runs Keyward in this process (internal/testenv)
// rather than as the built binary: the rotation's steps are scheduled in
// hours, so the test moves the app's fake clock and runs the due steps
// itself (the app has ManualSchedule), as the one-minute schedule would.

const (
	signerProject = "payments"
	signerName    = "payments-token"
	signerEnv     = "production"
	signerOther   = "staging"
)

// TestSignerAliasInBrowser: an admin, in a project with two environments,
// creates two EC signing keys on the software token and a signer alias
// payments-token signing with the first, published in production only
// (lead time 1h, retention 30m). The alias page shows the active key, the
// environment and the timeline; production's JWKS holds the first key's
// kid, staging's none. Rotate refuses an activation time in the past and
// the active key posted as the next key, beside the field, changing
// nothing. Then Rotate to the second key at 12:00 (the clock reads 09:00):
// the plan says 11:00, 12:00 and 12:30, the timeline lists the three steps
// scheduled. The test moves the clock past each step and runs the due
// steps: after the publish the JWKS holds both kids, after the switch the
// alias signs with the second key, after the retirement (run late) only the
// second key is published, and the timeline shows each step done with the
// time it ran. Screenshots signer-*.png at each step.
func TestSignerAliasInBrowser(t *testing.T) {
	env := testenv.New(t) // the fake clock reads 2026-11-23 09:00 UTC
	env.CreateUser("admin", true)
	t.Cleanup(func() { signerErrorLogs(t, env) })
	b := NewBrowser(t, env.Server.URL)
	signerSignIn(t, b)
	keysCreateEnvironment(t, b, signerEnv, "Live gateways")
	keysCreateEnvironment(t, b, signerOther, "Rehearsals")
	signerCreateProject(t, b)
	signerSetPIN(t, b)
	oldKey, oldKid := signerCreateKey(t, b, "tokens-2026")
	newKey, newKid := signerCreateKey(t, b, "tokens-2027")

	page := signerCreateAlias(t, b, oldKey)
	b.WaitText("#signer-active-key", "tokens-2026")
	b.WaitText("#signer-active-key", oldKey)
	if got := b.Text("#signer-environments"); !strings.Contains(got, signerEnv) || strings.Contains(got, signerOther) {
		t.Errorf("environments %q, want %s only", got, signerEnv)
	}
	b.WaitText("#signer-lead-time", "1h")
	b.WaitText("#signer-retention", "30m")
	signerWantSteps(t, b, []string{"Activated tokens-2026 | 2026-11-23 09:00:00 UTC | 2026-11-23 09:00:00 UTC"})
	assertPage(t, b, "new alias")
	b.Screenshot("signer-page")
	signerWantJWKS(t, env.Server.URL, signerEnv, oldKid)
	signerWantJWKS(t, env.Server.URL, signerOther)

	signerRotateRefused(t, b, env, oldKey, newKey, oldKid)

	// Rotate to the second key at 12:00: publish 11:00, retire 12:30.
	b.Navigate(page)
	b.Select("#rotate-form select[name=nextKey]", newKey)
	signerSetActivateAt(t, b, "2026-11-23T12:00")
	b.WaitText("#plan-publish", "2026-11-23 11:00:00 UTC")
	b.WaitText("#plan-activate", "2026-11-23 12:00:00 UTC")
	b.WaitText("#plan-retire", "2026-11-23 12:30:00 UTC")
	assertPage(t, b, "rotate form with its plan")
	b.Screenshot("signer-rotate-plan")
	b.Click("#rotate-submit")
	b.WaitText(".flash", "Rotation of payments-token scheduled: it switches to tokens-2027 (CKA_ID "+newKey+") at 2026-11-23 12:00:00 UTC.")
	b.WaitText("#rotating", "tokens-2027")
	signerWantSteps(t, b, []string{
		"Activated tokens-2026 | 2026-11-23 09:00:00 UTC | 2026-11-23 09:00:00 UTC",
		"Publish tokens-2027 | 2026-11-23 11:00:00 UTC | scheduled",
		"Activate tokens-2027 | 2026-11-23 12:00:00 UTC | scheduled",
		"Retire tokens-2026 | 2026-11-23 12:30:00 UTC | scheduled",
	})
	if b.Has("#rotate-form") {
		t.Error("the Rotate form is offered during a rotation")
	}
	b.WaitText("#rotate-wait", "A rotation is under way")
	assertPage(t, b, "rotation scheduled")
	b.Screenshot("signer-rotation-scheduled")
	signerWantJWKS(t, env.Server.URL, signerEnv, oldKid)

	// 11:00:20: the next key enters the JWKS; the alias still signs with the old one.
	signerAdvance(t, env, 2*time.Hour+20*time.Second)
	signerWantJWKS(t, env.Server.URL, signerEnv, oldKid, newKid)
	signerWantJWKS(t, env.Server.URL, signerOther)
	signerComeBack(t, b)
	b.WaitText("#signer-active-key", "tokens-2026")
	signerWantSteps(t, b, []string{
		"Activated tokens-2026 | 2026-11-23 09:00:00 UTC | 2026-11-23 09:00:00 UTC",
		"Published tokens-2027 | 2026-11-23 11:00:00 UTC | 2026-11-23 11:00:20 UTC",
		"Activate tokens-2027 | 2026-11-23 12:00:00 UTC | scheduled",
		"Retire tokens-2026 | 2026-11-23 12:30:00 UTC | scheduled",
	})
	assertPage(t, b, "next key published")
	b.Screenshot("signer-published")

	// 12:00:20: the switch.
	signerAdvance(t, env, time.Hour)
	signerWantJWKS(t, env.Server.URL, signerEnv, oldKid, newKid)
	signerComeBack(t, b)
	b.WaitText("#signer-active-key", "tokens-2027")
	b.WaitText("#signer-active-key", newKey)
	b.WaitText("#rotating", "Retire tokens-2026 at 2026-11-23 12:30:00 UTC")

	// 12:45:20: the retirement ran a quarter of an hour late (a server
	// stopped over it, say): done, marked late.
	signerAdvance(t, env, 45*time.Minute)
	signerWantJWKS(t, env.Server.URL, signerEnv, newKid)
	signerComeBack(t, b)
	signerWantSteps(t, b, []string{
		"Activated tokens-2026 | 2026-11-23 09:00:00 UTC | 2026-11-23 09:00:00 UTC",
		"Published tokens-2027 | 2026-11-23 11:00:00 UTC | 2026-11-23 11:00:20 UTC",
		"Activated tokens-2027 | 2026-11-23 12:00:00 UTC | 2026-11-23 12:00:20 UTC",
		"Retired tokens-2026 | 2026-11-23 12:30:00 UTC | 2026-11-23 12:45:20 UTC late",
	})
	if b.Has("#rotating") {
		t.Errorf("still rotating: %q", b.Text("#rotating"))
	}
	b.WaitText("tr.step-retire .step-detail", "left the JWKS; ran 15m20s late.")
	b.WaitText("tr.step-publish .step-detail", "entered the JWKS")
	// The next rotation can be scheduled, to a key other than the active one.
	b.WaitVisible("#rotate-form")
	if opts := Eval[[]string](b, `[...document.querySelectorAll("#rotate-form select[name=nextKey] option")].map(o => o.value).filter(v => v)`); !slices.Equal(opts, []string{oldKey}) {
		t.Errorf("next key choices %v, want only %s", opts, oldKey)
	}
	assertPage(t, b, "rotation done")
	b.Screenshot("signer-rotated")

	// The list shows the alias on its new key, nothing pending.
	b.Navigate("/projects/" + signerProject + "/signing-keys")
	row := b.WaitText("#signer-"+signerName, "tokens-2027")
	if !strings.Contains(row, "none pending") {
		t.Errorf("list row %q", row)
	}
	assertPage(t, b, "key list after the rotation")
	b.Screenshot("signer-list")
}

// signerRotateRefused: an activation time in the past, and the active key
// sent as the next key (a page from before the alias changed, or a crafted
// form), are refused beside their field; the timeline and the JWKS stay.
func signerRotateRefused(t *testing.T, b *Browser, env *testenv.Env, oldKey, newKey, oldKid string) {
	t.Helper()
	page := "/projects/" + signerProject + "/signing-keys/signers/" + signerName
	b.Navigate(page)
	b.WaitText("#rotate-form", "Next key")
	// The empty time's meaning, with the time it stands for.
	b.WaitText("#activateAt-hint", "2026-11-23 10:00:00 UTC")
	b.WaitText("#plan-activate", "2026-11-23 10:00:00 UTC")
	Eval[bool](b, `(document.querySelector("#rotate").scrollIntoView(), true)`)
	viewportShot(t, b, "signer-rotate-empty")

	b.Select("#rotate-form select[name=nextKey]", newKey)
	signerSetActivateAt(t, b, "2026-11-22T08:00")
	b.WaitText("#rotation-plan", "in the past")
	b.Click("#rotate-submit")
	b.WaitText("#activateAt-error", "must not be in the past")
	if got := value(b, "#rotate-form select[name=nextKey]"); got != newKey {
		t.Errorf("the refused form's next key %q, want %s kept", got, newKey)
	}
	if got := value(b, "#rotate-form input[name=activateAt]"); got != "2026-11-22T08:00" {
		t.Errorf("the refused form's time %q, want kept", got)
	}
	signerWantSteps(t, b, []string{"Activated tokens-2026 | 2026-11-23 09:00:00 UTC | 2026-11-23 09:00:00 UTC"})
	assertPage(t, b, "rotate in the past", "status of 422")
	b.Screenshot("signer-rotate-past")

	// The active key as next: the page only offers the other keys, so add
	// the option a stale page would have.
	b.Navigate(page)
	Eval[bool](b, `(function(k){ const s = document.querySelector("#rotate-form select[name=nextKey]");
		s.add(new Option("tokens-2026 (active)", k)); return true; })(%s)`, oldKey)
	b.Select("#rotate-form select[name=nextKey]", oldKey)
	b.Click("#rotate-submit")
	b.WaitText("#nextKey-error", "is the alias's active key already")
	signerWantSteps(t, b, []string{"Activated tokens-2026 | 2026-11-23 09:00:00 UTC | 2026-11-23 09:00:00 UTC"})
	assertPage(t, b, "rotate to the active key", "status of 422")
	b.Screenshot("signer-rotate-same-key")
	signerWantJWKS(t, env.Server.URL, signerEnv, oldKid)
}

func signerSignIn(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/login")
	b.WaitText("h1", "Sign in")
	b.Fill("input[name=username]", "admin")
	b.Fill("input[name=password]", testenv.Password)
	b.Click("form button[type=submit]")
	b.WaitURL("/")
	assertPage(t, b, "signed in")
}

// signerComeBack opens the alias page hours later on the app's clock: the
// session has expired (30 minutes idle), so the admin signs in again.
func signerComeBack(t *testing.T, b *Browser) {
	t.Helper()
	signerSignIn(t, b)
	b.Navigate("/projects/" + signerProject + "/signing-keys/signers/" + signerName)
	b.WaitText("h1", signerName)
}

func signerCreateProject(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/projects")
	b.Fill("#project-create input[name=name]", signerProject)
	b.Click("#project-create button[type=submit]")
	b.WaitURL("/projects/" + signerProject)
	boostedClick(t, b, `#area-signing-keys a[href="/projects/`+signerProject+`/signing-keys"]`, "h1", "Signing Keys")
	b.WaitText("#no-signers", "This project has no signer aliases yet.")
	assertPage(t, b, "empty signing keys")
}

func signerSetPIN(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, "#set-pin-link", "h1", "Key storage")
	b.Fill("#soft-pin-form input[name=pin]", signingPIN)
	b.Fill("#soft-pin-form input[name=pin2]", signingPIN)
	b.Click("#soft-pin-submit")
	b.WaitText(".flash", "The software token's user PIN is set.")
	assertPage(t, b, "PIN set")
}

// signerCreateKey generates an EC P-256 key and returns its CKA_ID and kid.
func signerCreateKey(t *testing.T, b *Browser, label string) (ckaID, kid string) {
	t.Helper()
	b.Navigate("/projects/" + signerProject + "/signing-keys/new")
	b.WaitText("h1", "Create signing key")
	b.Click(signingForm + " input[name=algorithm][value=ECDSA]")
	b.Fill(signingForm+" input[name=label]", label)
	b.Click("#signing-key-submit")
	b.WaitText(".flash", "Signing key "+label+" created with CKA_ID")
	kid = strings.TrimSpace(b.Text("#signing-kid"))
	ckaID = path.Base(b.Path())
	if kid == "" || ckaID == "" {
		t.Fatalf("key %s: CKA_ID %q, kid %q", label, ckaID, kid)
	}
	assertPage(t, b, "key "+label)
	return ckaID, kid
}

// signerCreateAlias creates payments-token from the Key List and returns
// its page's path.
func signerCreateAlias(t *testing.T, b *Browser, key string) string {
	t.Helper()
	b.Navigate("/projects/" + signerProject + "/signing-keys")
	boostedClick(t, b, "#signer-create", "h1", "Create signer alias")
	b.Fill("#signer-form input[name=name]", signerName)
	b.Select("#signer-form select[name=activeKey]", key)
	b.Click(`#signer-form input[name=environments][value="` + signerEnv + `"]`)
	b.Fill("#signer-form input[name=leadTime]", "1h")
	b.Fill("#signer-form input[name=retention]", "30m")
	assertPage(t, b, "create alias form")
	b.Screenshot("signer-create")
	b.Click("#signer-submit")
	page := "/projects/" + signerProject + "/signing-keys/signers/" + signerName
	b.WaitURL(page)
	b.WaitText(".flash", "Signer alias payments-token created: it signs with tokens-2026 (CKA_ID "+key+"), published in the JWKS of production.")
	return page
}

// signerSetActivateAt sets the Rotate form's datetime-local input as the
// date picker would (typing into it depends on the browser's locale).
func signerSetActivateAt(t *testing.T, b *Browser, v string) {
	t.Helper()
	Eval[bool](b, `(function(v){ const el = document.querySelector("#rotate-form input[name=activateAt]");
		el.value = v; el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true; })(%s)`, v)
	b.WaitHTMXIdle()
}

// signerWantSteps checks the timeline's rows: step and key | scheduled |
// done.
func signerWantSteps(t *testing.T, b *Browser, want []string) {
	t.Helper()
	b.WaitVisible("#signer-timeline")
	got := Eval[[]string](b, `[...document.querySelectorAll("#signer-timeline tbody tr")].map(r =>
		[r.querySelector(".step-title").innerText + " " + r.querySelector(".step-key a").innerText,
		 r.querySelector(".step-due").innerText, r.querySelector(".step-done").innerText].map(s => s.trim().replace(/\s+/g, " ")).join(" | "))`)
	if !slices.Equal(got, want) {
		t.Errorf("timeline:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// signerWantJWKS checks the kids in an environment's public JWKS.
func signerWantJWKS(t *testing.T, base, env string, kids ...string) {
	t.Helper()
	resp, err := http.Get(base + "/jwks/" + signerProject + "/" + env)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET JWKS of %s: status %d", env, resp.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range set.Keys {
		if k.D != "" {
			t.Fatalf("the JWKS of %s carries a private key", env)
		}
		got = append(got, k.Kid)
	}
	slices.Sort(got)
	kids = slices.Sorted(slices.Values(kids))
	if !slices.Equal(got, kids) {
		t.Errorf("JWKS of %s at %s: kids %v, want %v", env, time.Now().Format(time.TimeOnly), got, kids)
	}
}

// signerAdvance moves the app's clock and runs the rotation steps due, as
// the one-minute schedule would.
func signerAdvance(t *testing.T, env *testenv.Env, d time.Duration) {
	t.Helper()
	env.Clock.Advance(d)
	if err := env.App.Signing.RunDue(context.Background()); err != nil {
		t.Fatalf("run the due steps at %s: %v", env.Clock.Now(), err)
	}
}

// signerErrorLogs fails the test when the app logged an error.
func signerErrorLogs(t *testing.T, env *testenv.Env) {
	for _, line := range strings.Split(env.Logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("keyward logged an error: %s", line)
		}
	}
}
