package audit

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/errs"
)

// ParseFilter reads a Filter from the query parameters the web page, the
// CSV export and the API share: actor, action, project, object, from, to,
// page and size. A date (2026-11-23) in "from" means the start of that day
// and in "to" the end of it, so from=to=2026-11-23 is the whole day; an RFC
// 3339 time is taken as it is. A bad value is an Invalid error naming the
// parameter.
func ParseFilter(v url.Values) (Filter, error) {
	get := func(name string) string { return strings.TrimSpace(v.Get(name)) }
	f := Filter{Actor: get("actor"), Action: get("action"), Project: get("project"), Object: get("object")}
	var err error
	if f.From, err = parseTime("from", get("from"), false); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", get("to"), true); err != nil {
		return f, err
	}
	if f.Page, err = parsePositive("page", get("page"), 0); err != nil {
		return f, err
	}
	if f.Size, err = parsePositive("size", get("size"), MaxPageSize); err != nil {
		return f, err
	}
	return f, f.validate()
}

// parseTime parses a date or an RFC 3339 time; a date given as the end of a
// range moves to the start of the next day, because To is exclusive.
func parseTime(name, s string, end bool) (time.Time, error) {
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
		"%s must be a date such as 2026-11-23 or an RFC 3339 time such as 2026-11-23T09:00:00Z; %q is neither.", name, s)
}

// parsePositive parses a whole number of at least 1 (and at most max when
// max > 0); "" gives 0, which means the default.
func parsePositive(name, s string, max int) (int, error) {
	if s == "" {
		return 0, nil
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

// validate checks what ParseFilter cannot see in one parameter, and the
// paging of a Filter built in code. Zero Page and Size mean the defaults.
func (f Filter) validate() error {
	if f.Page < 0 {
		return errs.FieldErrorf("page", "page must be a whole number of at least 1.")
	}
	if f.Size < 0 || f.Size > MaxPageSize {
		return errs.FieldErrorf("size", "size must be a whole number from 1 to %d.", MaxPageSize)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return errs.FieldErrorf("to", "to must be later than from.")
	}
	return nil
}

// String describes the filter's conditions, for the audit entry of an
// export ("project=payments action=key."); "" when it has none.
func (f Filter) String() string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	add("actor", f.Actor)
	add("action", f.Action)
	add("project", f.Project)
	add("object", f.Object)
	if !f.From.IsZero() {
		add("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		add("to", f.To.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, " ")
}
