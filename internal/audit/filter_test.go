package audit_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
)

func TestParseFilterAcceptsDatesAndRFC3339(t *testing.T) {
	f, err := audit.ParseFilter(url.Values{
		"actor": {" alice "}, "action": {"project."}, "project": {"payments"}, "object": {"project/payments"},
		"from": {"2026-11-01"}, "to": {"2026-11-23"}, "page": {"3"}, "size": {"500"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := audit.Filter{Actor: "alice", Action: "project.", Project: "payments", Object: "project/payments",
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), Page: 3, Size: 500}
	if f.String() != want.String() || !f.From.Equal(want.From) || !f.To.Equal(want.To) || f.Page != 3 || f.Size != 500 {
		t.Fatalf("got %+v, want %+v", f, want)
	}
	// An RFC 3339 time is exact, in any zone; "to" stays exclusive.
	f, err = audit.ParseFilter(url.Values{"from": {"2026-11-23T10:00:00+01:00"}, "to": {"2026-11-23T09:30:00.5Z"}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.From.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) || !f.To.Equal(time.Date(2026, 11, 23, 9, 30, 0, 5e8, time.UTC)) {
		t.Fatalf("RFC 3339 range parsed as %s .. %s", f.From, f.To)
	}
	if f, err := audit.ParseFilter(url.Values{}); err != nil || f.Page != 0 || f.Size != 0 || f.String() != "" {
		t.Fatalf("empty filter: %+v, %v", f, err)
	}
}

func TestParseFilterNamesTheBadParameter(t *testing.T) {
	cases := []struct {
		query, field string
	}{
		{"from=yesterday", "from"},
		{"from=2026-13-01", "from"},
		{"to=23/11/2026", "to"},
		{"to=2026-11-23T09:00", "to"},
		{"page=0", "page"},
		{"page=-2", "page"},
		{"page=two", "page"},
		{"page=1.5", "page"},
		{"size=0", "size"},
		{"size=501", "size"},
		{"size=x", "size"},
		{"from=2026-11-23&to=2026-11-22", "to"},
	}
	for _, tc := range cases {
		v, _ := url.ParseQuery(tc.query)
		_, err := audit.ParseFilter(v)
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field || !strings.Contains(errs.MessageOf(err), tc.field) {
			t.Errorf("%s: got %v (field %q), want an Invalid error about %q", tc.query, err, errs.FieldOf(err), tc.field)
		}
	}
}
