package certs_test

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/certs/certtest"
)

// now is a whole second, as certificate times are.
var now = time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)

// fingerprint is what OpenSSL says the certificate's fingerprint is, in the
// form Details uses (lower-case hex without colons).
func fingerprint(t *testing.T, c *x509.Certificate, digest string) string {
	t.Helper()
	out := run(t, "openssl", "x509", "-inform", "DER", "-in", writeFile(t, "c.der", c.Raw), "-noout", "-fingerprint", "-"+digest)
	_, fp, ok := strings.Cut(strings.TrimSpace(out), "=")
	if !ok {
		t.Fatalf("openssl fingerprint: %q", out)
	}
	return strings.ToLower(strings.ReplaceAll(fp, ":", ""))
}

func TestDescribeECDSALeaf(t *testing.T) {
	u, _ := url.Parse("spiffe://keyward.test/gateway")
	c := certtest.NewChain(t, certtest.Options{
		Now: now, CommonName: "api.example.com",
		DNSNames: []string{"api.example.com", "*.api.example.com"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.7"), net.ParseIP("2001:db8::1")},
		EmailAddresses: []string{"ops@example.com"}, URIs: []*url.URL{u},
	})
	d := certs.Describe(c.Leaf, now)
	want := certs.Details{
		Subject:            c.Leaf.Subject.String(),
		Issuer:             c.Intermediate.Subject.String(),
		Serial:             c.Leaf.SerialNumber.Text(16),
		NotBefore:          now.Add(-time.Hour),
		NotAfter:           now.AddDate(0, 0, 90),
		DaysLeft:           90,
		DNSNames:           []string{"api.example.com", "*.api.example.com"},
		IPAddresses:        []string{"192.0.2.7", "2001:db8::1"},
		Emails:             []string{"ops@example.com"},
		URIs:               []string{"spiffe://keyward.test/gateway"},
		PublicKeyAlgorithm: "ECDSA",
		KeyBits:            256,
		Curve:              "P-256",
		SignatureAlgorithm: "ECDSA-SHA256",
		SHA1:               fingerprint(t, c.Leaf, "sha1"),
		SHA256:             fingerprint(t, c.Leaf, "sha256"),
		KeyUsage:           []string{"digitalSignature"},
		ExtKeyUsage:        []string{"serverAuth", "clientAuth"},
		IsCA:               false,
		MaxPathLen:         -1,
		SubjectKeyID:       hex.EncodeToString(c.Leaf.SubjectKeyId),
		AuthorityKeyID:     hex.EncodeToString(c.Intermediate.SubjectKeyId),
		SelfSigned:         false,
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("Describe:\n got %+v\nwant %+v", d, want)
	}
	if !strings.HasPrefix(d.Subject, "CN=api.example.com,O=Keyward Test ") || len(d.SubjectKeyID) != 40 || d.SHA256 == "" {
		t.Errorf("subject %q, subject key id %q, sha256 %q", d.Subject, d.SubjectKeyID, d.SHA256)
	}
}

func TestDescribeRSAAndCAs(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{Key: certtest.RSA, Now: now})
	leaf := certs.Describe(c.Leaf, now)
	if leaf.PublicKeyAlgorithm != "RSA" || leaf.KeyBits != 2048 || leaf.Curve != "" || leaf.SignatureAlgorithm != "SHA256-RSA" {
		t.Errorf("RSA leaf key %s %d %q, signature %s", leaf.PublicKeyAlgorithm, leaf.KeyBits, leaf.Curve, leaf.SignatureAlgorithm)
	}
	if !reflect.DeepEqual(leaf.KeyUsage, []string{"digitalSignature", "keyEncipherment"}) {
		t.Errorf("RSA leaf key usage %v", leaf.KeyUsage)
	}
	inter := certs.Describe(c.Intermediate, now)
	if !inter.IsCA || inter.MaxPathLen != 0 || inter.SelfSigned || inter.AuthorityKeyID != hex.EncodeToString(c.Root.SubjectKeyId) {
		t.Errorf("intermediate: CA %v, path length %d, self-signed %v, AKI %s", inter.IsCA, inter.MaxPathLen, inter.SelfSigned, inter.AuthorityKeyID)
	}
	root := certs.Describe(c.Root, now)
	if !root.IsCA || root.MaxPathLen != -1 || !root.SelfSigned || root.Subject != root.Issuer {
		t.Errorf("root: CA %v, path length %d, self-signed %v", root.IsCA, root.MaxPathLen, root.SelfSigned)
	}
	if !reflect.DeepEqual(root.KeyUsage, []string{"digitalSignature", "certSign", "crlSign"}) || len(root.ExtKeyUsage) != 0 {
		t.Errorf("root usages %v %v", root.KeyUsage, root.ExtKeyUsage)
	}
	weak := certtest.NewChain(t, certtest.Options{Key: certtest.RSA, LeafRSABits: 1024, LeafSignature: x509.SHA1WithRSA})
	if d := certs.Describe(weak.Leaf, now); d.KeyBits != 1024 || d.SignatureAlgorithm != "SHA1-RSA" {
		t.Errorf("weak leaf: %d bits, %s", d.KeyBits, d.SignatureAlgorithm)
	}
}

