package auth_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/auth"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/testenv"
)

func TestPasswordHashing(t *testing.T) {
	h1, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	format := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !format.MatchString(h1) {
		t.Fatalf("hash %q is not an encoded argon2id hash", h1)
	}
	h2, _ := auth.HashPassword("correct horse battery")
	if h1 == h2 {
		t.Fatalf("two hashes of one password are equal: no salt")
	}
	if strings.Contains(h1, "correct horse battery") {
		t.Fatalf("the hash contains the password")
	}
	if !auth.CheckPassword(h1, "correct horse battery") || !auth.CheckPassword(h2, "correct horse battery") {
		t.Fatalf("the right password does not match")
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery", "correct horse battery "} {
		if auth.CheckPassword(h1, wrong) {
			t.Errorf("wrong password %q matches", wrong)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=x$a$b", "$argon2id$v=19$m=19456,t=2,p=1$!!$!!"} {
		if auth.CheckPassword(bad, "correct horse battery") {
			t.Errorf("malformed hash %q matches", bad)
		}
	}
}

func TestUsernameAndPasswordRules(t *testing.T) {
	for _, ok := range []string{"al", "alice", "Alice.Smith", "ci_bot-2", "0x", strings.Repeat("a", 64)} {
		if err := auth.ValidateUsername(ok); err != nil {
			t.Errorf("username %q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "-alice", ".alice", "al ice", "alice/", "álice", strings.Repeat("a", 65)} {
		err := auth.ValidateUsername(bad)
		if err == nil {
			t.Errorf("username %q accepted", bad)
			continue
		}
		if errs.FieldOf(err) != "username" || !strings.Contains(errs.MessageOf(err), "Username must be 2 to 64 characters") {
			t.Errorf("username %q: field %q message %q", bad, errs.FieldOf(err), errs.MessageOf(err))
		}
	}
	for _, ok := range []string{"twelve chars", "ünïcödé pässwörd", strings.Repeat("x", 1024)} {
		if err := auth.ValidatePassword(ok); err != nil {
			t.Errorf("password %q refused: %v", ok, err)
		}
	}
	for pw, want := range map[string]string{
		"":                        "at least 12 characters",
		"eleven char":             "at least 12 characters",
		"äöüäöüäöüäö":             "at least 12 characters", // 11 runes, 22 bytes
		strings.Repeat("x", 1025): "at most 1024 bytes",
	} {
		err := auth.ValidatePassword(pw)
		if err == nil || errs.FieldOf(err) != "password" || !strings.Contains(errs.MessageOf(err), want) {
			t.Errorf("password of %d bytes: %v, want %q", len(pw), err, want)
		}
	}
}

func TestTokenExpiryAndRevocation(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("alice", false)
	ctx := context.Background()
	svc := env.App.Auth
	alice := env.Principal("alice")

	tok, err := svc.CreateToken(ctx, alice, "", "ci", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Value, auth.TokenPrefix) || !strings.HasPrefix(tok.Value, tok.Token.Prefix) || len(tok.Token.Prefix) != len(auth.TokenPrefix)+6 {
		t.Fatalf("token %q prefix %q", tok.Value, tok.Token.Prefix)
	}
	p, err := svc.AuthenticateToken(ctx, tok.Value, "10.0.0.1")
	if err != nil || p.Username != "alice" || p.Via != "token:ci" || p.SourceAddr != "10.0.0.1" {
		t.Fatalf("fresh token: %+v %v", p, err)
	}
	if _, err := svc.CreateToken(ctx, alice, "", "ci", time.Hour); err == nil || errs.FieldOf(err) != "name" {
		t.Fatalf("duplicate token name: %v", err)
	}
	for _, c := range []struct {
		name    string
		expires time.Duration
		field   string
	}{
		{"", time.Hour, "name"},
		{strings.Repeat("n", 101), time.Hour, "name"},
		{"neg", -time.Hour, "expires"},
		{"long", 367 * 24 * time.Hour, "expires"},
	} {
		if _, err := svc.CreateToken(ctx, alice, "", c.name, c.expires); err == nil || errs.FieldOf(err) != c.field {
			t.Errorf("token %q expiring in %s: %v, want an error on %s", c.name, c.expires, err, c.field)
		}
	}
	if _, err := svc.CreateToken(ctx, access.Principal{Via: "web"}, "", "anon", time.Hour); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("token for nobody: %v", err)
	}
	forever, err := svc.CreateToken(ctx, alice, "", "forever", 0)
	if err != nil {
		t.Fatal(err)
	}

	env.Clock.Advance(time.Hour - time.Second)
	if _, err := svc.AuthenticateToken(ctx, tok.Value, ""); err != nil {
		t.Fatalf("token a second before expiry: %v", err)
	}
	env.Clock.Advance(time.Second)
	_, err = svc.AuthenticateToken(ctx, tok.Value, "")
	if !errs.Is(err, errs.Unauthorized) || !strings.Contains(errs.MessageOf(err), "expired") {
		t.Fatalf("expired token: %v", err)
	}
	env.Clock.Advance(10 * 365 * 24 * time.Hour)
	if _, err := svc.AuthenticateToken(ctx, forever.Value, ""); err != nil {
		t.Fatalf("token without expiry after 10 years: %v", err)
	}

	if err := svc.RevokeToken(ctx, alice, forever.Token.ID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.AuthenticateToken(ctx, forever.Value, "")
	if !errs.Is(err, errs.Unauthorized) || !strings.Contains(errs.MessageOf(err), "revoked") {
		t.Fatalf("revoked token: %v", err)
	}
	if err := svc.RevokeToken(ctx, alice, forever.Token.ID); !errs.Is(err, errs.Conflict) {
		t.Fatalf("revoking twice: %v", err)
	}
	// Another user cannot revoke alice's token, nor learn it exists.
	env.CreateUser("bob", false)
	other, _ := svc.CreateToken(ctx, alice, "", "other", time.Hour)
	if err := svc.RevokeToken(ctx, env.Principal("bob"), other.Token.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("bob revoking alice's token: %v", err)
	}
	if _, err := svc.AuthenticateToken(ctx, other.Value, ""); err != nil {
		t.Fatalf("alice's token after bob's attempt: %v", err)
	}

	for value, want := range map[string]string{
		"":                           "required",
		"Bearer-ish":                 "not valid",
		auth.TokenPrefix + "unknown": "not valid",
		tok.Value + "x":              "not valid",
	} {
		if _, err := svc.AuthenticateToken(ctx, value, ""); !errs.Is(err, errs.Unauthorized) || !strings.Contains(errs.MessageOf(err), want) {
			t.Errorf("token %q: %v, want %q", value, err, want)
		}
	}
	// Listing never includes the value.
	list, err := svc.ListTokens(ctx, alice)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	for _, l := range list {
		if strings.Contains(string(l.TokenHash), tok.Value) || strings.Contains(l.Prefix, tok.Value[len(tok.Token.Prefix):]) {
			t.Fatalf("listed token holds its value")
		}
	}
}

func TestTokenLastUsedWrittenAtMostOncePerMinute(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("alice", false)
	ctx := context.Background()
	svc := env.App.Auth
	alice := env.Principal("alice")
	tok, err := svc.CreateToken(ctx, alice, "", "ci", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		t.Helper()
		list, err := svc.ListTokens(ctx, alice)
		if err != nil || len(list) != 1 {
			t.Fatalf("list tokens: %v", err)
		}
		return list[0].LastUsedAt.Time
	}
	if !lastUsed().IsZero() {
		t.Fatalf("unused token has a last-used time")
	}
	t0 := env.Clock.Now()
	use := func() {
		t.Helper()
		if _, err := svc.AuthenticateToken(ctx, tok.Value, ""); err != nil {
			t.Fatal(err)
		}
	}
	use()
	if got := lastUsed(); !got.Equal(t0) {
		t.Fatalf("last used %v, want %v", got, t0)
	}
	env.Clock.Advance(30 * time.Second)
	use()
	env.Clock.Advance(29 * time.Second)
	use()
	if got := lastUsed(); !got.Equal(t0) {
		t.Fatalf("last used rewritten within a minute: %v", got)
	}
	env.Clock.Advance(time.Second)
	use()
	if got := lastUsed(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("last used after a minute: %v, want %v", got, t0.Add(time.Minute))
	}
}

func TestLastActiveAdminIsKept(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("root", true)
	env.CreateUser("ann", true)
	ctx := context.Background()
	svc := env.App.Auth
	root := env.Principal("root")
	if err := svc.SetDisabled(ctx, root, "root", true); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err), "your own account") {
		t.Fatalf("disable self: %v", err)
	}
	if err := svc.SetDisabled(ctx, root, "ann", true); err != nil {
		t.Fatalf("disable the other admin: %v", err)
	}
	// root is now the only active admin; nobody may remove that.
	operator := access.Principal{UserID: -1, Username: "operator", Admin: true, Via: "web"}
	for name, err := range map[string]error{
		"disable": svc.SetDisabled(ctx, operator, "root", true),
		"demote":  svc.SetAdmin(ctx, root, "root", false),
	} {
		if !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err), "last active administrator") {
			t.Errorf("%s the last admin: %v", name, err)
		}
	}
	u, err := svc.GetUser(ctx, root, "root")
	if err != nil || !u.IsAdmin || u.Disabled {
		t.Fatalf("root after refusals: %+v %v", u, err)
	}
	// A non-admin can do none of it.
	env.CreateUser("bob", false)
	bob := env.Principal("bob")
	if err := svc.SetAdmin(ctx, bob, "bob", true); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("bob makes himself admin: %v", err)
	}
	if _, err := svc.CreateUser(ctx, bob, "eve", "a long enough password", true); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("bob creates a user: %v", err)
	}
}

