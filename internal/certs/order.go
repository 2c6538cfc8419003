package certs

import (
	"bytes"
	"crypto/x509"
)

// orderChain returns certs leaf first when they form exactly one chain
// (every certificate but the top issued by the next), and unchanged
// otherwise: files list chains in either direction, and the wizard offers
// the first certificate as the one to store, but a bundle of unrelated CAs
// has no order to impose.
func orderChain(certs []*x509.Certificate) []*x509.Certificate {
	if len(certs) < 2 {
		return certs
	}
	var leaf *x509.Certificate
	for _, c := range certs {
		if issuesAny(c, certs) {
			continue
		}
		if leaf != nil {
			return certs // two certificates issue nothing here: no single chain
		}
		leaf = c
	}
	if leaf == nil {
		return certs
	}
	chain := []*x509.Certificate{leaf}
	used := map[*x509.Certificate]bool{leaf: true}
	for cur := leaf; len(chain) < len(certs); {
		parent := issuerIn(cur, certs, used)
		if parent == nil {
			return certs
		}
		chain = append(chain, parent)
		used[parent] = true
		cur = parent
	}
	return chain
}

// issuesAny reports whether c issued another certificate of certs.
func issuesAny(c *x509.Certificate, certs []*x509.Certificate) bool {
	for _, child := range certs {
		if child != c && issuedBy(child, c) {
			return true
		}
	}
	return false
}

// issuerIn finds child's issuer among certs, skipping those already used.
func issuerIn(child *x509.Certificate, certs []*x509.Certificate, used map[*x509.Certificate]bool) *x509.Certificate {
	for _, c := range certs {
		if !used[c] && c != child && issuedBy(child, c) {
			return c
		}
	}
	return nil
}

// issuedBy reports whether child names parent as its issuer: the issuer
// name matches the parent's subject and, where both are present, the
// authority key id matches the parent's subject key id. This is how path
// builders link certificates before checking signatures; the signature
// itself is checked by Analyze, not here.
func issuedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	if len(child.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 {
		return bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
	}
	return true
}

// isSelfIssued reports whether c names itself as its issuer.
func isSelfIssued(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject)
}
