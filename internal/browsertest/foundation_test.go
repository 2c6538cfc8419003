package browsertest

import (
	"strings"
	"testing"
)

const (
	adminName     = "admin"
	adminPassword = "correct horse battery staple"
	projectName   = "payments-gateway"
	projectDesc   = "Keys and certificates of the payments gateway."
	envName       = "production"
	webhookURL    = "https://gateway.example.com/keyward-hook"
	auditorName   = "audrey"
)

// TestFoundationInBrowser walks the first hour of a new installation in a
// real browser: the setup link, signing in, a project, an environment with a
// webhook, a second user added as an auditor, an API token and signing out.
// Every page must load htmx from /static and report no console error and no
// CSP violation.
func TestFoundationInBrowser(t *testing.T) {
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)

	setUpFirstAdmin(t, b, srv.SetupURL)
	signIn(t, b)
	createProject(t, b)
	createEnvironment(t, b)
	createUser(t, b)
	addAuditor(t, b)
	createToken(t, b)
	signOut(t, b)
}

// assertPage checks what every page must have: htmx loaded from /static
// under the CSP, and a clean console.
func assertPage(t *testing.T, b *Browser, where string, allowed ...string) {
	t.Helper()
	b.WaitLoaded()
	if got := Eval[string](b, `typeof htmx`); got != "object" {
		t.Errorf("%s: typeof htmx = %q, want \"object\" (htmx did not load)", where, got)
	}
	b.AssertClean(where, allowed...)
}

// boostedClick clicks a link or button that htmx should handle without a
// full page load, waits for text in sel, and checks that the document
// survived (a marker set before the click is still there).
func boostedClick(t *testing.T, b *Browser, click, sel, text string) {
	t.Helper()
	Eval[bool](b, `(window.__keywardMarker = true)`)
	// Under load, htmx may not have processed content it has just swapped
	// in: a click then is a plain navigation. Wait until it has.
	b.WaitHTMXReady(click)
	b.Click(click)
	b.WaitText(sel, text)
	if !Eval[bool](b, `window.__keywardMarker === true`) {
		t.Errorf("clicking %s reloaded the whole page: hx-boost did not handle it", click)
	}
}

func setUpFirstAdmin(t *testing.T, b *Browser, setupURL string) {
	t.Helper()
	b.Navigate(setupURL)
	b.WaitText("h1", "Welcome to Keyward")
	assertPage(t, b, "setup page")
	b.Screenshot("setup")

	// Mismatched passwords: the form comes back with the message beside the
	// second password and keeps the username.
	b.Fill("input[name=username]", adminName)
	b.Fill("input[name=password]", adminPassword)
	b.Fill("input[name=password2]", adminPassword+"!")
	b.Click("form button[type=submit]")
	b.WaitText("label:has(input[name=password2]) .field-error", "The two passwords are not the same.")
	if got := Eval[string](b, `document.querySelector("input[name=password2]").getAttribute("aria-invalid")`); got != "true" {
		t.Errorf("repeat password aria-invalid = %q, want \"true\"", got)
	}
	if got := Eval[string](b, `document.querySelector("input[name=username]").value`); got != adminName {
		t.Errorf("username after a failed setup = %q, want %q kept", got, adminName)
	}
	// The re-rendered form's 422 status is by design; the browser logs it.
	assertPage(t, b, "setup page with an error", "status of 422")
	b.Screenshot("setup-error")

	b.Fill("input[name=password]", adminPassword)
	b.Fill("input[name=password2]", adminPassword)
	b.Click("form button[type=submit]")
	b.WaitURL("/login")
	b.WaitText(".flash", "Administrator "+adminName+" created")

	// The setup link works once.
	b.Navigate(setupURL)
	b.WaitText("main", "not valid or was already used")
	assertPage(t, b, "used setup link", "status of 404")
}

func signIn(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/login")
	b.WaitText("h1", "Sign in")
	b.Fill("input[name=username]", adminName)
	b.Fill("input[name=password]", adminPassword)
	b.Click("form button[type=submit]")
	// Signing in lands on the dashboard; with nothing yet, it says so.
	b.WaitURL("/")
	b.WaitText("h1", "Dashboard")
	b.WaitText("#nothing-soon", "Nothing you can see ends in the next 30 days")
	assertPage(t, b, "empty dashboard")
	b.Navigate("/projects")
	b.WaitText("h1", "Projects")
	b.WaitText("#no-projects", "There are no projects yet")
	assertPage(t, b, "empty project list")
}

