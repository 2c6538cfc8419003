package audit

import (
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/query"
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
	if f.From, err = query.Time("from", get("from"), false); err != nil {
		return f, err
	}
	if f.To, err = query.Time("to", get("to"), true); err != nil {
		return f, err
	}
	if f.Page, err = query.Count("page", get("page"), 0, 0); err != nil {
		return f, err
	}
	if f.Size, err = query.Count("size", get("size"), 0, MaxPageSize); err != nil {
		return f, err
	}
	return f, f.validate()
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
