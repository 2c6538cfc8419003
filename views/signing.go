package views

import (
	"fmt"
	"strings"
	"time"
)

// The "Signing Keys" area (seed 004): JWT signing keys kept in the HSM or
// the built-in software token.

// Token is the key manager the keys live in, as the pages name it.
type Token struct {
	Backend      string // "PKCS#11" or the software token's sentence
	Label        string
	Manufacturer string
	Model        string
	Serial       string
	Soft         bool // the built-in software token
	PINSet       bool // the token reports an initialised user PIN
	PINFlags     []string
}

// Name says what holds the keys: the software token's sentence, or the
// PKCS#11 token's label and model.
func (t Token) Name() string {
	if t.Soft {
		return t.Backend
	}
	var parts []string
	for _, p := range []string{t.Manufacturer, t.Model} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	name := fmt.Sprintf("%s token “%s”", t.Backend, t.Label)
	if len(parts) > 0 {
		name += " (" + strings.Join(parts, " ") + ")"
	}
	return name
}

// SigningKeyRow is a signing key in the list and on its page.
type SigningKeyRow struct {
	Label       string
	CkaID       string
	Algorithm   string // "RSA" or "EC", as stored
	Bits        int64
	Curve       string
	Origin      string // "GENERATED" or "IMPORTED"
	Backend     string
	Kid         string
	CreatedBy   string
	CreatedAt   time.Time
	Published   []string
	SharedLabel bool // another key of the project has the same label
}

// AlgorithmLabel is the algorithm as the create form names it.
func (r SigningKeyRow) AlgorithmLabel() string {
	if r.Algorithm == "EC" {
		return "ECDSA (ECC)"
	}
	return r.Algorithm
}

// Size is the key length or the curve: "2048 bits", "Prime256v1 (P-256)".
func (r SigningKeyRow) Size() string {
	if r.Curve != "" {
		return CurveLabel(r.Curve)
	}
	return fmt.Sprintf("%d bits", r.Bits)
}

// Generation is the key generation type as the create form names it.
func (r SigningKeyRow) Generation() string {
	if r.Origin == "IMPORTED" {
		return "Manual Generation (Import)"
	}
	return "Auto Generation (Random)"
}

// CurveLabel names a curve as OpenSSL and the seed do, with its NIST name.
func CurveLabel(curve string) string {
	if curve == "P-256" {
		return "Prime256v1 (P-256)"
	}
	return curve
}

// SigningKeyListPage is the Key List: label, algorithm, CKA_ID and
// created date, searched and paged on the server, under the name of the
// token the keys live in.
type SigningKeyListPage struct {
	Base
	Project   string
	CanManage bool
	Token     Token
	Search    string
	Keys      []SigningKeyRow
	Pager
	// The project's signer aliases; creating one needs MANAGE and
	// DEPLOY_UNDEPLOY (it publishes its key).
	Signers   []SignerRow
	CanDeploy bool
}

func (SigningKeyListPage) Template() string { return "signing_keys" }

// AnyShared reports whether the page lists keys that share a label.
func (p SigningKeyListPage) AnyShared() bool {
	for _, k := range p.Keys {
		if k.SharedLabel {
			return true
		}
	}
	return false
}

// SigningKeyFormPage is Create Key: algorithm, generation type, label,
// key length or curve, and the PEM private key for an import.
type SigningKeyFormPage struct {
	Base
	Project string
	Token   Token
	Form    Form
	Label   SigningLabelHint
}

func (SigningKeyFormPage) Template() string { return "signing_key_form" }

// Checked is "checked" when the form's field has value, or when it has
// none and value is the default (def).
func (p SigningKeyFormPage) Checked(field, value, def string) bool {
	v := p.Form.Value(field)
	return v == value || (v == "" && value == def)
}

// SigningLabelHint is the note under the label field: a recommendation,
// or a warning that keys with this label exist already. The create form
// asks for it again as the label is typed (a part, swapped by htmx).
type SigningLabelHint struct {
	Project string
	Label   string
	Taken   int // keys that already have the label
	Error   string
}

// SigningLabelHintPage is the hint answered alone, for htmx to swap in.
type SigningLabelHintPage struct {
	Base
	Hint SigningLabelHint
}

