package keysets

import (
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/query"
)

// FilterFields are the query parameters ParseFilter reads, in the order
// the list's form shows them (the REST API takes the same names).
var FilterFields = []string{"search", "status", "authType", "api", "environment", "organization", "group", "application",
	"expiresFrom", "expiresTo", "createdFrom", "createdTo", "rotatedFrom", "rotatedTo", "page", "size"}

// ParseFilter reads the list's filters from query parameters, as the
// REST API and the Keys page send them. Times are RFC 3339 or dates; a
// date ending a range (expiresTo, createdTo, rotatedTo) includes that day,
// as the audit log's filter does, because a To time is exclusive.
func ParseFilter(v url.Values) (Filter, error) {
	get := func(name string) string { return strings.TrimSpace(v.Get(name)) }
	f := Filter{Search: get("search"), Status: get("status"), AuthType: get("authType"), API: get("api"), Environment: get("environment"),
		Organization: get("organization"), Group: get("group"), Application: get("application")}
	var err error
	for _, t := range []struct {
		name string
		end  bool
		to   *time.Time
	}{{"expiresFrom", false, &f.ExpiresFrom}, {"expiresTo", true, &f.ExpiresTo}, {"createdFrom", false, &f.CreatedFrom},
		{"createdTo", true, &f.CreatedTo}, {"rotatedFrom", false, &f.RotatedFrom}, {"rotatedTo", true, &f.RotatedTo}} {
		if *t.to, err = query.Time(t.name, get(t.name), t.end); err != nil {
			return f, err
		}
	}
	if f.Page, err = query.Count("page", get("page"), 1, 1_000_000); err != nil {
		return f, err
	}
	f.Size, err = query.Count("size", get("size"), 50, MaxPageSize)
	return f, err
}