func TestLoginSessionAndLogout(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("alice", false)
	ctx := context.Background()
	svc := env.App.Auth
	sid, p, err := svc.Login(ctx, "alice", testenv.Password, "10.0.0.1")
	if err != nil || sid == "" || p.Username != "alice" {
		t.Fatalf("login: %q %+v %v", sid, p, err)
	}
	sid2, _, _ := svc.Login(ctx, "ALICE", testenv.Password, "10.0.0.1")
	if sid2 == "" || sid2 == sid {
		t.Fatalf("second login got session %q", sid2)
	}
	if got, err := svc.Session(ctx, sid, "10.0.0.1"); err != nil || got.Username != "alice" {
		t.Fatalf("session: %+v %v", got, err)
	}
	// The database stores only a hash of the session id.
	var n int
	if err := env.App.DB.Read.QueryRow("SELECT COUNT(*) FROM web_sessions WHERE id_hash = ?", []byte(sid)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("session id stored in clear: %d %v", n, err)
	}
	if err := svc.Logout(ctx, p, sid); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Session(ctx, sid, ""); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("session after logout: %v", err)
	}
	if _, err := svc.Session(ctx, sid2, ""); err != nil {
		t.Fatalf("logout ended the other session: %v", err)
	}
	for _, c := range []struct{ user, pw string }{{"alice", "wrong password"}, {"nobody", testenv.Password}} {
		if _, _, err := svc.Login(ctx, c.user, c.pw, "10.0.0.9"); err != auth.ErrBadCredentials {
			t.Errorf("login %s: %v", c.user, err)
		}
	}
}
