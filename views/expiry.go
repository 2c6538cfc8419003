package views

import (
	"net/url"
	"strconv"
	"time"
)

// ExpiryPage is the expiry overview: everything the user may see that has
// an end date, soonest first, with filters, paging and a CSV download.
type ExpiryPage struct {
	Base
	Filter       Form
	Types        []Option // the type filter's choices
	Projects     []string
	Environments []string
	Items        []ExpiryRow
	Pager        // the page, the total and the paging links (with the filter)
	Now          time.Time
}

func (ExpiryPage) Template() string { return "expiring" }

// Option is a choice of a select.
type Option struct{ Value, Label string }

// ExpiryFilterFields are the filter's query parameters, which the pager,
// the sort links and the CSV link carry over.
var ExpiryFilterFields = []string{"within", "status", "type", "project", "environment", "sort", "size"}

// ExpiryRow is one object's end date.
type ExpiryRow struct {
	Type, TypeLabel      string
	Project, Environment string
	Name, Detail         string
	At                   time.Time
	DaysLeft             int
	Status               string // expired, critical, warning, ok
	Link, Next           string
}

// DaysText says the days left in words: whole days, so "3 d" is three to
// four days away and "expired 2 d ago" two to three days past.
func (r ExpiryRow) DaysText() string {
	switch {
	case r.Status == "expired" && r.DaysLeft == -1:
		return "expired < 1 d ago"
	case r.Status == "expired":
		return "expired " + strconv.Itoa(-r.DaysLeft-1) + " d ago"
	case r.DaysLeft == 0:
		return "< 1 d"
	}
	return strconv.Itoa(r.DaysLeft) + " d"
}

// StatusClass is the badge class colouring the days left.
func (r ExpiryRow) StatusClass() string {
	switch r.Status {
	case "expired", "critical":
		return "bad"
	case "warning":
		return "warn"
	}
	return "ok"
}

// query is the filter as typed; the handler builds the Pager from the same
// fields (ExpiryFilters).
func (p ExpiryPage) query() url.Values {
	v := url.Values{}
	for _, name := range ExpiryFilterFields {
		if s := p.Filter.Value(name); s != "" {
			v.Set(name, s)
		}
	}
	return v
}

// SortURL returns the address sorting by key, or by its reverse when the
// page is already sorted by key.
func (p ExpiryPage) SortURL(key string) string {
	v := p.query()
	cur := v.Get("sort")
	if cur == "" {
		cur = "date"
	}
	if cur == key {
		key = "-" + key
	}
	v.Set("sort", key)
	return withQuery("/expiring", v)
}

// SortMark is the arrow beside the column the page is sorted by.
func (p ExpiryPage) SortMark(key string) string {
	cur := p.Filter.Value("sort")
	if cur == "" {
		cur = "date"
	}
	switch cur {
	case key:
		return " ↑"
	case "-" + key:
		return " ↓"
	}
	return ""
}

// CSVURL is the CSV download of the same filter (every page).
func (p ExpiryPage) CSVURL() string {
	v := p.query()
	v.Del("size")
	return withQuery("/expiring.csv", v)
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}
