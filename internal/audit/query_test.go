package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/testenv"
)

// newTeam starts a Keyward with an admin (root), an auditor of "payments"
// (alice), a member of "payments" without AUDIT:VIEW (bob), and the projects
// payments and billing, all made through the services.
func newTeam(t *testing.T) *testenv.Env {
	t.Helper()
	env := testenv.New(t)
	env.CreateUser("root", true)
	env.CreateUser("alice", false)
	env.CreateUser("bob", false)
	for _, name := range []string{"payments", "billing"} {
		if _, err := env.App.Projects.Create(context.Background(), env.Principal("root"), name, ""); err != nil {
			t.Fatal(err)
		}
	}
	env.Grant("payments", "alice", access.Presets["auditor"]...)
	env.Grant("payments", "bob", access.SecretsView)
	return env
}

func projectsOf(p audit.Page) map[string]int {
	seen := map[string]int{}
	for _, e := range p.Entries {
		seen[e.Project]++
	}
	return seen
}

func TestQueryScopesReadersToTheirProjects(t *testing.T) {
	env := newTeam(t)
	ctx, log := context.Background(), env.App.Audit

	all, err := log.Query(ctx, env.Principal("root"), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if seen := projectsOf(all); seen["payments"] == 0 || seen["billing"] == 0 || seen[""] == 0 {
		t.Fatalf("admin sees projects %v, want payments, billing and instance-wide entries", seen)
	}
	mine, err := log.Query(ctx, env.Principal("alice"), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if seen := projectsOf(mine); len(seen) != 1 || seen["payments"] == 0 {
		t.Fatalf("alice sees projects %v, want only payments", seen)
	}
	if projects, _ := log.AuditableProjects(ctx, env.Principal("alice")); strings.Join(projects, ",") != "payments" {
		t.Fatalf("alice may audit %v", projects)
	}

	refusals := []struct {
		who     string
		f       audit.Filter
		code    errs.Code
		message string
	}{
		// Alice is no member of billing: it answers as if it did not exist.
		{"alice", audit.Filter{Project: "billing"}, errs.NotFound, `Project "billing" does not exist or you have no access to it.`},
		{"bob", audit.Filter{}, errs.Forbidden, "AUDIT:VIEW permission in at least one project"},
		{"bob", audit.Filter{Project: "payments"}, errs.Forbidden, `AUDIT:VIEW permission in project "payments"`},
		{"alice", audit.Filter{Project: "nope"}, errs.NotFound, `Project "nope" does not exist or you have no access to it.`},
		{"root", audit.Filter{Project: "nope"}, errs.NotFound, `Project "nope" does not exist.`},
		{"root", audit.Filter{Size: audit.MaxPageSize + 1}, errs.Invalid, "size must be"},
		{"root", audit.Filter{Page: -1}, errs.Invalid, "page must be"},
	}
	for _, r := range refusals {
		_, err := log.Query(ctx, env.Principal(r.who), r.f)
		if !errs.Is(err, r.code) || !strings.Contains(errs.MessageOf(err), r.message) {
			t.Errorf("%s %+v: got %v, want %s %q", r.who, r.f, err, r.code, r.message)
		}
	}
	if _, err := log.Query(ctx, access.Principal{}, audit.Filter{}); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("anonymous: got %v, want Unauthorized", err)
	}
}

func TestAdminReadsADeletedProjectsEntries(t *testing.T) {
	env := newTeam(t)
	ctx, root := context.Background(), env.Principal("root")
	if _, err := env.App.Projects.Create(ctx, root, "legacy", ""); err != nil {
		t.Fatal(err)
	}
	if err := env.App.Projects.Delete(ctx, root, "legacy"); err != nil {
		t.Fatal(err)
	}
	p, err := env.App.Audit.Query(ctx, root, audit.Filter{Project: "legacy"})
	if err != nil || len(p.Entries) != 2 || p.Entries[0].Action != "project.delete" {
		t.Fatalf("entries of the deleted project: %+v, %v", p.Entries, err)
	}
	if _, err := env.App.Audit.Query(ctx, env.Principal("alice"), audit.Filter{Project: "legacy"}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("alice reading a deleted project: %v, want NotFound", err)
	}
}

func TestQueryFiltersAndPages(t *testing.T) {
	env := newTeam(t)
	ctx, log, root := context.Background(), env.App.Audit, env.Principal("root")
	start := env.Clock.Now()
	for i, a := range []string{"key.create", "key.update", "key.create", "certificate.create", "key.delete"} {
		env.Clock.Advance(24 * time.Hour)
		e := audit.For(env.Principal("alice"), a)
		e.Project, e.Object = "payments", "key/k"+string(rune('0'+i))
		if err := log.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	day := func(n int) time.Time { return start.Add(time.Duration(n) * 24 * time.Hour) }
	count := func(f audit.Filter) int {
		t.Helper()
		p, err := log.Query(ctx, root, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Entries)
	}
	checks := []struct {
		name string
		f    audit.Filter
		want int
	}{
		{"actor", audit.Filter{Actor: "alice"}, 5},
		{"action", audit.Filter{Action: "key.create"}, 2},
		{"action prefix", audit.Filter{Action: "key."}, 4},
		{"object", audit.Filter{Object: "key/k3"}, 1},
		{"project and action", audit.Filter{Project: "payments", Action: "certificate.create"}, 1},
		{"from", audit.Filter{From: day(4)}, 2},
		{"to is exclusive", audit.Filter{Actor: "alice", To: day(2)}, 1},
		{"range", audit.Filter{From: day(2), To: day(4)}, 2},
		{"no match", audit.Filter{Actor: "alice", Action: "project.create"}, 0},
	}
	for _, c := range checks {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d entries, want %d", c.name, got, c.want)
		}
	}

	var ids []int64
	for page := 1; ; page++ {
		p, err := log.Query(ctx, env.Principal("alice"), audit.Filter{Actor: "alice", Page: page, Size: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			ids = append(ids, e.ID)
		}
		if !p.HasNext {
			if page != 3 || len(p.Entries) != 1 {
				t.Fatalf("last page is %d with %d entries, want page 3 with 1", page, len(p.Entries))
			}
			break
		}
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("pages are not newest first: %v", ids)
		}
	}
	if len(ids) != 5 {
		t.Fatalf("paging returned %d entries, want 5", len(ids))
	}
}
