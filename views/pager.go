package views

import (
	"html/template"
	"net/url"
	"strconv"
)

// Pager is a paged list's position and the filters its links keep: the
// key list and the certificate list share it.
type Pager struct {
	Total       int64
	Page, Pages int
	QueryString string // the filters, for paging links
}

// NewPager places page (of size items) in a list of total items; filters
// are kept in the links, empty values left out.
func NewPager(total int64, page, size int, filters map[string]string) Pager {
	q := url.Values{}
	for k, v := range filters {
		if v != "" {
			q.Set(k, v)
		}
	}
	return Pager{Total: total, Page: page, Pages: max(1, int((total+int64(size)-1)/int64(size))), QueryString: q.Encode()}
}

// PageLink is the relative URL of page n with the filters in force. It is
// a template.URL so that html/template keeps the query's "=" and "&" (it
// would percent-encode them in a query string it cannot trust, and the
// filters would be lost when paging); QueryString comes from url.Values.
func (p Pager) PageLink(n int) template.URL {
	q := "?"
	if p.QueryString != "" {
		q += p.QueryString + "&"
	}
	return template.URL(q + "page=" + strconv.Itoa(n))
}
