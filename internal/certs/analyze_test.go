package certs_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/certs/certtest"
)

type cs = []*x509.Certificate

// codes lists an analysis' findings as "severity:code" in order.
func codes(a certs.Analysis) []string {
	out := []string{}
	for _, f := range a.Findings {
		out = append(out, f.Severity+":"+f.Code)
	}
	return out
}

func wantFindings(t *testing.T, a certs.Analysis, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := codes(a); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("findings %v, want %v\n%s", got, want, messages(a))
	}
	for _, f := range a.Findings {
		if f.Message == "" || !strings.HasSuffix(f.Message, ".") || f.Subject == "" {
			t.Errorf("finding %+v: want a sentence and a subject", f)
		}
	}
}

func messages(a certs.Analysis) string {
	var b strings.Builder
	for _, f := range a.Findings {
		fmt.Fprintf(&b, "  %s %s: %s\n", f.Severity, f.Code, f.Message)
	}
	return b.String()
}

func TestAnalyzeTrusted(t *testing.T) {
	for _, key := range []certtest.KeyType{certtest.ECDSA, certtest.RSA} {
		c := certtest.NewChain(t, certtest.Options{Key: key})
		a := certs.Analyze(c.Leaf, cs{c.Intermediate}, cs{c.Root}, "localhost", time.Now())
		if !a.Trusted || a.AnchoredBy != c.Root.Subject.String() {
			t.Fatalf("trusted %v anchored by %q\n%s", a.Trusted, a.AnchoredBy, messages(a))
		}
		wantFindings(t, a)
		if len(a.Chain) != 3 || a.Chain[0].Subject != c.Leaf.Subject.String() || a.Chain[2].Subject != c.Root.Subject.String() {
			t.Errorf("chain %+v", a.Chain)
		}
		b, _ := json.Marshal(a)
		if !strings.Contains(string(b), `"findings":[]`) {
			t.Errorf("JSON %s", b)
		}
		// The given chain may hold the root too, in any order.
		if a := certs.Analyze(c.Leaf, cs{c.Root, c.Intermediate}, cs{c.Root}, "", time.Now()); !a.Trusted || len(a.Chain) != 3 {
			t.Errorf("with the root in the chain: trusted %v, chain of %d", a.Trusted, len(a.Chain))
		}
	}
}

func TestAnalyzeAuthority(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	other := certtest.NewChain(t, certtest.Options{})

	a := certs.Analyze(c.Leaf, nil, cs{c.Root, other.Root}, "", time.Now())
	wantFindings(t, a, "error:missing_intermediate")
	if a.Trusted || !strings.Contains(a.Findings[0].Message, c.Intermediate.Subject.String()) || len(a.Chain) != 1 {
		t.Errorf("missing intermediate: %+v", a)
	}

	a = certs.Analyze(c.Leaf, cs{c.Intermediate}, cs{other.Root}, "", time.Now())
	wantFindings(t, a, "error:unknown_authority")
	if !strings.Contains(a.Findings[0].Message, c.Root.Subject.String()) || a.Findings[0].Subject != c.Intermediate.Subject.String() || len(a.Chain) != 2 {
		t.Errorf("unknown authority: %s chain of %d", messages(a), len(a.Chain))
	}

	a = certs.Analyze(c.Leaf, cs{c.Intermediate, c.Root}, nil, "", time.Now())
	wantFindings(t, a, "error:unknown_authority")
	if !strings.Contains(a.Findings[0].Message, "ends at the root") {
		t.Errorf("untrusted root in the chain: %s", messages(a))
	}

	// An empty truststore means no roots at all, never the system's.
	a = certs.Analyze(c.Leaf, cs{c.Intermediate}, nil, "", time.Now())
	wantFindings(t, a, "error:unknown_authority")
}

