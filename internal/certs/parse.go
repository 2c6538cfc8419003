package certs

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/keyward/keyward/internal/errs"
)

// fileExtensions are the file name endings Parse accepts, in the order its
// error message lists them (seed 001 names pem, crt, cer, cert and der; the
// issue adds the PKCS#7 and PKCS#12 bundles).
var fileExtensions = []string{"pem", "crt", "cer", "cert", "der", "p7b", "p7c", "p12", "pfx"}

// Parse reads the certificates one input holds. The format comes from the
// file name's extension and, for .pem/.crt/.cer/.cert/.der, from the content
// (such files are PEM or DER in the wild whatever their name says); a paste
// is decoded as its Encoding says, and a paste whose text contradicts its
// Encoding is explained rather than guessed, so the user learns which
// choice to make. Several certificates come back leaf first when they form
// one chain, otherwise in the order given, without duplicates. Every error
// is an *errs.Error on in.Field, with a sentence the user can act on.
func Parse(in Input) (Parsed, error) {
	if err := checkSize(in); err != nil {
		return Parsed{}, err
	}
	var p Parsed
	var err error
	if in.FileName == "" {
		p.Certificates, err = parsePaste(in)
	} else {
		p, err = parseFile(in)
	}
	if err != nil {
		return Parsed{}, err
	}
	p.Certificates = orderChain(dedupe(p.Certificates))
	return p, nil
}

// checkSize refuses empty and oversized inputs before any decoding, so that
// a huge upload costs nothing but its read.
func checkSize(in Input) error {
	what := "The pasted text"
	if in.FileName != "" {
		what = fmt.Sprintf("The file %q", baseName(in.FileName))
	}
	if len(in.Content) > MaxInput {
		return errs.FieldErrorf(in.Field, "%s is %d bytes; the limit is 256 KiB.", what, len(in.Content))
	}
	if len(bytes.TrimSpace(in.Content)) == 0 {
		if in.FileName == "" {
			return errs.FieldErrorf(in.Field, "The certificate text is empty: paste a certificate.")
		}
		return errs.FieldErrorf(in.Field, "%s is empty.", what)
	}
	return nil
}

// parseFile picks the reader by extension.
func parseFile(in Input) (Parsed, error) {
	name := baseName(in.FileName)
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return Parsed{}, errs.FieldErrorf(in.Field, "The file name %q has no extension; use one of %s.", name, extensionList())
	}
	switch ext := strings.ToLower(name[dot+1:]); ext {
	case "pem", "crt", "cer", "cert", "der":
		certs, err := parseSniffed(in.Field, in.Content)
		return Parsed{Certificates: certs}, err
	case "p7b", "p7c":
		if looksLikePEM(in.Content) {
			certs, err := parsePEM(in.Field, in.Content)
			return Parsed{Certificates: certs}, err
		}
		certs, err := parsePKCS7(in.Field, in.Content)
		return Parsed{Certificates: certs}, err
	case "p12", "pfx":
		return parsePKCS12(in)
	default:
		return Parsed{}, errs.FieldErrorf(in.Field, "Files ending in .%s are not accepted; use one of %s.", ext, extensionList())
	}
}

// parseSniffed reads a file that may be PEM, DER or (as some Windows tools
// write .cer files) bare base64 of DER.
func parseSniffed(field string, data []byte) ([]*x509.Certificate, error) {
	if looksLikePEM(data) {
		return parsePEM(field, data)
	}
	if isText(data) {
		der, err := decodeBase64(field, data)
		if err != nil {
			return nil, errs.FieldErrorf(field, "This file holds text that is neither PEM nor base64; it holds no certificate.")
		}
		return parseDER(field, der)
	}
	return parseDER(field, data)
}

// parsePaste decodes pasted text as its Encoding says, explaining the
// common mix-up of the two encodings instead of silently accepting it: the
// choice is stored with the configuration, so it should be right.
func parsePaste(in Input) ([]*x509.Certificate, error) {
	pemText := looksLikePEM(in.Content)
	switch strings.ToUpper(strings.TrimSpace(in.Encoding)) {
	case EncodingBase64:
		if pemText {
			return nil, errs.FieldErrorf(in.Field, "This looks like PEM; choose BASE64PEM.")
		}
		der, err := decodeBase64(in.Field, in.Content)
		if err != nil {
			return nil, err
		}
		return parseDER(in.Field, der)
	case EncodingBase64PEM:
		if !pemText {
			if _, err := decodeBase64(in.Field, in.Content); err == nil {
				return nil, errs.FieldErrorf(in.Field, "This looks like base64 of DER; choose BASE64.")
			}
			return nil, errs.FieldErrorf(in.Field, "This is not PEM text: it has no -----BEGIN CERTIFICATE----- line.")
		}
		return parsePEM(in.Field, in.Content)
	case "":
		return nil, errs.FieldErrorf(in.Field, "Choose the encoding type of the pasted text: %s or %s.", EncodingBase64, EncodingBase64PEM)
	default:
		return nil, errs.FieldErrorf(in.Field, "The encoding type %q is not one of %s, %s.", in.Encoding, EncodingBase64, EncodingBase64PEM)
	}
}

// baseName drops any directory a browser or client sent with the file name
// (C:\fakepath\server.cer).
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[i+1:]
	}
	return name
}

func extensionList() string {
	return "." + strings.Join(fileExtensions, ", .")
}

func looksLikePEM(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "))
}

// isText reports whether data is printable ASCII and whitespace only; DER
// never is (its length bytes are not), so such a file is text.
func isText(data []byte) bool {
	for _, b := range data {
		if (b < 0x20 || b > 0x7e) && b != '\n' && b != '\r' && b != '\t' {
			return false
		}
	}
	return true
}

// dedupe drops repeated certificates (a PKCS#12 file may hold the leaf
// twice, a PEM bundle the same CA twice), keeping the first.
func dedupe(certs []*x509.Certificate) []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(certs))
	seen := make(map[string]bool, len(certs))
	for _, c := range certs {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			out = append(out, c)
		}
	}
	return out
}
