package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/smallstep/pkcs7"
	"software.sslmate.com/src/go-pkcs12"
)

// msgPKCS12Key is the notice for a PKCS#12 file that held a private key:
// the certificates are what this area stores, and the user should know the
// key did not come along.
const msgPKCS12Key = "The PKCS#12 file also held a private key; it was not stored here (keys live under Keys)."

// parsePKCS7 reads the certificates of a DER (or BER) PKCS#7 SignedData, the
// .p7b/.p7c bundle CAs and Windows hand out. Signatures and content are
// ignored: such bundles are "degenerate", certificates only.
func parsePKCS7(field string, der []byte) ([]*x509.Certificate, error) {
	var p7 *pkcs7.PKCS7
	err := guard(func() (err error) {
		p7, err = pkcs7.Parse(der)
		return err
	})
	switch {
	case errors.Is(err, pkcs7.ErrUnsupportedContentType):
		return nil, errs.FieldErrorf(field, "This PKCS#7 file is not a certificate bundle: its content is not SignedData.")
	case err != nil && strings.HasPrefix(err.Error(), "x509:"):
		return nil, refused(field, err)
	case err != nil:
		return nil, errs.FieldErrorf(field, "This is not a PKCS#7 bundle, or it is damaged or truncated.")
	case len(p7.Certificates) == 0:
		return nil, errs.FieldErrorf(field, "This PKCS#7 bundle holds no certificates.")
	}
	return p7.Certificates, nil
}

// parsePKCS12 reads the certificates of a PKCS#12 file with in.Password.
// A file with a private key (what `openssl pkcs12 -export` and Windows
// write) is read with DecodeChain, a certificates-only truststore (what Java
// writes) with DecodeTrustStore; go-pkcs12 has no reader for other shapes.
func parsePKCS12(in Input) (Parsed, error) {
	var key any
	var leaf *x509.Certificate
	var cas []*x509.Certificate
	err := guard(func() (err error) {
		key, leaf, cas, err = pkcs12.DecodeChain(in.Content, in.Password)
		return err
	})
	if err == nil {
		p := Parsed{Certificates: append([]*x509.Certificate{leaf}, cas...)}
		if key != nil {
			p.Notice = msgPKCS12Key
		}
		return p, nil
	}
	if err.Error() == "pkcs12: private key missing" {
		var certs []*x509.Certificate
		err = guard(func() (err error) {
			certs, err = pkcs12.DecodeTrustStore(in.Content, in.Password)
			return err
		})
		if err == nil && len(certs) > 0 {
			return Parsed{Certificates: certs}, nil
		}
		if err == nil {
			return Parsed{}, errs.FieldErrorf(in.Field, "This PKCS#12 file holds no certificates.")
		}
	}
	return Parsed{}, pkcs12Error(in.Field, err)
}

// pkcs12Error turns go-pkcs12's errors into sentences.
func pkcs12Error(field string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		return errs.FieldErrorf(field, "The PKCS#12 password is wrong.")
	case strings.Contains(msg, "cannot be encoded in UCS-2"):
		return errs.FieldErrorf(field, "The PKCS#12 password holds characters PKCS#12 cannot encode (outside Unicode's Basic Multilingual Plane).")
	case strings.Contains(msg, "not marked as trusted"):
		return errs.FieldErrorf(field, "This PKCS#12 file holds certificates without a private key that are not marked as trusted, a layout Keyward cannot read; export the certificates as PEM or PKCS#7 instead.")
	case strings.Contains(msg, "expected exactly one key bag"):
		return errs.FieldErrorf(field, "This PKCS#12 file holds more than one private key; Keyward reads files with at most one.")
	case strings.HasPrefix(msg, "x509:"):
		return refused(field, err)
	case errors.As(err, new(pkcs12.NotImplementedError)):
		return errs.FieldErrorf(field, "This PKCS#12 file uses a layout or algorithm Keyward cannot read (%s); export it again as PEM or PKCS#7.", strings.TrimPrefix(msg, "pkcs12: "))
	default:
		return errs.FieldErrorf(field, "This is not a PKCS#12 file, or it is damaged or truncated.")
	}
}

// guard runs a third-party decoder and turns a panic on hostile input into
// an error, so that a malformed upload can never take the server down.
func guard(decode func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return decode()
}
