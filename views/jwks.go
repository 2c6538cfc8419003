package views

import "time"

// JWKListPage lists a project's JWKs.
type JWKListPage struct {
	Base
	Project   string
	CanManage bool
	JWKs      []JWKRow
}

func (JWKListPage) Template() string { return "jwks" }

// JWKRow is a JWK in a list or on its page.
type JWKRow struct {
	Name         string
	SourceType   string
	SourceName   string
	Connected    bool
	Use          string
	Alg          string
	Secret       bool
	UpdatedAt    time.Time
	Environments []JWKEnvRow
}

// JWKEnvRow is a JWK in one environment.
type JWKEnvRow struct {
	Environment      string
	Kid              string
	JSON             string // pretty public JSON; "" for a secret JWK
	DeployedRevision int64
	JWKSURL          string
}

// JWKFormPage creates a JWK from a key.
type JWKFormPage struct {
	Base
	Project   string
	CanDeploy bool
	Keys      []JWKSourceKey
	Form      Form
	Chosen    []string // environments ticked
	Uses      []string
	Algs      []string // the algorithms that fit the chosen key and use
}

func (JWKFormPage) Template() string { return "jwk_form" }

// JWKSourceKey is a key a JWK can be made from, with its environments.
type JWKSourceKey struct {
	Name         string
	Label        string
	Environments []string
}

// JWKPage shows one JWK: its source (or "disconnected"), and per
// environment the public JSON with a copy button and the JWKS URL.
type JWKPage struct {
	Base
	Project   string
	JWK       JWKRow
	CanDeploy bool
}

func (JWKPage) Template() string { return "jwk" }

// DeleteDialog is the JWK's Delete: the typed name.
func (p JWKPage) DeleteDialog() ConfirmDialog {
	return DeleteDialog("jwk-delete", "JWK", p.JWK.Name, "/projects/"+p.Project+"/jwks/"+p.JWK.Name+"/delete", p.CSRF,
		"Deleting removes the JWK from every environment's JWKS.")
}
