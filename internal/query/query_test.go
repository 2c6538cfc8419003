package query

import (
	"testing"
	"time"

	"github.com/keyward/keyward/internal/errs"
)

func TestTimeAndCount(t *testing.T) {
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if got, err := Time("to", "2026-11-30", true); err != nil || !got.Equal(day.AddDate(0, 0, 1)) {
		t.Errorf("a date ending a range: %v %v, want the next midnight", got, err)
	}
	if got, err := Time("from", "2026-11-30", false); err != nil || !got.Equal(day) {
		t.Errorf("a date starting a range: %v %v", got, err)
	}
	if got, err := Time("from", "2026-11-30T10:00:00+02:00", false); err != nil || !got.Equal(day.Add(8*time.Hour)) || got.Location() != time.UTC {
		t.Errorf("an RFC 3339 time: %v %v, want it in UTC", got, err)
	}
	if _, err := Time("to", "tomorrow", true); errs.FieldOf(err) != "to" {
		t.Errorf("a bad time: %v, want a field error on to", err)
	}
	for _, c := range []struct {
		s        string
		def, max int
		want     int
		ok       bool
	}{{"", 50, 500, 50, true}, {"500", 50, 500, 500, true}, {"501", 50, 500, 0, false}, {"0", 50, 500, 0, false},
		{"ten", 50, 500, 0, false}, {"999999", 0, 0, 999999, true}} {
		got, err := Count("size", c.s, c.def, c.max)
		if got != c.want || (err == nil) != c.ok || !c.ok && errs.FieldOf(err) != "size" {
			t.Errorf("Count(%q, %d, %d) = %d, %v", c.s, c.def, c.max, got, err)
		}
	}
}
