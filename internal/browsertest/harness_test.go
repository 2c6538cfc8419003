package browsertest

import (
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(RunTests(m)) }

// TestHarnessSeesProblems checks that the harness notices what the
// foundation test asserts is absent, so that "no problems" means something:
// a console error, an uncaught exception and an inline script the
// Content-Security-Policy blocks.
func TestHarnessSeesProblems(t *testing.T) {
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	b.Navigate("/login")
	b.WaitText("h1", "Sign in")
	b.AssertClean("on a clean sign-in page")

	Eval[bool](b, `(console.error("harness self-check"), true)`)
	Eval[bool](b, `(setTimeout(() => { throw new Error("harness boom") }), true)`)
	Eval[bool](b, `(function() {
		const s = document.createElement("script");
		s.textContent = "window.inlineRan = true";
		document.body.appendChild(s);
		return true;
	})()`)
	var got []Message
	b.waitFor("three problems", func() bool {
		got = append(got, b.TakeProblems()...)
		return len(got) >= 3
	})
	var console, exception, csp bool
	for _, m := range got {
		console = console || (m.Kind == "console" && strings.Contains(m.Text, "harness self-check"))
		exception = exception || (m.Kind == "exception" && strings.Contains(m.Text, "harness boom"))
		csp = csp || m.IsCSPViolation()
	}
	if !console || !exception || !csp {
		t.Errorf("want a console error, an exception and a CSP violation, got %v", got)
	}
	if Eval[bool](b, `window.inlineRan === true`) {
		t.Error("an inline script ran despite the Content-Security-Policy")
	}
}
