// Package certs reads, describes, analyses and writes X.509 certificates
// for the certificates area (seed 001) and the truststore: the file formats
// users bring (PEM, DER, PKCS#7, PKCS#12, pasted BASE64 or BASE64PEM), the
// parsed content the wizard shows, the chain analysis against an
// environment's truststore, and the export formats (PEM, DER, PKCS#7, JKS,
// PKCS#12 truststores). It has no state and no I/O besides its arguments.
package certs

import (
	"crypto/x509"
	"time"
)

// MaxInput is the largest certificate file or paste accepted (256 KiB).
const MaxInput = 256 << 10

// Encodings of pasted text (seed 001's "Encoding Type").
const (
	EncodingBase64    = "BASE64"    // base64 of DER
	EncodingBase64PEM = "BASE64PEM" // PEM text
)

// Input is one certificate source as submitted. Field names it in errors
// ("configs[1].content", "certificateEnvironmentList[0].content").
type Input struct {
	Field    string
	FileName string // decides the format with the content: .pem .crt .cer .cert .der .p7b .p7c .p12 .pfx; "" for a paste
	Content  []byte
	Encoding string // for a paste: EncodingBase64 or EncodingBase64PEM; "" for a file
	Password string // PKCS#12 only
}

// Parsed is what an input held: its certificates in the order given (a
// chain leaf first where it is one) and a notice for the user, such as "The
// PKCS#12 file also held a private key; it was not stored here (keys live
// under Keys)."
type Parsed struct {
	Certificates []*x509.Certificate
	Notice       string
}

// Details is the parsed content of one certificate, as the wizard, the
// certificate page and the API show it.
type Details struct {
	Subject            string    `json:"subjectDn"`
	Issuer             string    `json:"issuerDn"`
	Serial             string    `json:"serialNumber"` // hex, colon-free, lower case
	NotBefore          time.Time `json:"startDate"`
	NotAfter           time.Time `json:"endDate"`
	DaysLeft           int       `json:"daysLeft"` // negative once expired
	DNSNames           []string  `json:"dnsNames"`
	IPAddresses        []string  `json:"ipAddresses"`
	Emails             []string  `json:"emailAddresses"`
	URIs               []string  `json:"uris"`
	PublicKeyAlgorithm string    `json:"publicKeyAlgorithm"` // RSA, ECDSA, Ed25519
	KeyBits            int       `json:"keyBits"`
	Curve              string    `json:"curve,omitempty"`
	SignatureAlgorithm string    `json:"signatureAlgorithm"`
	SHA1               string    `json:"sha1Thumbprint"`   // hex of the DER
	SHA256             string    `json:"sha256Thumbprint"` // hex of the DER
	KeyUsage           []string  `json:"keyUsage"`
	ExtKeyUsage        []string  `json:"extendedKeyUsage"`
	IsCA               bool      `json:"isCa"`
	MaxPathLen         int       `json:"maxPathLen"` // -1: unlimited or not a CA
	SubjectKeyID       string    `json:"subjectKeyId"`
	AuthorityKeyID     string    `json:"authorityKeyId"`
	SelfSigned         bool      `json:"selfSigned"`
}

// Finding is one thing the chain analysis says about a certificate.
type Finding struct {
	Severity string `json:"severity"`          // "error" (it will not verify) or "warning"
	Code     string `json:"code"`              // expired, not_yet_valid, weak_signature, weak_key, ca_leaf, self_signed, hostname_mismatch, unknown_authority, missing_intermediate, invalid_chain
	Message  string `json:"message"`           // a sentence for people
	Subject  string `json:"subject,omitempty"` // the certificate the finding is about, when it is about one
}

// Severities of a Finding.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Analysis is the chain analysis of a leaf against a truststore.
type Analysis struct {
	Trusted    bool      `json:"trusted"`
	AnchoredBy string    `json:"anchoredBy,omitempty"` // the subject of the root that anchors the verified chain
	Findings   []Finding `json:"findings"`
	Chain      []Details `json:"chain"` // the verified chain (leaf first), or the chain as given when it does not verify
}
