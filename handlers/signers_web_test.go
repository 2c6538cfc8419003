package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/views"
)

// The web console's signer alias pages: the aliases on the Key List,
// Create signer alias and the alias page with its timeline and Rotate.
// Keys and aliases are made through the API, as dora (MANAGE and
// DEPLOY_UNDEPLOY); vic only views.

const signersPage = "/projects/payments/signing-keys/signers/"

// sgKey creates an EC key in payments through the API and returns its CKA_ID.
func sgKey(t *testing.T, w *secretsWorld, label string) string {
	t.Helper()
	return w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": label, "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string)
}

// sgAlias creates the alias payments-token on key in production through
// the API: lead time 1h, retention 30m.
func sgAlias(t *testing.T, w *secretsWorld, key string) {
	t.Helper()
	w.must(w.dora, http.MethodPost, signingPath+"signers/", map[string]any{"name": "payments-token", "activeKey": key,
		"environments": []string{"production"}, "leadTime": "1h", "retention": "30m"})
}

// sgBrowser signs user in to the web console.
func sgBrowser(w *secretsWorld, user string) *testenv.Browser {
	b := w.env.Browser()
	b.Login(user)
	return b
}

func sgText(s string) string { return strings.Join(strings.Fields(s), " ") }

func sgForm(name, key, lead, retention string, envs ...string) url.Values {
	return url.Values{"name": {name}, "activeKey": {key}, "leadTime": {lead}, "retention": {retention}, "environments": envs}
}

// TestSignerWebList: the Key List's Signer aliases section, empty and then
// with an alias (its active key linked, environments, lead time,
// retention) and, once a rotation is scheduled, its next step and when.
func TestSignerWebList(t *testing.T) {
	w, _ := signingWorld(t)
	vic, dora := sgBrowser(w, "vic"), sgBrowser(w, "dora")
	const list = "/projects/payments/signing-keys"
	if p := dora.Get(list, false); !strings.Contains(p.Doc.Find("#no-signers").Text(), "no signer aliases yet. Use Create signer alias") ||
		p.Doc.Find(`a#signer-create[href="/projects/payments/signing-keys/signers/new"]`).Length() != 1 {
		t.Errorf("empty section: %q", sgText(p.Doc.Find("#signers").Text()))
	}
	old, next := sgKey(t, w, "tokens-2026"), sgKey(t, w, "tokens-2027")
	sgAlias(t, w, old)
	for _, htmx := range []bool{false, true} {
		p := vic.Get(list, htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("list (htmx %v): %d", htmx, p.Status)
		}
		checkFragment(t, "list", p, !htmx)
		if got := texts(p.Doc, "#signer-list thead th"); strings.Join(got, "|") != "Name|Active key|Environments|Lead time|Retention|Rotation" {
			t.Errorf("columns %q", got)
		}
		row := p.Doc.Find("#signer-payments-token")
		if row.Find(`a[href="`+signersPage+`payments-token"]`).Text() != "payments-token" ||
			row.Find(`a[href="/projects/payments/signing-keys/`+old+`"]`).Text() != "tokens-2026" || row.Find("code.cka-id").Text() != old ||
			row.Find(".badge.ok").Text() != "production" || row.Find(".lead-time").Text() != "1h" || row.Find(".retention").Text() != "30m" ||
			sgText(row.Find(".rotation").Text()) != "none pending" {
			t.Errorf("row (htmx %v): %q", htmx, sgText(row.Text()))
		}
		if p.Doc.Find("#signer-create").Length() != 0 {
			t.Errorf("a viewer is offered Create signer alias")
		}
	}
	activate := w.env.Clock.Now().Add(2 * time.Hour)
	w.must(w.dora, http.MethodPost, signingPath+"signers/payments-token/rotate", map[string]any{"nextKey": next, "activateAt": activate.Format(time.RFC3339)})
	p := vic.Get(list, false)
	want := "pending Publish tokens-2027 at " + activate.Add(-time.Hour).UTC().Format("2006-01-02 15:04:05 UTC")
	if got := sgText(p.Doc.Find("#signer-payments-token .rotation").Text()); got != want {
		t.Errorf("pending rotation %q, want %q", got, want)
	}
}