func createProject(t *testing.T, b *Browser) {
	t.Helper()
	b.Fill("#project-create input[name=name]", projectName)
	b.Fill("#project-create textarea[name=description]", projectDesc)
	boostedClick(t, b, "#project-create button[type=submit]", "h1", projectName)
	b.WaitURL("/projects/" + projectName)
	b.WaitText(".flash", "Project "+projectName+" created.")
	b.WaitText("hgroup", projectDesc)
	assertPage(t, b, "new project's page")
	b.Screenshot("project")

	boostedClick(t, b, `header a[href="/projects"]`, "#projects", projectName)
	b.WaitURL("/projects")
	row := b.Text("#projects tbody tr")
	if !strings.Contains(row, projectName) || !strings.Contains(row, projectDesc) {
		t.Errorf("project list row = %q, want the name and the description", row)
	}
	assertPage(t, b, "project list")
	b.Screenshot("projects")
}

func createEnvironment(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, `header a[href="/environments"]`, "h1", "Environments")
	b.WaitText("#no-environments", "There are no environments yet")
	b.Fill("#environment-create input[name=name]", envName)
	b.Fill("#environment-create input[name=description]", "Live gateways")
	b.Fill("#environment-create input[name=webhookUrl]", webhookURL)
	boostedClick(t, b, "#environment-create button[type=submit]", "#webhook-secret", "Copy it now")
	b.WaitText("h1", envName)
	b.WaitURL("/environments/" + envName)
	if secret := b.Text("#webhook-secret-value"); len(strings.TrimSpace(secret)) < 32 {
		t.Errorf("webhook secret %q is too short or missing", secret)
	}
	b.WaitText("main", webhookURL)
	assertPage(t, b, "new environment's page")
	b.Screenshot("environment-secret")

	// Shown once: a reload no longer has it.
	b.Reload()
	b.WaitText("h1", envName)
	if b.Has("#webhook-secret") {
		t.Error("the webhook secret is still shown after a reload")
	}
	b.WaitText("main", webhookURL)
	assertPage(t, b, "environment page after a reload")

	boostedClick(t, b, `nav[aria-label=breadcrumb] a[href="/environments"]`, "#environments", envName)
	b.WaitText("#environments", webhookURL)
	assertPage(t, b, "environment list")
	b.Screenshot("environments")
}

func createUser(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, `header a[href="/admin/users"]`, "h1", "Users")
	b.Click("details summary")
	b.Fill("#user-create input[name=username]", auditorName)
	b.Fill("#user-create input[name=password]", "auditor password 123")
	boostedClick(t, b, "#user-create button[type=submit]", ".flash", "User "+auditorName+" created.")
	b.WaitText("#users", auditorName)
	assertPage(t, b, "user list")
	b.Screenshot("users")
}

func addAuditor(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, `header a[href="/projects"]`, "#projects", projectName)
	boostedClick(t, b, `#projects a[href="/projects/`+projectName+`"]`, "h1", projectName)
	b.Click("#members details summary")
	b.Select("#member-form select[name=username]", auditorName)
	b.Select("#member-form select[name=preset]", "auditor")
	boostedClick(t, b, "#member-form button[type=submit]", ".flash", "Permissions of "+auditorName+" saved.")
	row := b.WaitText("#members tbody", auditorName)
	for _, p := range []string{"SECRETS:VIEW", "SIGNING_KEYS:VIEW", "KEY_SETS:VIEW", "AUDIT:VIEW"} {
		if !strings.Contains(row, p) {
			t.Errorf("members table %q lacks %s", row, p)
		}
	}
	if strings.Contains(row, "MANAGE") {
		t.Errorf("members table %q gives the auditor a MANAGE permission", row)
	}
	assertPage(t, b, "project page with a member")
	b.Screenshot("project-members")
}

func createToken(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, `header a[href="/account"]`, "h1", "Your account")
	b.Fill("#token-create input[name=name]", "deploy-bot")
	boostedClick(t, b, "#token-create button[type=submit]", "#new-token", "Copy it now")
	token := strings.TrimSpace(b.Text("#new-token-value"))
	if len(token) < 20 {
		t.Errorf("new token %q is too short or missing", token)
	}
	b.WaitText("#token-list", "deploy-bot")
	if list := b.Text("#token-list"); token != "" && strings.Contains(list, token) {
		t.Error("the token list shows the whole token")
	}
	assertPage(t, b, "account page with a new token")
	b.Screenshot("account-token")

	b.Reload()
	b.WaitText("#token-list", "deploy-bot")
	if b.Has("#new-token") {
		t.Error("the new token is still shown after a reload")
	}
}

func signOut(t *testing.T, b *Browser) {
	t.Helper()
	b.Click(`form[action="/logout"] button`)
	b.WaitURL("/login")
	b.WaitText("h1", "Sign in")
	b.WaitText(".flash", "You are signed out.")
	assertPage(t, b, "sign-in page after signing out")
	b.Screenshot("signed-out")

	b.Navigate("/projects")
	b.WaitURL("/login")
	b.AssertClean("redirect to sign in")
}
