package views

import "time"

// KeyListPage lists a project's keys with server-side search, filters and
// paging.
type KeyListPage struct {
	Base
	Project      string
	CanManage    bool
	Filter       KeyFilter
	Keys         []KeyRow
	Environments []string
	Pager
}

func (KeyListPage) Template() string { return "keys" }

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

// ShortFingerprint abbreviates a fingerprint (64 hex digits) for tables.
func (r KeyEnvRow) ShortFingerprint() string {
	if len(r.Fingerprint) > 16 {
		return r.Fingerprint[:16] + "…"
	}
	return r.Fingerprint
}

// KeyFormPage is the create and edit wizard (seed 000): the Definition,
// then the Configuration table, one row per environment entered in the
// configuration dialog, then Save or Save and Deploy.
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
	Dialog       KeyConfigDialog
	RelatedJWKs  []string // edit: JWKs made from the key (the JWK Connection dialog)
}

func (KeyFormPage) Template() string { return "key_form" }

// JWKConnection is the dialog "Save and Deploy" opens on the edit page of
// a key that JWKs are made from.
func (p KeyFormPage) JWKConnection() ConfirmDialog {
	return JWKUpdateDialog("jwk-connection", "Key", p.Form.Value("name"), p.RelatedJWKs)
}

// KeyConfigRow is one row of the wizard's Configuration table: an
// environment's configuration as applied in the dialog, or as stored on
// the edit page. Its hidden inputs carry it in the wizard's final post
// under the names the handler reads (configs[N].environment, …).
type KeyConfigRow struct {
	Index            int
	Environment      string
	Source           string // FILE or CLIPBOARD; API for a configuration made through the API
	Alias            string
	Content          string // pasted text, carried to the save
	Upload           string // an applied file's bytes in base64, carried to the save
	FileName         string
	State            string // new, unchanged or replaced; "" when not checked
	Format           string
	Bits             int
	Curve            string
	Fingerprint      string
	Warning          string
	DeployedRevision int64
	Existing         bool // the key has material in this environment: the dialog keeps the environment
	Form             Form // the wizard's errors, by field ("configs[1].content")
}

// RowIndex is the row's index, for NextIndex.
func (r KeyConfigRow) RowIndex() int { return r.Index }

// Field names one input of the row, e.g. "configs[2].content".
func (r KeyConfigRow) Field(name string) string {
	return "configs[" + itoa(r.Index) + "]." + name
}

// ID is the row's element id.
func (r KeyConfigRow) ID() string { return "config-" + itoa(r.Index) }

// PostedSource is the source the row posts: CLIPBOARD or FILE (a stored
// configuration whose material is kept posts FILE without a file).
func (r KeyConfigRow) PostedSource() string {
	if r.Source == "CLIPBOARD" {
		return r.Source
	}
	return "FILE"
}

// SourceLabel names the source as the dialog's choices do.
func (r KeyConfigRow) SourceLabel() string {
	switch r.Source {
	case "CLIPBOARD":
		return "Paste from Clipboard"
	case "FILE":
		return "Import from File"
	}
	return r.Source
}

// HasError reports whether one of the row's fields has an error.
func (r KeyConfigRow) HasError() bool {
	for _, f := range []string{"environmentName", "content", "alias"} {
		if r.Form.Error(r.Field(f)) != "" {
			return true
		}
	}
	return false
}

// KeyConfigDialog is the dialog where one environment's configuration is
// entered. Apply posts it, with the definition's type and algorithm, to the
// preview route, which answers the table row or the dialog again with the
// message beside the field.
type KeyConfigDialog struct {
	Project      string
	Key          string // edit: the key's name
	Index        int    // the row the dialog fills
	Replace      bool   // editing row Index, not adding it
	Locked       bool   // the key has material in the environment, which cannot change
	Environment  string
	Source       string
	Alias        string
	Content      string
	Upload       string // a file applied before, base64
	FileName     string
	Environments []string
	Form         Form // errors by dialog field: environment, content, alias
}

// KeyConfigRowPage is the preview route's answer: the checked row. Alone
// (not an htmx request) it is shown in a table of its own.
type KeyConfigRowPage struct {
	Base
	Row        KeyConfigRow
	Standalone bool
}

func (KeyConfigRowPage) Template() string { return "key_config_row" }

// KeyConfigDialogPage is the preview route's answer to a configuration
// that does not pass: the dialog's fields with the message beside one.
type KeyConfigDialogPage struct {
	Base
	Dialog     KeyConfigDialog
	Standalone bool
}

func (KeyConfigDialogPage) Template() string { return "key_config_dialog" }

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
	Project   string
	Key       KeyRow
	CanManage bool
	CanDeploy bool
	JWKs      []string
	History   []AuditRow
}

func (KeyPage) Template() string { return "key" }

// DeleteDialog is the key's Delete: the JWK Connection choice when JWKs
// are made from it, then the typed name.
func (p KeyPage) DeleteDialog() ConfirmDialog {
	return JWKDeleteDialog("key-delete", "Key", p.Key.Name, "/projects/"+p.Project+"/keys/"+p.Key.Name+"/delete", p.CSRF, p.JWKs)
}
