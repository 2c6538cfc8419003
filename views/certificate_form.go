package views

import (
	"strings"
	"time"

	"github.com/keyward/keyward/internal/certs"
)

// CertificateFormPage is the certificate wizard (seed 001): the
// Definition, then the Configuration table, one row per environment
// entered in the "New Certificate Definition" dialog, then Save (on the
// edit page, Apply) or Save and Deploy.
type CertificateFormPage struct {
	Base
	Project      string
	Edit         bool
	CanDeploy    bool
	Form         Form
	Environments []string
	Configs      []CertConfigRow
	Dialog       CertConfigDialog
	RelatedJWKs  []string // edit: JWKs made from the certificate (the JWK Connection dialog)
}

func (CertificateFormPage) Template() string { return "certificate_form" }

// JWKConnection is the dialog "Save and Deploy" opens on the edit page of
// a certificate that JWKs are made from.
func (p CertificateFormPage) JWKConnection() ConfirmDialog {
	return JWKUpdateDialog("jwk-connection", "Certificate", p.Form.Value("name"), p.RelatedJWKs)
}

// CertConfigRow is one row of the certificate wizard's Configuration table.
// Its hidden inputs carry the configuration in the final post
// (configs[N].environment, …) and fill the dialog again on Edit.
type CertConfigRow struct {
	Index       int
	Environment string
	Source      string // URL, FILE or CLIPBOARD; API for one made through the API
	URL         string
	Alias       string
	Content     string // pasted text
	Encoding    string // BASE64 or BASE64PEM, for pasted text
	Chain       string // a fetched chain, PEM
	Upload      string // an applied file's bytes in base64
	FileName    string
	Password    string // an applied PKCS#12 file's password
	Pick        int    // which certificate of the content is stored
	// What the preview (or the stored configuration) says.
	Subject          string
	Issuer           string
	NotAfter         time.Time
	DaysLeft         int
	State            string // new, unchanged or replaced; "" when not checked
	DeployedRevision int64
	Existing         bool // stored in this environment: the dialog keeps the environment
	Form             Form // the wizard's errors, by field ("configs[1].content")
}

// RowIndex is the row's index, for NextIndex.
func (r CertConfigRow) RowIndex() int { return r.Index }

// Field names one input of the row, e.g. "configs[2].content".
func (r CertConfigRow) Field(name string) string { return "configs[" + itoa(r.Index) + "]." + name }

// ID is the row's element id.
func (r CertConfigRow) ID() string { return "config-" + itoa(r.Index) }

// SourceLabel names the source as the dialog's choices do.
func (r CertConfigRow) SourceLabel() string { return certSourceLabel(r.Source) }

// PostedSource is the source the row posts; a configuration made through
// the API, kept as it is, posts FILE without a file (the content is kept).
func (r CertConfigRow) PostedSource() string {
	switch r.Source {
	case "URL", "CLIPBOARD", "FILE":
		return r.Source
	}
	return "FILE"
}

// Expiry says how long the row's certificate has left.
func (r CertConfigRow) Expiry() Expiry { return Expiry{NotAfter: r.NotAfter, DaysLeft: r.DaysLeft} }

// HasError reports whether one of the row's fields has an error.
func (r CertConfigRow) HasError() bool {
	for _, f := range certRowFields {
		if r.Form.Error(r.Field(f)) != "" {
			return true
		}
	}
	return false
}

// Errors are the messages about the row's fields, in the order shown.
func (r CertConfigRow) Errors() []string {
	var out []string
	for _, f := range certRowFields {
		if m := r.Form.Error(r.Field(f)); m != "" {
			out = append(out, m)
		}
	}
	return out
}

var certRowFields = []string{"environmentName", "url", "content", "pick", "alias"}

// CertConfigDialog is the "New Certificate Definition" dialog: one
// environment's configuration. Apply posts it to the preview route, which
// answers the table row, or the fields again: with the message beside the
// field (422), or with the certificates the content holds to pick one.
// The URL's button posts to the fetch route, which answers the fields with
// the chain the server presented.
type CertConfigDialog struct {
	Project      string
	Certificate  string // edit: the certificate's name
	Index        int
	Replace      bool // editing row Index, not adding it
	Locked       bool // the certificate is stored in the environment, which cannot change
	Environment  string
	Source       string
	URL          string
	Alias        string
	Content      string
	Encoding     string
	Chain        string
	Upload       string
	FileName     string
	Password     string
	Pick         int
	Picked       bool // the user saw the certificates and picked one: Apply adds the row
	Environments []string
	Preview      *CertPreview // the content, parsed (after Preview, a fetch, or an Apply that needs a pick)
	Admin        bool         // may add a fetched CA to the environment's truststore
	Form         Form         // errors by dialog field: environment, url, content, pick, alias
}

// PKCS12 reports whether the applied file is a PKCS#12 file, whose
// password field shows.
func (d CertConfigDialog) PKCS12() bool { return IsPKCS12(d.FileName) }

// IsPKCS12 reports whether a file name is a PKCS#12 file's.
func IsPKCS12(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".p12") || strings.HasSuffix(n, ".pfx")
}

// CertPreview is the dialog's Content: every certificate the input holds
// (leaf first for a chain), which one is picked, and the chain analysis of
// the picked one against the environment's truststore.
type CertPreview struct {
	Certificates []certs.Details
	Pick         int
	Notice       string
	Analysis     certs.Analysis
	State        string
	Fetched      string          // the host the chain was fetched from, for a URL
	TrustEnv     string          // the environment a CA of the chain can be trusted in ("" without one)
	InTruststore map[string]bool // SHA-256s of TrustEnv's added CAs: those are trusted already
}

// Picked is the picked certificate's details.
func (p CertPreview) Picked() certs.Details {
	if p.Pick >= 0 && p.Pick < len(p.Certificates) {
		return p.Certificates[p.Pick]
	}
	return certs.Details{}
}

// CertConfigRowPage is the preview route's answer: the checked row. Alone
// (not an htmx request) it is shown in a table of its own.
type CertConfigRowPage struct {
	Base
	Row        CertConfigRow
	Standalone bool
}

func (CertConfigRowPage) Template() string { return "certificate_config_row" }

// CertConfigDialogPage is the preview and fetch routes' answer when the
// dialog stays open: its fields with a message, or with the content.
type CertConfigDialogPage struct {
	Base
	Dialog     CertConfigDialog
	Standalone bool
}

func (CertConfigDialogPage) Template() string { return "certificate_config_dialog" }

// TrustResultPage answers the wizard's "Trust this CA": a sentence in
// place of the button.
type TrustResultPage struct {
	Base
	OK      bool
	Message string
}

func (TrustResultPage) Template() string { return "truststore_trust_result" }
