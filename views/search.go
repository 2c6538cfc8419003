package views

import "github.com/keyward/keyward/internal/search"

// SearchPage lists the objects whose name contains the query, across the
// user's projects (the header's search box asks for it as a fragment).
type SearchPage struct {
	Base
	Query   string
	Error   string
	Results []search.Result
}

func (SearchPage) Template() string { return "search" }