func (SigningLabelHintPage) Template() string { return "signing_label_hint" }

// SigningKeyEnv is the key's publication in one environment's JWKS.
type SigningKeyEnv struct {
	Environment string
	Published   bool
	JWKSURL     string
}

// SigningUse is one recent signature with the key, from the audit log.
type SigningUse struct {
	At     time.Time
	Actor  string
	Detail string
}

// SigningKeyPage is Key Details: the private key's information (never
// the key), the public key as PEM and JWK with copy buttons, where it is
// published, how to sign with it, and Delete Key with the user PIN.
type SigningKeyPage struct {
	Base
	Project      string
	Key          SigningKeyRow
	Token        Token
	PublicPEM    string
	JWK          string // indented
	Environments []SigningKeyEnv
	CanDeploy    bool // publish, unpublish and delete: MANAGE and DEPLOY_UNDEPLOY
	SignURL      string
	// Recent signatures, when the user may read the audit log.
	Uses        []SigningUse
	UsesVisible bool
	// A refused delete: the message beside the PIN, or about the whole
	// attempt (locked after too many wrong PINs).
	PINError    string
	DeleteError string
}

func (SigningKeyPage) Template() string { return "signing_key" }

// SignExample is the API call that signs a JWT with the key.
func (p SigningKeyPage) SignExample() string {
	alg := "RS256"
	if p.Key.Algorithm == "EC" {
		alg = "ES256"
	}
	return "curl -X POST " + p.SignURL + " \\\n" +
		"  -H \"Authorization: Bearer $KEYWARD_TOKEN\" -H 'Content-Type: application/json' \\\n" +
		`  -d '{"claims": {"sub": "client-42", "aud": "payments"}, "alg": "` + alg + `", "expiresIn": "10m"}'`
}

// DeleteDialog is Delete Key: what relies on the key, the warning that it
// stops at once, and the token's user PIN.
func (p SigningKeyPage) DeleteDialog() ConfirmDialog {
	d := ConfirmDialog{ID: "signing-key-delete", Title: "Delete key " + p.Key.Label, Noun: "signing key", Name: p.Key.Label,
		Action: "/projects/" + p.Project + "/signing-keys/" + p.Key.CkaID + "/delete", CSRF: p.CSRF,
		AffectedTitle: "What relies on it:",
		Warning: "Deleting destroys the private key with CKA_ID " + p.Key.CkaID + " in the token and cannot be undone: " +
			"everything above stops at once. Tokens it signed no longer verify once the key leaves the JWKS.",
		Secret: DialogSecret{Name: "pin", Label: "User PIN", Hint: "The token's user PIN. After 5 wrong PINs, deleting keys is locked for 15 minutes.",
			Error: p.PINError},
		Error:  p.DeleteError,
		Open:   p.PINError != "" || p.DeleteError != "",
		Submit: DialogSubmit{ID: "signing-key-delete-confirm", Label: "Delete Key", Class: "contrast"}}
	if p.Token.Soft && !p.Token.PINSet {
		d.Secret.Hint = "The software token has no user PIN yet: an administrator must set it on the Key storage page first."
	}
	for _, e := range p.Key.Published {
		d.Affected = append(d.Affected, "The JWKS of "+e+": verifiers there stop accepting tokens signed with kid "+p.Key.Kid+".")
	}
	if len(p.Key.Published) == 0 {
		d.Affected = append(d.Affected, "It is not published in any environment's JWKS.")
	}
	switch {
	case !p.UsesVisible:
		d.Affected = append(d.Affected, "Services that sign with CKA_ID "+p.Key.CkaID+" through the API (the audit log lists them).")
	case len(p.Uses) == 0:
		d.Affected = append(d.Affected, "No signature with it is recorded in the audit log.")
	default:
		d.Affected = append(d.Affected, fmt.Sprintf("Services that sign with it: last signature %s by %s.",
			p.Uses[0].At.UTC().Format("2006-01-02 15:04 UTC"), p.Uses[0].Actor))
	}
	return d
}

// SoftTokenPage is the admin's page about the key manager: what it is,
// and, for the built-in software token, setting its user PIN once.
type SoftTokenPage struct {
	Base
	Token Token
	Form  Form
}

func (SoftTokenPage) Template() string { return "hsm" }
