package tlsreload

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Load reads a PEM certificate chain (the server's certificate first, then
// any intermediates) and its PEM private key, and checks that they belong
// together. Every error names the file at fault and says what was expected,
// since the operator reads it at start-up or in the log after a reload.
func Load(certFile, keyFile string) (*tls.Certificate, error) {
	chain, err := loadChain(certFile)
	if err != nil {
		return nil, err
	}
	key, err := loadKey(keyFile, certFile)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(chain[0].PublicKey) {
		return nil, fmt.Errorf("the private key in %s does not match the certificate in %s (%s): give the key the certificate was issued for", keyFile, certFile, chain[0].Subject)
	}
	out := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out, nil
}

// loadChain reads the CERTIFICATE blocks of certFile.
func loadChain(certFile string) ([]*x509.Certificate, error) {
	b, err := readFile("certificate", certFile)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	sawKey := false
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			sawKey = true
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate file %s: certificate %d does not parse: %w", certFile, len(chain)+1, err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		hint := ""
		if sawKey {
			hint = "; it holds a private key: are the certificate and key files swapped?"
		}
		return nil, fmt.Errorf("certificate file %s is not a certificate: it holds no PEM \"CERTIFICATE\" block%s", certFile, hint)
	}
	return chain, nil
}

// loadKey reads the private key of keyFile: PKCS#8 ("PRIVATE KEY"),
// PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY").
func loadKey(keyFile, certFile string) (crypto.Signer, error) {
	b, err := readFile("key", keyFile)
	if err != nil {
		return nil, err
	}
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" && keyFile == certFile {
			continue // one file holding both
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
			return nil, fmt.Errorf("key file %s holds an encrypted private key: Keyward needs it unencrypted (protect the file with its permissions)", keyFile)
		}
		key, err := parseKey(block)
		if err != nil {
			return nil, fmt.Errorf("key file %s: the %q block does not parse: %w", keyFile, block.Type, err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("key file %s is not a private key: it holds no PEM \"PRIVATE KEY\" block", keyFile)
}

func parseKey(block *pem.Block) (crypto.Signer, error) {
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported key type %T: use RSA, ECDSA or Ed25519", key)
}

func readFile(what, name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%s file %s does not exist", what, name)
	case err != nil:
		return nil, fmt.Errorf("%s file: %w", what, err)
	case len(b) == 0:
		return nil, fmt.Errorf("%s file %s is empty", what, name)
	}
	return b, nil
}
