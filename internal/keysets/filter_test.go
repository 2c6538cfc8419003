package keysets_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keysets"
)

// TestParseFilterDatesIncludeTheLastDay: a date ending a range moves to the
// next midnight (To is exclusive), an RFC 3339 time is taken as it is, the
// defaults are page 1 of 50, and a bad value names its parameter.
func TestParseFilterDatesIncludeTheLastDay(t *testing.T) {
	f, err := keysets.ParseFilter(url.Values{"expiresFrom": {"2026-11-23"}, "expiresTo": {"2026-11-30"}, "createdTo": {"2026-11-23T10:00:00+01:00"},
		"status": {" ACTIVE "}, "search": {"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	if !f.ExpiresFrom.Equal(day(23)) || !f.ExpiresTo.Equal(day(31)) || !f.CreatedTo.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("times %v %v %v", f.ExpiresFrom, f.ExpiresTo, f.CreatedTo)
	}
	if f.Status != "ACTIVE" || f.Search != "shop" || f.Page != 1 || f.Size != 50 {
		t.Errorf("filter %+v", f)
	}
	for name, v := range map[string]url.Values{
		"rotatedFrom": {"rotatedFrom": {"yesterday"}},
		"page":        {"page": {"0"}},
		"size":        {"size": {"201"}},
	} {
		_, err := keysets.ParseFilter(v)
		if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != name {
			t.Errorf("%v: %v (field %q)", v, err, errs.FieldOf(err))
		}
	}
}
