package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestGatewayTokensOnTheEnvironmentPage: an admin creates a gateway token on
// the environment page and sees it once; it reads the bundle; the list shows
// only its prefix; revoking it makes the bundle answer 401. Bad input
// re-renders beside the field; a non-admin sees no section.
func TestGatewayTokensOnTheEnvironmentPage(t *testing.T) {
	env, admin := newSite(t)
	page := admin.Get("/environments/production", false)
	if page.Doc.Find("#gateway-tokens").Length() != 1 || !strings.Contains(page.Doc.Find("#gateway-tokens").Text(), "/apiops/environments/production/bundle") {
		t.Fatalf("gateway token section missing or without the bundle URL")
	}
	p := admin.Post("/environments/production/gateway-tokens", url.Values{"name": {"edge-1"}}, false)
	value := strings.TrimSpace(p.Doc.Find("#new-gateway-token-value").Text())
	if p.Status != http.StatusOK || !strings.HasPrefix(value, "kw_gw_") {
		t.Fatalf("create: status %d, value %q", p.Status, value)
	}
	if r := env.API(value, http.MethodGet, "/apiops/environments/production/bundle", nil); r.Status != http.StatusOK {
		t.Fatalf("bundle with the new token: %d %s", r.Status, r.Raw)
	}
	again := admin.Get("/environments/production", false)
	if strings.Contains(again.Body, value) || again.Doc.Find("#new-gateway-token").Length() != 0 {
		t.Fatal("the gateway token is shown a second time")
	}
	row := again.Doc.Find("#gateway-token-list tbody tr")
	if row.Length() != 1 || !strings.Contains(row.Text(), "edge-1") || !strings.Contains(row.Text(), value[:12]) {
		t.Fatalf("token list: %q", row.Text())
	}
	// A duplicate name is refused beside the field.
	dup := admin.Post("/environments/production/gateway-tokens", url.Values{"name": {"edge-1"}}, false)
	if dup.Status != http.StatusUnprocessableEntity || !strings.Contains(dup.Doc.Find("#gateway-token-create .field-error").Text(), "already has a gateway token") {
		t.Errorf("duplicate: status %d, %q", dup.Status, dup.Doc.Find("#gateway-token-create .field-error").Text())
	}
	if n := count(t, env, "SELECT count(*) FROM gateway_tokens"); n != 1 {
		t.Errorf("gateway tokens after the duplicate: %d, want 1", n)
	}
	action, _ := row.Find("form").Attr("action")
	if p := admin.Post(action, url.Values{}, false); p.Status != http.StatusSeeOther {
		t.Fatalf("revoke: status %d", p.Status)
	}
	if r := env.API(value, http.MethodGet, "/apiops/environments/production/bundle", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("bundle after revoke: %d, want 401", r.Status)
	}
	if !strings.Contains(admin.Get("/environments/production", false).Doc.Find("#gateway-token-list").Text(), "revoked") {
		t.Error("the list does not show the token as revoked")
	}
	bob := env.Browser()
	bob.Login("bob")
	if p := bob.Get("/environments/production", false); p.Status != http.StatusOK || p.Doc.Find("#gateway-tokens").Length() != 0 {
		t.Errorf("non-admin: status %d, section %d", p.Status, p.Doc.Find("#gateway-tokens").Length())
	}
	if p := bob.Post("/environments/production/gateway-tokens", url.Values{"name": {"sneaky"}}, false); p.Status != http.StatusForbidden {
		t.Errorf("non-admin create: status %d, want 403", p.Status)
	}
}
