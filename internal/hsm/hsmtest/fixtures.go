package hsmtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"
)

// fixtures are the PEM files the import cases use, made once per process
// (RSA generation is slow).
type fixtures struct {
	rsaPKCS1, rsaPKCS8, ecPKCS8, ecSEC1 []byte
	rsa1Pub, rsa8Pub, ec8Pub, ec1Pub    crypto.PublicKey

	refused map[string][]byte // case name → PEM that Import must refuse
}

var (
	fixturesOnce sync.Once
	fixturesVal  *fixtures
	fixturesErr  error
)

func mustFixtures(t *testing.T) *fixtures {
	t.Helper()
	fixturesOnce.Do(func() { fixturesVal, fixturesErr = makeFixtures() })
	if fixturesErr != nil {
		t.Fatalf("make PEM fixtures: %v", fixturesErr)
	}
	return fixturesVal
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(key any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return pemOf("PRIVATE KEY", der)
}

func makeFixtures() (*fixtures, error) {
	r1, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	r8, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	r1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		return nil, err
	}
	e8, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	e521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)

	sec1, err := x509.MarshalECPrivateKey(e1)
	if err != nil {
		return nil, err
	}
	sec384, err := x509.MarshalECPrivateKey(e384)
	if err != nil {
		return nil, err
	}
	// openssl ecparam -genkey writes the curve's parameters first.
	params := pemOf("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})
	pkix1, _ := x509.MarshalPKIXPublicKey(&e8.PublicKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hsmtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &e8.PublicKey, e8)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 legacy PEM encryption is what the refusal is about.
	legacy, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(r1024), []byte("secret"), x509.PEMCipherAES256)
	if err != nil {
		return nil, err
	}
	f := &fixtures{
		rsaPKCS1: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(r1)),
		rsaPKCS8: pkcs8(r8),
		ecPKCS8:  pkcs8(e8),
		ecSEC1:   append(params, pemOf("EC PRIVATE KEY", sec1)...),
		rsa1Pub:  &r1.PublicKey, rsa8Pub: &r8.PublicKey, ec8Pub: &e8.PublicKey, ec1Pub: &e1.PublicKey,
	}
	f.refused = map[string][]byte{
		"public key (PKIX)":            pemOf("PUBLIC KEY", pkix1),
		"public key (PKCS#1)":          pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&r1.PublicKey)),
		"certificate":                  pemOf("CERTIFICATE", cert),
		"encrypted PKCS#8":             []byte(encryptedPKCS8),
		"encrypted legacy PEM":         pem.EncodeToMemory(legacy),
		"EC P-384 SEC1":                pemOf("EC PRIVATE KEY", sec384),
		"EC P-384 PKCS#8":              pkcs8(e384),
		"EC P-521 PKCS#8":              pkcs8(e521),
		"EC secp256k1 SEC1":            []byte(secp256k1SEC1),
		"RSA 1024":                     pkcs8(r1024),
		"Ed25519":                      pkcs8(ed),
		"garbage":                      []byte("not a key at all"),
		"empty":                        nil,
		"PRIVATE KEY of garbage bytes": pemOf("PRIVATE KEY", []byte("garbage")),
		"two private keys":             append(pkcs8(e8), pkcs8(e1)...),
		"trailing data":                append(pkcs8(e8), []byte("trailing")...),
	}
	return f, nil
}

// encryptedPKCS8 is a throwaway P-256 key, encrypted with the password
// "secret" (openssl pkcs8 -topk8 -v2 aes-256-cbc).
const encryptedPKCS8 = `-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiQbWDywQboswICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEBhZRLjlJPI6yuu+x4X2bu0EgZD8
vBv1stzO59n2gXrlvVuR/o4qiYPQ0HGVzCwfPUnhWYE508Zl+59/ETfTKok5e64V
0GRPO9GyAuize8aIaKhY2ja4MZmCBA0LeRYAUuECmrPMgalefRiAPHdFJ3NCfBgQ
AcdyQxOhbah+4i2GHwwLYHu8zf/gLxcjZYwzb8rKtFzkmtxVWH/HXWg1Jkf0G/w=
-----END ENCRYPTED PRIVATE KEY-----
`

// secp256k1SEC1 is a throwaway key on a curve Go does not know
// (openssl ecparam -name secp256k1 -genkey -noout).
const secp256k1SEC1 = `-----BEGIN EC PRIVATE KEY-----
MHQCAQEEIBt/kJqw8AqjpGWGl0ZxiO7BkANwneUtSoCzCmCojNCAoAcGBSuBBAAK
oUQDQgAEIoqzqV0oThSH/ytgar35o23Ubuax51lQA6QqKx/As1sSDHjowWnQklgI
SJhXwIn+V1ZBHelSNVWbJMTT93+sZA==
-----END EC PRIVATE KEY-----
`
