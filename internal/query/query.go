// Package query reads the query parameters list pages and list API routes
// share (date ranges, paging), with errors that name the parameter.
package query

import (
	"strconv"
	"time"

	"github.com/keyward/keyward/internal/errs"
)

// Time parses a date (2026-11-23) or an RFC 3339 time; "" is the zero time.
// A date ending a range (end) moves to the start of the next day, because
// the range's end is exclusive: "to=2026-11-30" includes the 30th.
func Time(name, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, errs.FieldErrorf(name,
		"%s %q is not a time: %s must be a date such as 2026-11-23 or an RFC 3339 time such as 2026-11-23T09:00:00Z.", name, s, name)
}

// Count parses a whole number from 1 to max (no bound when max is 0); ""
// gives def.
func Count(name, s string, def, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || max > 0 && n > max {
		if max > 0 {
			return 0, errs.FieldErrorf(name, "%s must be a whole number from 1 to %d.", name, max)
		}
		return 0, errs.FieldErrorf(name, "%s must be a whole number of at least 1.", name)
	}
	return n, nil
}