func TestAnalyzeValidity(t *testing.T) {
	expired := certtest.NewChain(t, certtest.Options{Expired: true})
	a := certs.Analyze(expired.Leaf, cs{expired.Intermediate}, cs{expired.Root}, "", time.Now())
	wantFindings(t, a, "error:expired")
	if a.Trusted || a.Findings[0].Subject != expired.Leaf.Subject.String() || !strings.Contains(a.Findings[0].Message, "expired on") {
		t.Errorf("expired: %s", messages(a))
	}
	// Expired and incomplete: both are said.
	a = certs.Analyze(expired.Leaf, nil, cs{expired.Root}, "", time.Now())
	wantFindings(t, a, "error:missing_intermediate", "error:expired")
	a = certs.Analyze(expired.Leaf, cs{expired.Intermediate}, cs{certtest.NewChain(t, certtest.Options{}).Root}, "", time.Now())
	wantFindings(t, a, "error:unknown_authority", "error:expired")

	early := certtest.NewChain(t, certtest.Options{NotYetValid: true})
	a = certs.Analyze(early.Leaf, cs{early.Intermediate}, cs{early.Root}, "", time.Now())
	wantFindings(t, a, "error:not_yet_valid")

	// An expired intermediate is named as such.
	c := certtest.NewChain(t, certtest.Options{})
	a = certs.Analyze(c.Leaf, cs{c.Intermediate}, cs{c.Root}, "", c.Intermediate.NotAfter.Add(time.Hour))
	wantFindings(t, a, "error:expired", "error:expired")
	if a.Findings[0].Subject != c.Leaf.Subject.String() || a.Findings[1].Subject != c.Intermediate.Subject.String() {
		t.Errorf("expired leaf and intermediate: %s", messages(a))
	}
}

func TestAnalyzeWeakSignatures(t *testing.T) {
	for _, o := range []certtest.Options{
		{Key: certtest.RSA, LeafSignature: x509.SHA1WithRSA},
		{Key: certtest.ECDSA, LeafSignature: x509.ECDSAWithSHA1},
		{Key: certtest.RSA, LeafSignature: x509.MD5WithRSA},
	} {
		c := certtest.NewChain(t, o)
		a := certs.Analyze(c.Leaf, cs{c.Intermediate}, cs{c.Root}, "", time.Now())
		// Go refuses the signature, so the chain does not verify, and
		// the reason is the weak signature, not an unknown authority.
		wantFindings(t, a, "error:weak_signature")
		if a.Trusted || !strings.Contains(a.Findings[0].Message, o.LeafSignature.String()) {
			t.Errorf("%v: %s", o.LeafSignature, messages(a))
		}
	}
	// A self-signed SHA-1 certificate trusted as is: its own signature is
	// never checked, so it is a warning.
	ss := certtest.NewChain(t, certtest.Options{Key: certtest.RSA, SelfSigned: true, LeafSignature: x509.SHA1WithRSA})
	a := certs.Analyze(ss.Leaf, nil, cs{ss.Leaf}, "", time.Now())
	wantFindings(t, a, "warning:weak_signature", "warning:self_signed")
	if !a.Trusted || a.AnchoredBy != ss.Leaf.Subject.String() {
		t.Errorf("trusted self-signed SHA-1: %+v", a)
	}
}

func TestAnalyzeWarnings(t *testing.T) {
	weak := certtest.NewChain(t, certtest.Options{Key: certtest.RSA, LeafRSABits: 1024})
	a := certs.Analyze(weak.Leaf, cs{weak.Intermediate}, cs{weak.Root}, "", time.Now())
	wantFindings(t, a, "warning:weak_key")
	if !a.Trusted || !strings.Contains(a.Findings[0].Message, "1024-bit RSA key") {
		t.Errorf("weak key: %+v", a)
	}

	ca := certtest.NewChain(t, certtest.Options{LeafCA: true})
	a = certs.Analyze(ca.Leaf, cs{ca.Intermediate}, cs{ca.Root}, "", time.Now())
	wantFindings(t, a, "warning:ca_leaf")
	if !a.Trusted {
		t.Errorf("CA leaf: %+v", a)
	}
	// A root stored as the certificate: the caller sees both and decides.
	a = certs.Analyze(ca.Root, nil, cs{ca.Root}, "", time.Now())
	wantFindings(t, a, "warning:ca_leaf", "warning:self_signed")

	ss := certtest.NewChain(t, certtest.Options{SelfSigned: true})
	a = certs.Analyze(ss.Leaf, nil, nil, "", time.Now())
	wantFindings(t, a, "error:unknown_authority", "warning:self_signed")
	if !strings.Contains(a.Findings[0].Message, "self-signed and is not in the environment's truststore") {
		t.Errorf("self-signed: %s", messages(a))
	}
	a = certs.Analyze(ss.Leaf, nil, cs{ss.Leaf}, "", time.Now())
	wantFindings(t, a, "warning:self_signed")
}

