package views

import (
	"time"

	"github.com/keyward/keyward/internal/certs"
)

// CertTabs are the Certificates screen's tabs: "Certificates" (the list)
// and "Truststore".
type CertTabs struct {
	Project string
	Active  string // "certificates" or "truststore"
}

// Tabs gives the list its tab bar.
func (p CertificateListPage) Tabs() CertTabs {
	return CertTabs{Project: p.Project, Active: "certificates"}
}

// Tabs gives the truststore its tab bar.
func (p TruststorePage) Tabs() CertTabs { return CertTabs{Project: p.Project, Active: "truststore"} }

// TruststorePage is the Certificates screen's second tab: one
// environment's truststore, the CAs added to it and the built-in roots,
// with the admins' forms (add, remove, leave the built-in roots out) and
// the export.
type TruststorePage struct {
	Base
	Project      string
	Environments []string
	Environment  string // "" when there is none
	Revision     int64
	BuiltinRoots bool
	Added        []TrustedCA
	BuiltIn      []TrustedCA
	BuiltInAll   int // the built-in roots before the search
	Search       string
	Certificates []TrustSource // this project's certificates in the environment, to add as a CA
	AddForm      Form
	ExportForm   Form
}

func (TruststorePage) Template() string { return "truststore" }

// TrustedCA is one CA of a truststore.
type TrustedCA struct {
	SHA256    string
	Alias     string
	Subject   string
	Source    string
	AddedBy   string
	CreatedAt time.Time
	Details   certs.Details
}

// Expiry says how long the CA has left.
func (c TrustedCA) Expiry() Expiry { return ExpiryOf(c.Details) }

// SourceLabel says how the CA was added.
func (c TrustedCA) SourceLabel() string {
	if c.Source == "CERTIFICATE" {
		return "a certificate of a project"
	}
	return certSourceLabel(c.Source)
}

// RemoveDialog asks for the CA's alias before removing it.
func (p TruststorePage) RemoveDialog(i int) ConfirmDialog {
	c := p.Added[i]
	d := DeleteDialog("ca-remove-"+itoa(i), "CA", c.Alias, "/projects/"+p.Project+"/certificates/truststore/cas/"+c.SHA256+"/remove", p.CSRF,
		"Removing "+c.Subject+" from the truststore of "+p.Environment+" deploys the change: its gateways stop trusting chains it anchors.")
	d.Title, d.Submit.Label, d.Typed = "Remove CA", "Remove", "alias"
	d.Hidden = map[string]string{"environment": p.Environment}
	return d
}

// TrustSource is a certificate of the project that can be added as a CA.
type TrustSource struct {
	Name    string
	Subject string
}

// ExportFormats are the truststore's export formats.
func (TruststorePage) ExportFormats() [][2]string {
	return [][2]string{{"pem", "PEM bundle"}, {"jks", "JKS"}, {"p12", "PKCS#12"}}
}
