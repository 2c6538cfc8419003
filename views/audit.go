package views

import (
	"net/url"
	"strconv"
	"time"
)

// AuditPage is the audit log: the filter form, one page of entries, the CSV
// download carrying the same filter and, for admins, the integrity check.
type AuditPage struct {
	Base
	Filter   Form     // the filter as typed, with a bad value's message beside its field
	Projects []string // the projects the user may audit, for the project filter
	Entries  []AuditRow
	Page     int
	HasNext  bool
	Verify   *AuditVerify // the integrity check's result, once one ran
}

func (AuditPage) Template() string { return "audit" }

// AuditFilterFields are the query parameters of the filter, which the pager
// and the CSV link carry over.
var AuditFilterFields = []string{"actor", "action", "project", "object", "from", "to", "size"}

// query returns the filter as query parameters.
func (p AuditPage) query() url.Values {
	v := url.Values{}
	for _, name := range AuditFilterFields {
		if s := p.Filter.Value(name); s != "" {
			v.Set(name, s)
		}
	}
	return v
}

// PageURL returns the address of page n of the same filter.
func (p AuditPage) PageURL(n int) string {
	v := p.query()
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "/audit"
	}
	return "/audit?" + v.Encode()
}

// CSVURL returns the address of the CSV export of the same filter (every
// page of it).
func (p AuditPage) CSVURL() string {
	v := p.query()
	v.Del("size")
	if len(v) == 0 {
		return "/audit.csv"
	}
	return "/audit.csv?" + v.Encode()
}

// AuditRow is one audit entry.
type AuditRow struct {
	ID          int64
	At          time.Time
	Actor       string
	Via         string
	Action      string
	Project     string
	Object      string
	Environment string
	SourceAddr  string
	Outcome     string // "success", "denied" or "failed"
	Detail      string
}

// OutcomeClass is the badge class that colours the outcome.
func (r AuditRow) OutcomeClass() string {
	switch r.Outcome {
	case "success":
		return "ok"
	case "denied":
		return "warn"
	}
	return "bad"
}

// AuditVerify is the result of checking the log's hash chain.
type AuditVerify struct {
	Intact  bool
	Entries int64 // entries checked
	BadID   int64 // the first entry that does not match
	Problem string
}
