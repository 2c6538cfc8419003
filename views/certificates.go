package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/certs"
)

// ExpiringSoon is how many days before its end a certificate is shown as
// expiring (the list's amber colour).
const ExpiringSoon = 30

// CertificateListPage is the Certificates screen's first tab: a project's
// certificates with server-side search, filters and paging.
type CertificateListPage struct {
	Base
	Project      string
	CanManage    bool
	Filter       CertificateFilter
	Certificates []CertificateRow
	Environments []string
	Pager
}

func (CertificateListPage) Template() string { return "certificates" }

// CertificateFilter is the list's filter form. Expiry is "", "7", "30",
// "90" (days) or "expired".
type CertificateFilter struct {
	Search, Environment, Expiry string
}

// Any reports whether a filter is in force.
func (f CertificateFilter) Any() bool { return f.Search != "" || f.Environment != "" || f.Expiry != "" }

// ExpiryChoices are the expiry filter's options: value and label.
var ExpiryChoices = [][2]string{{"", "Any expiry"}, {"7", "Expiring within 7 days"}, {"30", "Expiring within 30 days"},
	{"90", "Expiring within 90 days"}, {"expired", "Expired"}}

// ExpiryChoices lists the expiry filter's options for the template.
func (CertificateListPage) ExpiryChoices() [][2]string { return ExpiryChoices }

// CertificateRow is a certificate in the list or on its page.
type CertificateRow struct {
	Name         string
	Description  string
	UpdatedAt    time.Time
	Environments []CertEnvRow
}

// CertEnvRow is a certificate's configuration in one environment. Details,
// Chain and Analysis are filled on the certificate's page only.
type CertEnvRow struct {
	Environment      string
	Alias            string
	Source           string
	SourceURL        string
	FileName         string
	Subject          string
	Issuer           string
	Serial           string
	NotBefore        time.Time
	NotAfter         time.Time
	DaysLeft         int
	SHA1             string
	SHA256           string
	DeployedRevision int64
	Changed          bool
	Details          *certs.Details
	Chain            []certs.Details
	Analysis         *certs.Analysis
}

// Expiry says how long the certificate has left.
func (r CertEnvRow) Expiry() Expiry { return Expiry{NotAfter: r.NotAfter, DaysLeft: r.DaysLeft} }

// SourceLabel names where the certificate came from, as the wizard's
// choices do.
func (r CertEnvRow) SourceLabel() string { return certSourceLabel(r.Source) }

// Expiry is a certificate's end of validity as the pages show it: the date,
// the days left and a colour (bad once expired, warn within ExpiringSoon
// days).
type Expiry struct {
	NotAfter time.Time
	DaysLeft int
}

// Class is the badge class for the days left.
func (e Expiry) Class() string {
	switch {
	case e.DaysLeft < 0:
		return "bad"
	case e.DaysLeft <= ExpiringSoon:
		return "warn"
	}
	return "ok"
}

// Label says it in words: "expired 3 days ago", "expires today", "12 days
// left". DaysLeft counts whole days down (-1 within a day of the end), so
// a certificate that ended N and a half days ago has -N-1 and "expired N
// days ago".
func (e Expiry) Label() string {
	switch {
	case e.DaysLeft == -2:
		return "expired 1 day ago"
	case e.DaysLeft < -2:
		return fmt.Sprintf("expired %d days ago", -e.DaysLeft-1)
	case e.DaysLeft < 0:
		return "expired"
	case e.DaysLeft == 0:
		return "expires today"
	case e.DaysLeft == 1:
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", e.DaysLeft)
}

// Of is the Expiry of parsed certificate details, for the templates.
func ExpiryOf(d certs.Details) Expiry { return Expiry{NotAfter: d.NotAfter, DaysLeft: d.DaysLeft} }

func certSourceLabel(source string) string {
	switch source {
	case "URL":
		return "Receive via HTTPS/LDAPS Connection"
	case "FILE":
		return "Import from File"
	case "CLIPBOARD":
		return "Paste from Clipboard"
	}
	return source
}

// CertificatePage shows one certificate: each environment's parsed
// content, chain and analysis, deploy and export per environment, related
// JWKs, history, Edit and Delete.
type CertificatePage struct {
	Base
	Project     string
	Certificate CertificateRow
	CanManage   bool
	CanDeploy   bool
	JWKs        []string
	History     []AuditRow
}

func (CertificatePage) Template() string { return "certificate" }

// DeleteDialog is the certificate's Delete: the JWK Connection choice
// (Delete JWKS or Delete Disconnect) when JWKs are made from it, then the
// typed name.
func (p CertificatePage) DeleteDialog() ConfirmDialog {
	return JWKDeleteDialog("certificate-delete", "Certificate", p.Certificate.Name,
		"/projects/"+p.Project+"/certificates/"+p.Certificate.Name+"/delete", p.CSRF, p.JWKs)
}

// ExportFormats are a single environment's export formats: the format
// parameter and the button's label.
var ExportFormats = [][2]string{{"pem", "PEM"}, {"der", "DER"}, {"p7b", "PKCS#7"}}

// ExportFormats lists them for the template.
func (CertificatePage) ExportFormats() [][2]string { return ExportFormats }

// Fingerprint is "AB:CD:…", the way certificate tools print a thumbprint.
func Fingerprint(hex string) string {
	hex = strings.ToUpper(hex)
	var b strings.Builder
	for i := 0; i < len(hex); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex[i:min(i+2, len(hex))])
	}
	return b.String()
}

// Subjects are the row's subjects, each once (a certificate usually has the
// same subject in every environment).
func (r CertificateRow) Subjects() []string {
	return distinct(r.Environments, func(e CertEnvRow) string { return e.Subject })
}

// Issuers are the row's issuers, each once.
func (r CertificateRow) Issuers() []string {
	return distinct(r.Environments, func(e CertEnvRow) string { return e.Issuer })
}

func distinct(envs []CertEnvRow, of func(CertEnvRow) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range envs {
		if v := of(e); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