func TestDescribeSelfSigned(t *testing.T) {
	// Self-signed without the CA flag, as development servers are: still
	// self-signed, although crypto/x509 would not let it sign others.
	ss := certtest.NewChain(t, certtest.Options{SelfSigned: true})
	if d := certs.Describe(ss.Leaf, now); !d.SelfSigned || d.IsCA {
		t.Errorf("self-signed server certificate: self-signed %v, CA %v", d.SelfSigned, d.IsCA)
	}
	// MD5, which crypto/x509 no longer checks, is checked by hand.
	md5 := certtest.NewChain(t, certtest.Options{Key: certtest.RSA, SelfSigned: true, LeafSignature: x509.MD5WithRSA})
	if d := certs.Describe(md5.Leaf, now); !d.SelfSigned || d.SignatureAlgorithm != "MD5-RSA" {
		t.Errorf("MD5 self-signed: self-signed %v, signature %s", d.SelfSigned, d.SignatureAlgorithm)
	}
	// Same names, another key: not self-signed.
	other := certtest.NewChain(t, certtest.Options{SelfSigned: true})
	namesake := &x509.Certificate{Subject: ss.Leaf.Subject, PublicKey: other.LeafKey.Public()}
	forged := certtest.Issue(t, &x509.Certificate{Subject: ss.Leaf.Subject, NotBefore: now, NotAfter: now.Add(time.Hour)}, namesake, other.LeafKey, ss.LeafKey.Public())
	if d := certs.Describe(forged, now); d.SelfSigned || d.Subject != d.Issuer {
		t.Errorf("subject==issuer but signed by another key: self-signed %v", d.SelfSigned)
	}
}

func TestDescribeDaysLeft(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{Now: now})
	end := c.Leaf.NotAfter
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{end.Add(-48 * time.Hour), 2},
		{end.Add(-24*time.Hour - time.Nanosecond), 1},
		{end.Add(-24 * time.Hour), 1},
		{end.Add(-time.Nanosecond), 0},
		{end, 0},
		{end.Add(time.Nanosecond), -1},
		{end.Add(24 * time.Hour), -1},
		{end.Add(24*time.Hour + time.Second), -2},
	} {
		if got := certs.Describe(c.Leaf, tc.at).DaysLeft; got != tc.want {
			t.Errorf("at NotAfter%+v: days left %d, want %d", tc.at.Sub(end), got, tc.want)
		}
	}
	// A certificate "without expiry" (RFC 5280's 9999-12-31) is beyond what
	// a time.Duration holds.
	key := certtest.NewKey(t, certtest.ECDSA, 0)
	forever := certtest.Issue(t, certtest.CATemplate("Forever", now, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)), nil, key, key.Public())
	want := daysFrom(now, forever.NotAfter) // 23:59:59 is after noon: whole calendar days
	if got := certs.Describe(forever, now).DaysLeft; got != want {
		t.Errorf("9999: days left %d, want %d", got, want)
	}
}

// daysFrom counts calendar days from a's date to b's.
func daysFrom(a, b time.Time) int {
	n := 0
	for y := a.Year(); y < b.Year(); y++ {
		n += time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC).YearDay()
	}
	return n - a.YearDay() + b.YearDay()
}

func TestDescribeJSONShowsEmptyLists(t *testing.T) {
	key := certtest.NewKey(t, certtest.ECDSA, 0)
	bare := certtest.Issue(t, &x509.Certificate{NotBefore: now, NotAfter: now.Add(time.Hour)}, nil, key, key.Public())
	b, err := json.Marshal(certs.Describe(bare, now))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dnsNames", "ipAddresses", "emailAddresses", "uris", "keyUsage", "extendedKeyUsage"} {
		if !strings.Contains(string(b), `"`+k+`":[]`) {
			t.Errorf("JSON lacks %q: []: %s", k, b)
		}
	}
}
