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

// SourceLink is the address of the JWK's source: a key's or a
// certificate's page.
func (r JWKRow) SourceLink(project string) string {
	if r.SourceType == "CERTIFICATE" {
		return "/projects/" + project + "/certificates/" + r.SourceName
	}
	return "/projects/" + project + "/keys/" + r.SourceName
}

// SourceNoun is "key" or "certificate".
func (r JWKRow) SourceNoun() string {
	if r.SourceType == "CERTIFICATE" {
		return "certificate"
	}
	return "key"
}

// JWKEnvRow is a JWK in one environment.
type JWKEnvRow struct {
	Environment      string
	Kid              string
	JSON             string // pretty public JSON; "" for a secret JWK
	DeployedRevision int64
	JWKSURL          string
}

// JWKFormPage creates a JWK from a key or a certificate.
type JWKFormPage struct {
	Base
	Project     string
	CanDeploy   bool
	SourceType  string   // KEY or CERTIFICATE
	SourceTypes []string // the choices
	Sources     []JWKSourceKey
	Form        Form
	Chosen      []string // environments ticked
	Uses        []string
	Algs        []string // the algorithms that fit the chosen source and use
}

func (JWKFormPage) Template() string { return "jwk_form" }

// FromCertificate reports whether the JWK is made from a certificate.
func (p JWKFormPage) FromCertificate() bool { return p.SourceType == "CERTIFICATE" }

// JWKSourceKey is a key or certificate a JWK can be made from, with its
// environments.
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