func TestAnalyzeHostname(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{CommonName: "api.example.com", DNSNames: []string{"api.example.com", "*.gw.example.com"}})
	roots := cs{c.Root}
	for _, host := range []string{"", "api.example.com", "API.example.com", "api.example.com:8443", "eu.gw.example.com"} {
		wantFindings(t, certs.Analyze(c.Leaf, cs{c.Intermediate}, roots, host, time.Now()))
	}
	a := certs.Analyze(c.Leaf, cs{c.Intermediate}, roots, "example.com:443", time.Now())
	wantFindings(t, a, "warning:hostname_mismatch")
	if !a.Trusted || a.Findings[0].Message != "The certificate does not cover example.com: it is for api.example.com, *.gw.example.com." {
		t.Errorf("mismatch: %s", messages(a))
	}
	ip := certtest.NewChain(t, certtest.Options{})
	for _, host := range []string{"127.0.0.1", "[::1]:636", "localhost"} {
		wantFindings(t, certs.Analyze(ip.Leaf, cs{ip.Intermediate}, cs{ip.Root}, host, time.Now()))
	}
	wantFindings(t, certs.Analyze(ip.Leaf, cs{ip.Intermediate}, cs{ip.Root}, "10.0.0.1", time.Now()), "warning:hostname_mismatch")
}

func TestAnalyzeInvalidChain(t *testing.T) {
	// A leaf "issued" by another leaf: names link, but the issuer is no CA.
	c := certtest.NewChain(t, certtest.Options{})
	notCA := certtest.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "child"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"x.test"}},
		c.Leaf, c.LeafKey, certtest.NewKey(t, certtest.ECDSA, 0).Public())
	a := certs.Analyze(notCA, cs{c.Leaf, c.Intermediate}, cs{c.Root}, "", time.Now())
	wantFindings(t, a, "error:invalid_chain")
	if a.Findings[0].Subject != c.Leaf.Subject.String() {
		t.Errorf("leaf issued by a non-CA: %s", messages(a))
	}

	// A damaged signature under intact names.
	bad := append([]byte{}, c.Leaf.Raw...)
	bad[len(bad)-1] ^= 0x01
	damaged, err := x509.ParseCertificate(bad)
	if err != nil {
		t.Fatal(err)
	}
	a = certs.Analyze(damaged, cs{c.Intermediate}, cs{c.Root}, "", time.Now())
	wantFindings(t, a, "error:invalid_chain")
	if !strings.Contains(a.Findings[0].Message, "does not verify with the key of its issuer") {
		t.Errorf("damaged signature: %s", messages(a))
	}
}

func TestAnalyzeAgainstBuiltinRoots(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	a := certs.Analyze(c.Leaf, cs{c.Intermediate}, certs.BuiltinRoots(), "", time.Now())
	wantFindings(t, a, "error:unknown_authority")
	if a := certs.Analyze(c.Leaf, cs{c.Intermediate}, append(certs.BuiltinRoots()[:len(certs.BuiltinRoots()):len(certs.BuiltinRoots())], c.Root), "", time.Now()); !a.Trusted {
		t.Errorf("builtin roots plus the team's CA: %s", messages(a))
	}
	if a := certs.Analyze(nil, nil, nil, "", time.Now()); a.Findings == nil || a.Chain == nil {
		t.Errorf("nil leaf: %+v", a)
	}
}
