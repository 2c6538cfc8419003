package keymaterial

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestDecodeBase64(t *testing.T) {
	raw := []byte{0xfb, 0xff, 0xbf, 0x00, 0x01, 0x02, 0x03}
	for _, in := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		" +/+/\r\nAAECAw==\n", // wrapped lines and spaces, as base64(1) prints
	} {
		got, err := DecodeBase64(in)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("DecodeBase64(%q) = %x, %v; want %x", in, got, err, raw)
		}
	}
	for _, in := range []string{"not base64!", "abc*", "A"} {
		if _, err := DecodeBase64(in); err == nil {
			t.Errorf("DecodeBase64(%q): no error", in)
		}
	}
}

func TestDecodePasted(t *testing.T) {
	aes := bytes.Repeat([]byte{0xA7, 0x13}, 8)
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	pemText := string(pemOf("PRIVATE KEY", der))
	cases := []struct {
		what string
		t    Type
		in   string
		want []byte
	}{
		{"secret key as hex", SecretKey, "  " + hex.EncodeToString(aes) + "\n", aes},
		{"secret key as upper-case hex", SecretKey, strings.ToUpper(hex.EncodeToString(aes)), aes},
		{"secret key as base64", SecretKey, base64.StdEncoding.EncodeToString(aes), aes},
		{"secret key as URL-safe base64", SecretKey, base64.RawURLEncoding.EncodeToString(aes), aes},
		// 32 hex digits are valid base64 too: hex wins for a secret key.
		{"hex that is also base64", SecretKey, "00112233445566778899aabbccddeeff", mustHex("00112233445566778899aabbccddeeff")},
		{"secret key as neither", SecretKey, " hello, world ", []byte("hello, world")},
		{"PEM for a secret key stays text", SecretKey, pemText, []byte(strings.TrimSpace(pemText) + "\n")},
		{"PEM private key", PrivateKey, "\n" + pemText + "\n\n", []byte(strings.TrimSpace(pemText) + "\n")},
		{"private key as base64 DER", PrivateKey, base64.StdEncoding.EncodeToString(der), der},
		{"public key text that is no encoding", PublicKey, "this is not a key", []byte("this is not a key\n")},
	}
	for _, c := range cases {
		if got := DecodePasted(c.t, c.in); !bytes.Equal(got, c.want) {
			t.Errorf("%s: DecodePasted = %q, want %q", c.what, got, c.want)
		}
	}
	// What DecodePasted gives is what Parse accepts.
	if k, err := Parse("content", PrivateKey, "", DecodePasted(PrivateKey, base64.StdEncoding.EncodeToString(der))); err != nil || k.Format != "PKCS#8 DER" {
		t.Errorf("pasted base64 DER: %+v, %v", k.Format, err)
	}
	if k, err := Parse("content", SecretKey, "", DecodePasted(SecretKey, hex.EncodeToString(aes))); err != nil || k.Algorithm != AES || k.Bits != 128 {
		t.Errorf("pasted hex AES key: %v %d, %v", k.Algorithm, k.Bits, err)
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
