package certtest

import (
	"crypto"
	_ "crypto/md5" // registers crypto.MD5 for Resign
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"
)

// signatureAlgorithms are the algorithms Resign can sign with: their OID,
// whether the AlgorithmIdentifier carries NULL parameters (RSA does, ECDSA
// does not) and their hash.
var signatureAlgorithms = map[x509.SignatureAlgorithm]struct {
	oid      asn1.ObjectIdentifier
	nullArgs bool
	hash     crypto.Hash
}{
	x509.MD5WithRSA:      {asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, true, crypto.MD5},
	x509.SHA1WithRSA:     {asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, true, crypto.SHA1},
	x509.SHA256WithRSA:   {asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, true, crypto.SHA256},
	x509.ECDSAWithSHA1:   {asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, false, crypto.SHA1},
	x509.ECDSAWithSHA256: {asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, false, crypto.SHA256},
}

// Resign re-signs the certificate der with signer using alg, optionally
// with another serial number, building the DER by hand. It makes what
// crypto/x509 refuses to make: MD5 signatures and negative serials (for
// which the result does not parse in Go at all, which is the point).
func Resign(t testing.TB, der []byte, signer crypto.Signer, alg x509.SignatureAlgorithm, serial *big.Int) []byte {
	t.Helper()
	sa, ok := signatureAlgorithms[alg]
	if !ok {
		t.Fatalf("certtest: Resign cannot sign with %v", alg)
	}
	var cert struct {
		TBS       asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		t.Fatalf("certtest: Resign: %v", err)
	}
	var fields []asn1.RawValue
	for rest := cert.TBS.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			t.Fatalf("certtest: Resign: TBS field: %v", err)
		}
		fields = append(fields, f)
	}
	i := 0 // the version is an optional [0] EXPLICIT field before the serial
	if fields[0].Class == asn1.ClassContextSpecific && fields[0].Tag == 0 {
		i = 1
	}
	algID := pkix.AlgorithmIdentifier{Algorithm: sa.oid}
	if sa.nullArgs {
		algID.Parameters = asn1.NullRawValue
	}
	fields[i+1] = rawOf(t, algID)
	if serial != nil {
		fields[i] = rawOf(t, serial)
	}
	var tbs []byte
	for _, f := range fields {
		tbs = append(tbs, f.FullBytes...)
	}
	tbsDER := rawOf(t, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: tbs}).FullBytes
	h := sa.hash.New()
	h.Write(tbsDER)
	sig, err := signer.Sign(rand.Reader, h.Sum(nil), sa.hash)
	if err != nil {
		t.Fatalf("certtest: Resign: sign: %v", err)
	}
	cert.TBS = asn1.RawValue{FullBytes: tbsDER}
	cert.Algorithm = algID
	cert.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	out, err := asn1.Marshal(cert)
	if err != nil {
		t.Fatalf("certtest: Resign: marshal: %v", err)
	}
	return out
}

func rawOf(t testing.TB, v any) asn1.RawValue {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatalf("certtest: marshal %T: %v", v, err)
	}
	return asn1.RawValue{FullBytes: b}
}

// NegativeSerial is the DER of a self-signed certificate whose serial
// number is -1: OpenSSL and older Go read it, crypto/x509 since Go 1.23
// refuses it (RFC 5280 requires a positive serial).
func NegativeSerial(t testing.TB) []byte {
	t.Helper()
	key := NewKey(t, ECDSA, 0)
	now := time.Now()
	c := Issue(t, CATemplate("Keyward Test Negative Serial", now.Add(-time.Hour), now.AddDate(1, 0, 0)), nil, key, key.Public())
	return Resign(t, c.Raw, key, x509.ECDSAWithSHA256, big.NewInt(-1))
}
