package hsm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"

	"github.com/keyward/keyward/internal/errs"
)

// MaxPEMSize bounds an imported PEM; an RSA 4096 PKCS#8 key is about 3.3 KiB.
const MaxPEMSize = 64 << 10

func pemError(format string, args ...any) error {
	return errs.FieldErrorf("privateKeyPem", format, args...)
}

// Parse validates an import request and returns its private key, for the
// backends' Import.
func (r ImportRequest) Parse() (crypto.Signer, error) {
	if err := ValidateLabel(r.Label); err != nil {
		return nil, err
	}
	return ParsePrivateKeyPEM(r.PrivateKeyPEM, r.Algorithm)
}

// ParsePrivateKeyPEM parses an import request's PEM: one unencrypted PKCS#1
// ("RSA PRIVATE KEY"), PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY")
// block, optionally preceded by the "EC PARAMETERS" block openssl writes,
// holding an RSA 2048/4096 or EC P-256 key. When want is set, a key of another
// algorithm is refused. The result is *rsa.PrivateKey or *ecdsa.PrivateKey;
// every refusal is a field error on "privateKeyPem".
func ParsePrivateKeyPEM(data []byte, want Algorithm) (crypto.Signer, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, pemError("Paste a PEM private key.")
	}
	if len(data) > MaxPEMSize {
		return nil, pemError("The PEM is larger than %d KiB; paste a single private key.", MaxPEMSize>>10)
	}
	block, err := privateKeyBlock(data)
	if err != nil {
		return nil, err
	}
	key, err := parseBlock(block)
	if err != nil {
		return nil, err
	}
	return checkKey(key, want)
}

// privateKeyBlock finds the one private key block of data.
func privateKeyBlock(data []byte) (*pem.Block, error) {
	var found *pem.Block
	rest := data
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = next
		switch {
		case block.Type == "EC PARAMETERS":
			continue
		case block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] == "4,ENCRYPTED":
			return nil, pemError("The private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem).")
		case block.Type == "PUBLIC KEY" || block.Type == "RSA PUBLIC KEY":
			return nil, pemError("This is a public key; only private keys can be imported.")
		case block.Type == "CERTIFICATE":
			return nil, pemError("This is a certificate; only private keys can be imported.")
		case strings.HasSuffix(block.Type, "PRIVATE KEY"):
			if found != nil {
				return nil, pemError("The PEM holds more than one private key; paste one.")
			}
			found = block
		default:
			return nil, pemError("A %q PEM block is not a private key.", block.Type)
		}
	}
	if found == nil {
		return nil, pemError("No PEM private key found: paste a block starting with -----BEGIN PRIVATE KEY-----.")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, pemError("The PEM has trailing data that is not a PEM block.")
	}
	return found, nil
}

func parseBlock(block *pem.Block) (any, error) {
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, pemError("The RSA PRIVATE KEY block is not a valid PKCS#1 key.")
		}
		return k, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, ecParseError(err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			if strings.Contains(err.Error(), "curve") {
				return nil, ecParseError(err)
			}
			return nil, pemError("The PRIVATE KEY block is not a PKCS#8 RSA or EC key.")
		}
		return k, nil
	default:
		return nil, pemError("%s is not supported; use PKCS#1, PKCS#8 or SEC1 (EC PRIVATE KEY).", block.Type)
	}
}

func ecParseError(err error) error {
	if strings.Contains(err.Error(), "curve") {
		return pemError("Unsupported curve: only P-256 (prime256v1) keys can be imported.")
	}
	return pemError("The EC PRIVATE KEY block is not a valid SEC1 key.")
}

func checkKey(key any, want Algorithm) (crypto.Signer, error) {
	var alg Algorithm
	switch k := key.(type) {
	case *rsa.PrivateKey:
		alg = RSA
		if bits := k.N.BitLen(); bits != 2048 && bits != 4096 {
			return nil, pemError("The RSA key has %d bits; only 2048 and 4096 bit keys can be imported.", bits)
		}
		if len(k.Primes) != 2 {
			return nil, pemError("Multi-prime RSA keys cannot be imported.")
		}
	case *ecdsa.PrivateKey:
		alg = EC
		if k.Curve != elliptic.P256() {
			return nil, pemError("Unsupported curve %s: only P-256 (prime256v1) keys can be imported.", k.Curve.Params().Name)
		}
	case ed25519.PrivateKey:
		return nil, pemError("Ed25519 keys are not supported; import an RSA or EC P-256 key.")
	default:
		return nil, pemError("Unsupported key type; import an RSA or EC P-256 key.")
	}
	if want != "" && want != alg {
		return nil, pemError("The PEM holds an %s key, not the %s key chosen.", alg, want)
	}
	return key.(crypto.Signer), nil
}
