package views

import (
	"html/template"
	"strconv"
	"time"
)

// KeyListPage lists a project's keys with server-side search, filters and
// paging.
type KeyListPage struct {
	Base
	Project      string
	CanManage    bool
	Filter       KeyFilter
	Keys         []KeyRow
	Total        int64
	Page, Pages  int
	Environments []string
	QueryString  string // the filters, for paging links
}

func (KeyListPage) Template() string { return "keys" }

// PageLink is the relative URL of page n with the filters in force. It is
// a template.URL so that html/template keeps the query's "=" and "&" (it
// would percent-encode them in a query string it cannot trust, and the
// filters would be lost when paging); QueryString comes from url.Values.
func (p KeyListPage) PageLink(n int) template.URL {
	q := "?"
	if p.QueryString != "" {
		q += p.QueryString + "&"
	}
	return template.URL(q + "page=" + strconv.Itoa(n))
}

// KeyFilter is the list's filter form.
type KeyFilter struct {
	Search, Type, Algorithm, Environment string
}

// KeyRow is one key in the list.
type KeyRow struct {
	Name         string
	Description  string
	Type         string
	Algorithm    string
	Environments []KeyEnvRow
	UpdatedAt    time.Time
}

// KeyEnvRow is a key's state in one environment.
type KeyEnvRow struct {
	Environment      string
	Alias            string
	Source           string
	FileName         string
	Format           string
	Bits             int64
	Curve            string
	Fingerprint      string
	Warning          string
	DeployedRevision int64
	Changed          bool
}

// ShortFingerprint abbreviates a SHA-256 fingerprint for tables.
func (r KeyEnvRow) ShortFingerprint() string {
	if len(r.Fingerprint) > 16 {
		return r.Fingerprint[:16] + "…"
	}
	return r.Fingerprint
}

// KeyFormPage is the create and edit wizard: definition, configuration per
// environment, then Save or Save and Deploy.
type KeyFormPage struct {
	Base
	Project      string
	Edit         bool
	CanDeploy    bool
	Form         Form
	Types        []string
	Algorithms   []string
	Environments []string
	Configs      []KeyConfigRow
	RelatedJWKs  []string // edit: JWKs made from the key (the JWK Connection dialog)
}

func (KeyFormPage) Template() string { return "key_form" }

// NextIndex is the index "Add environment" gives the next row: one past
// the highest, since a re-shown form may have gaps where rows were removed.
func (p KeyFormPage) NextIndex() int {
	n := 0
	for _, r := range p.Configs {
		n = max(n, r.Index+1)
	}
	return n
}

// KeyConfigRow is one configuration row of the wizard.
type KeyConfigRow struct {
	Index        int
	Environment  string
	Source       string // FILE or CLIPBOARD
	Content      string // pasted text, kept when the form is re-shown
	FileName     string // the file uploaded in a post that is shown again
	Alias        string
	Existing     bool   // edit: the environment already has material
	Fingerprint  string // edit: the current material's fingerprint
	Environments []string
	Form         Form
}

// Field names one input of the row, e.g. "configs[2].content".
func (r KeyConfigRow) Field(name string) string {
	return "configs[" + itoa(r.Index) + "]." + name
}

// KeyConfigRowPage renders a single empty configuration row (the wizard's
// "Add environment" button fetches it).
type KeyConfigRowPage struct {
	Base
	Row KeyConfigRow
}

func (KeyConfigRowPage) Template() string { return "key_config_row" }

// AlgorithmFieldPage renders the algorithm select for a key type.
type AlgorithmFieldPage struct {
	Base
	Algorithms []string
	Selected   string
}

func (AlgorithmFieldPage) Template() string { return "key_algorithm" }

// KeyPage shows a key: definition, configurations and their deployment,
// related JWKs, its audit history, and the edit/delete actions.
type KeyPage struct {
	Base
	Project    string
	Key        KeyRow
	CanManage  bool
	CanDeploy  bool
	JWKs       []string
	History    []AuditRow
	DeleteForm Form
}

func (KeyPage) Template() string { return "key" }