// TestSignerWebCreate: the form (the project's keys, the environments,
// the hints), an alias created (303 to its page or HX-Redirect, the
// flash), and each refusal answered again with 422 and the message beside
// its field, changing nothing.
func TestSignerWebCreate(t *testing.T) {
	w, _ := signingWorld(t)
	dora := sgBrowser(w, "dora")
	key := sgKey(t, w, "tokens-2026")
	for _, htmx := range []bool{false, true} {
		p := dora.Get(signersPage+"new", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET new (htmx %v): %d", htmx, p.Status)
		}
		checkFragment(t, "new signer", p, !htmx)
		f := p.Doc.Find(`form#signer-form[method=post][action="/projects/payments/signing-keys/signers"]`)
		if f.Find("input[name=_csrf]").Length() != 1 || f.Find("input[name=name]").Length() != 1 {
			t.Fatalf("no form with CSRF")
		}
		if got := f.Find(`select[name=activeKey] option[value="` + key + `"]`).Text(); got != "tokens-2026 · CKA_ID "+key {
			t.Errorf("key option %q", got)
		}
		if got := texts(p.Doc, "#environments-field label"); strings.Join(got, "|") != "development|production" {
			t.Errorf("environments %q", got)
		}
		if f.Find("input[name=leadTime]").AttrOr("value", "") != "24h" || !strings.Contains(p.Doc.Find("#leadTime-hint").Text(), "before a switch verifiers get the next key") ||
			!strings.Contains(p.Doc.Find("#retention-hint").Text(), "at least the longest lifetime of the tokens") {
			t.Errorf("lead time and retention hints: %q / %q", p.Doc.Find("#leadTime-hint").Text(), p.Doc.Find("#retention-hint").Text())
		}
	}

	p := dora.Post(signersPage[:len(signersPage)-1], sgForm("payments-token", key, "1h", "30m", "production"), false)
	if p.Status != http.StatusSeeOther || p.Location() != signersPage+"payments-token" {
		t.Fatalf("create: status %d location %q %s", p.Status, p.Location(), sgText(p.Doc.Find("main").Text()))
	}
	page := dora.Get(p.Location(), false)
	if got := page.Doc.Find(".flash-success").Text(); got != "Signer alias payments-token created: it signs with tokens-2026 (CKA_ID "+key+"), published in the JWKS of production." {
		t.Errorf("flash %q", got)
	}
	p = dora.Post(signersPage[:len(signersPage)-1], sgForm("id-token", key, "", "", "development", "production"), true)
	if p.Status != http.StatusNoContent || p.Location() != signersPage+"id-token" {
		t.Fatalf("create (htmx): status %d location %q", p.Status, p.Location())
	}

	cases := []struct {
		name, field, want string
		form              url.Values
	}{
		{"duplicate name", "name", `A signer named "payments-token" already exists`, sgForm("payments-token", key, "1h", "30m", "production")},
		{"reserved name", "name", "reserved", sgForm("new", key, "1h", "30m", "production")},
		{"no key", "activeKey", "no signing key", sgForm("other", "", "1h", "30m", "production")},
		{"unknown key", "activeKey", "Project \"payments\" has no signing key with CKA_ID 00ff", sgForm("other", "00ff", "1h", "30m", "production")},
		{"negative lead time", "leadTime", "leadTime must be between 0 and a year.", sgForm("other", key, "-1h", "30m", "production")},
		{"invalid lead time", "leadTime", `leadTime "soon" must be a duration`, sgForm("other", key, "soon", "30m", "production")},
		{"invalid retention", "retention", `retention "1 day" must be a duration`, sgForm("other", key, "1h", "1 day", "production")},
		{"retention over a year", "retention", "retention must be between 0 and a year.", sgForm("other", key, "1h", "9000h", "production")},
		{"no environment", "environments", "Name at least one environment.", sgForm("other", key, "1h", "30m")},
		{"unknown environment", "environments", "staging", sgForm("other", key, "1h", "30m", "staging")},
	}
	before := testenv.TakeSnapshot(t, w.env)
	for _, c := range cases {
		for _, htmx := range []bool{false, true} {
			what := fmt.Sprintf("%s (htmx %v)", c.name, htmx)
			p := dora.Post(signersPage[:len(signersPage)-1], c.form, htmx)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d, want 422: %s", what, p.Status, sgText(p.Doc.Find("main").Text()))
				continue
			}
			checkFragment(t, what, p, !htmx)
			if msg := p.Doc.Find("#" + c.field + "-error.field-error").Text(); !strings.Contains(msg, c.want) {
				t.Errorf("%s: beside %s %q, want %q (form message %q)", what, c.field, msg, c.want, p.Doc.Find("#signer-form-error").Text())
			}
			if n := p.Doc.Find(".field-error").Length(); n != 1 {
				t.Errorf("%s: %d field errors", what, n)
			}
			if got := p.Doc.Find("input[name=name]").AttrOr("value", ""); got != c.form.Get("name") {
				t.Errorf("%s: name kept as %q", what, got)
			}
			for _, e := range c.form["environments"] {
				if e != "staging" && p.Doc.Find(`input[name=environments][value="`+e+`"][checked]`).Length() != 1 {
					t.Errorf("%s: %s is not ticked any more", what, e)
				}
			}
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused creates changed data: %s", d)
	}
}

// sgSteps is the alias page's timeline, a row a line: title, key label,
// scheduled, done.
func sgSteps(p testenv.Page) []string {
	var out []string
	p.Doc.Find("#signer-timeline tbody tr").Each(func(_ int, r *goquery.Selection) {
		out = append(out, strings.Join([]string{r.Find(".step-title").Text(), r.Find("td:nth-child(2) a").Text(),
			r.Find(".step-due").Text(), sgText(r.Find(".step-done").Text())}, " | "))
	})
	return out
}

// TestSignerWebTimeline: the alias page (active key, environments, the
// sign call), a rotation scheduled from it (the plan saying when each step
// happens), the timeline with one step done and three scheduled, then,
// with the clock moved on and the steps run, each done, the late ones
// marked and saying by how much.
func TestSignerWebTimeline(t *testing.T) {
	w, _ := signingWorld(t)
	dora := sgBrowser(w, "dora")
	old, next := sgKey(t, w, "tokens-2026"), sgKey(t, w, "tokens-2027")
	created := w.env.Clock.Now()
	sgAlias(t, w, old)
	const alias = signersPage + "payments-token"
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
	for _, htmx := range []bool{false, true} {
		p := dora.Get(alias, htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("alias page (htmx %v): %d", htmx, p.Status)
		}
		checkFragment(t, "alias page", p, !htmx)
		if a := p.Doc.Find(`#signer-active-key a[href="/projects/payments/signing-keys/` + old + `"]`); a.Text() != "tokens-2026" ||
			p.Doc.Find("#signer-active-key code").Text() != old || sgText(p.Doc.Find("#signer-environments").Text()) != "production" {
			t.Errorf("active key %q, environments %q", sgText(p.Doc.Find("#signer-active-key").Text()), p.Doc.Find("#signer-environments").Text())
		}
		if got := sgSteps(p); len(got) != 1 || got[0] != "Activated | tokens-2026 | "+ts(created)+" | "+ts(created) {
			t.Errorf("timeline at creation %q", got)
		}
		f := p.Doc.Find(`form#rotate-form[method=post][action="` + alias + `/rotate"]`)
		if f.Find("input[name=_csrf]").Length() != 1 || f.Find(`select[name=nextKey] option[value="`+next+`"]`).Length() != 1 ||
			f.Find(`select[name=nextKey] option[value="`+old+`"]`).Length() != 0 {
			t.Errorf("the Rotate form does not offer the other key only: %q", sgText(f.Find("select").Text()))
		}
		if in := f.Find("input[type=datetime-local][name=activateAt]"); in.AttrOr("hx-get", "") != alias+"/rotation-plan" || in.AttrOr("hx-target", "") != "#rotation-plan" {
			t.Errorf("the time does not ask for the plan")
		}
		// Without a time: as soon as the lead time allows, the times said
		// as of the server's clock.
		if got := sgText(p.Doc.Find("#rotation-plan").Text()); !strings.Contains(got, "enters the JWKS at once ("+ts(created)+")") ||
			!strings.Contains(got, "switches to it at "+ts(created.Add(time.Hour))+" (1h from now)") ||
			!strings.Contains(got, "leaves the JWKS at "+ts(created.Add(90*time.Minute))+" (30m after the switch)") {
			t.Errorf("plan without a time %q", got)
		}
		if got := sgText(p.Doc.Find("#activateAt-hint").Text()); got != "A date and time in UTC. Leave empty to activate as soon as the lead time (1h) allows: "+ts(created.Add(time.Hour))+" if scheduled now." {
			t.Errorf("the time's hint %q", got)
		}
		if got := p.Doc.Find("#sign-example").Text(); !strings.Contains(got, "curl -X POST "+w.env.App.Config.BaseURL+"/apiops/projects/payments/signingKeys/signers/payments-token/sign") {
			t.Errorf("sign example %q", got)
		}
	}

	activate := created.Add(2 * time.Hour).Truncate(time.Minute)
	local := activate.Format(views.DatetimeLocal)
	plan := dora.Get(alias+"/rotation-plan?activateAt="+url.QueryEscape(local), true)
	if got := sgText(plan.Doc.Find("#rotation-plan").Text()); plan.Status != http.StatusOK ||
		!strings.Contains(got, "the next key enters the JWKS at "+ts(activate.Add(-time.Hour))+" (1h before)") ||
		!strings.Contains(got, "the alias switches to it at "+ts(activate)) || !strings.Contains(got, "the old key leaves the JWKS at "+ts(activate.Add(30*time.Minute))) {
		t.Errorf("plan for %s: %d %q", local, plan.Status, got)
	}
	// A time sooner than the lead time publishes at once; one in the past is
	// refused before Schedule rotation is pressed.
	soon := created.Add(30 * time.Minute).Format(views.DatetimeLocal)
	plan = dora.Get(alias+"/rotation-plan?activateAt="+url.QueryEscape(soon), true)
	if got := sgText(plan.Doc.Find("#rotation-plan").Text()); !strings.Contains(got, "the next key enters the JWKS at once ("+ts(created)+")") ||
		!strings.Contains(plan.Doc.Find("#plan-short").Text(), "less than the lead time (1h) away") {
		t.Errorf("plan for %s: %q", soon, got)
	}
	past := created.Add(-time.Hour).Format(views.DatetimeLocal)
	plan = dora.Get(alias+"/rotation-plan?activateAt="+url.QueryEscape(past), true)
	if got := sgText(plan.Doc.Find("#rotation-plan-error").Text()); got != ts(created.Add(-time.Hour))+" is in the past (the server's clock reads "+ts(created)+"): choose a later time, or leave it empty." {
		t.Errorf("plan for %s: %q", past, got)
	}

	// Refused rotations: 422 beside the field, nothing changed.
	before := testenv.TakeSnapshot(t, w.env)
	for _, c := range []struct{ name, field, want, key, at string }{
		{"no key", "nextKey", "no signing key", "", local},
		{"the active key", "nextKey", "is the alias's active key already", old, local},
		{"in the past", "activateAt", "activateAt must not be in the past.", next, created.Add(-time.Hour).Format(views.DatetimeLocal)},
		{"not a time", "activateAt", `Activate at "tomorrow" is not a date and time`, next, "tomorrow"},
	} {
		for _, htmx := range []bool{false, true} {
			p := dora.Post(alias+"/rotate", url.Values{"nextKey": {c.key}, "activateAt": {c.at}}, htmx)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#"+c.field+"-error").Text(), c.want) {
				t.Errorf("%s (htmx %v): status %d, beside %s %q", c.name, htmx, p.Status, c.field, p.Doc.Find("#"+c.field+"-error").Text())
			}
			checkFragment(t, c.name, p, !htmx)
			if got := p.Doc.Find("input[name=activateAt]").AttrOr("value", ""); got != c.at {
				t.Errorf("%s: the time is kept as %q", c.name, got)
			}
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused rotations changed data: %s", d)
	}

	p := dora.Post(alias+"/rotate", url.Values{"nextKey": {next}, "activateAt": {local}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != alias {
		t.Fatalf("rotate: status %d location %q %s", p.Status, p.Location(), sgText(p.Doc.Find("main").Text()))
	}
	p = dora.Get(alias, false)
	if got := p.Doc.Find(".flash-success").Text(); got != "Rotation of payments-token scheduled: it switches to tokens-2027 (CKA_ID "+next+") at "+ts(activate)+"." {
		t.Errorf("flash %q", got)
	}
	want := []string{
		"Activated | tokens-2026 | " + ts(created) + " | " + ts(created),
		"Publish | tokens-2027 | " + ts(activate.Add(-time.Hour)) + " | scheduled",
		"Activate | tokens-2027 | " + ts(activate) + " | scheduled",
		"Retire | tokens-2026 | " + ts(activate.Add(30*time.Minute)) + " | scheduled",
	}
	if got := sgSteps(p); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline after Rotate:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.Doc.Find("#rotate-form").Length() != 0 || !strings.Contains(p.Doc.Find("#rotate-wait").Text(), "A rotation is under way") ||
		!strings.Contains(p.Doc.Find("#rotating").Text(), "Publish tokens-2027") {
		t.Errorf("during a rotation: %q / %q", p.Doc.Find("#rotate-wait").Text(), p.Doc.Find("#rotating").Text())
	}

	// A second rotation waits for the first (400, as the error handler answers a conflict).
	if p := dora.Post(alias+"/rotate", url.Values{"nextKey": {next}, "activateAt": {local}}, true); p.Status != http.StatusBadRequest ||
		!strings.Contains(p.Doc.Find("#rotate-form-error").Text(), "is rotating already") {
		t.Errorf("a second rotation: status %d %q", p.Status, p.Doc.Find("#rotate-form-error").Text())
	}

	// The publish runs on time; the server then misses the switch and the
	// retirement by an hour and half an hour: both run late, and say so.
	run := func(d time.Duration) {
		w.env.Clock.Advance(d)
		if err := w.env.App.Signing.RunDue(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	run(activate.Add(-time.Hour).Sub(w.env.Clock.Now()))
	published := w.env.Clock.Now()
	run(2 * time.Hour)
	late := w.env.Clock.Now()
	dora = sgBrowser(w, "dora") // the session went idle while the clock moved
	for _, htmx := range []bool{false, true} {
		p = dora.Get(alias, htmx)
		want = []string{
			"Activated | tokens-2026 | " + ts(created) + " | " + ts(created),
			"Published | tokens-2027 | " + ts(activate.Add(-time.Hour)) + " | " + ts(published),
			"Activated | tokens-2027 | " + ts(activate) + " | " + ts(late) + " late",
			"Retired | tokens-2026 | " + ts(activate.Add(30*time.Minute)) + " | " + ts(late) + " late",
		}
		if got := sgSteps(p); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("timeline when done (htmx %v):\n%s\nwant\n%s", htmx, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		rows := p.Doc.Find("#signer-timeline tbody tr")
		if d := rows.Eq(2).Find(".step-detail").Text(); !rows.Eq(2).HasClass("late") || !strings.Contains(d, "ran 1h late") {
			t.Errorf("the late switch says %q", d)
		}
		if d := rows.Eq(3).Find(".step-detail").Text(); !strings.Contains(d, "ran 30m late") || rows.Eq(1).HasClass("late") {
			t.Errorf("the late retirement says %q", d)
		}
		if p.Doc.Find(`#signer-active-key a[href="/projects/payments/signing-keys/`+next+`"]`).Text() != "tokens-2027" || p.Doc.Find("#rotate-form").Length() != 1 {
			t.Errorf("after the rotation: active key %q", sgText(p.Doc.Find("#signer-active-key").Text()))
		}
	}
}

// TestSignerWebRefusals: a viewer (and a manager without DEPLOY_UNDEPLOY)
// may not create or rotate (403), sees no Rotate form, and an unknown
// alias is 404; nothing changes.
func TestSignerWebRefusals(t *testing.T) {
	w, _ := signingWorld(t)
	old, next := sgKey(t, w, "tokens-2026"), sgKey(t, w, "tokens-2027")
	sgAlias(t, w, old)
	vic, manny, dora := sgBrowser(w, "vic"), sgBrowser(w, "manny"), sgBrowser(w, "dora")
	before := testenv.TakeSnapshot(t, w.env)
	for _, htmx := range []bool{false, true} {
		for name, b := range map[string]*testenv.Browser{"vic": vic, "manny": manny} {
			if p := b.Get(signersPage+"new", htmx); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "SIGNING_KEYS:DEPLOY_UNDEPLOY") {
				t.Errorf("%s GET new (htmx %v): status %d", name, htmx, p.Status)
			}
			if p := b.Post(signersPage[:len(signersPage)-1], sgForm("other", old, "1h", "30m", "production"), htmx); p.Status != http.StatusForbidden {
				t.Errorf("%s creates (htmx %v): status %d", name, htmx, p.Status)
			}
			if p := b.Post(signersPage+"payments-token/rotate", url.Values{"nextKey": {next}}, htmx); p.Status != http.StatusForbidden {
				t.Errorf("%s rotates (htmx %v): status %d", name, htmx, p.Status)
			}
			if p := b.Get(signersPage+"payments-token", htmx); p.Status != http.StatusOK || p.Doc.Find("#rotate").Length() != 0 || p.Doc.Find("#signer-timeline").Length() != 1 {
				t.Errorf("%s sees the alias page (htmx %v): status %d, Rotate %d", name, htmx, p.Status, p.Doc.Find("#rotate").Length())
			}
		}
		for _, path := range []string{signersPage + "nope", signersPage + "nope/rotation-plan", "/projects/nope/signing-keys/signers/new"} {
			if p := dora.Get(path, htmx); p.Status != http.StatusNotFound {
				t.Errorf("GET %s (htmx %v): status %d, want 404", path, htmx, p.Status)
			}
		}
		if p := dora.Post(signersPage+"nope/rotate", url.Values{"nextKey": {next}}, htmx); p.Status != http.StatusNotFound {
			t.Errorf("rotate an unknown alias (htmx %v): status %d, want 404", htmx, p.Status)
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused requests changed data: %s", d)
	}
}
