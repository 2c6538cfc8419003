package certs

import (
	"crypto/x509"
	"errors"
	"slices"
	"time"
)

// Analyze verifies leaf against a truststore (roots) with the intermediates
// it came with, at now, and says what a careful reviewer would: which root
// anchors it, or what is missing; and, trusted or not, what is weak or odd
// (SHA-1 or MD5 signatures, small RSA keys, a CA flag on the stored
// certificate, self-signed, a host it does not cover). host is the host the
// certificate was fetched from, or "" to skip the hostname check. Any key
// usage is accepted: a truststore serves TLS servers and clients alike.
func Analyze(leaf *x509.Certificate, intermediates []*x509.Certificate, roots []*x509.Certificate, host string, now time.Time) Analysis {
	a := Analysis{Findings: []Finding{}, Chain: []Details{}}
	if leaf == nil {
		return a
	}
	given := []*x509.Certificate{leaf}
	interPool := x509.NewCertPool()
	for _, c := range intermediates {
		if c != nil && !c.Equal(leaf) {
			interPool.AddCert(c)
			given = append(given, c)
		}
	}
	opts := x509.VerifyOptions{
		Roots:         rootPool(roots), // never nil: nil would mean the system roots
		Intermediates: interPool,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	p := buildPath(leaf, given[1:], roots)
	checked := p.checked()
	if chains, err := leaf.Verify(opts); err == nil {
		chain := slices.MinFunc(chains, func(x, y []*x509.Certificate) int { return len(x) - len(y) })
		a.Trusted, a.AnchoredBy = true, chain[len(chain)-1].Subject.String()
		checked, given = chain, chain
	} else {
		a.Findings = append(a.Findings, verifyFindings(leaf, err, p, opts)...)
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Cert != nil && !slices.ContainsFunc(checked, inv.Cert.Equal) {
			checked = append(checked, inv.Cert) // Verify tried a path of its own
		}
	}
	for _, c := range checked {
		a.Findings = append(a.Findings, timeFindings(c, now)...)
	}
	a.Findings = append(a.Findings, weaknessFindings(leaf, checked)...)
	a.Findings = append(a.Findings, leafFindings(leaf, host)...)
	slices.SortStableFunc(a.Findings, func(x, y Finding) int {
		return severityRank(x.Severity) - severityRank(y.Severity)
	})
	for _, c := range given {
		a.Chain = append(a.Chain, Describe(c, now))
	}
	return a
}

func severityRank(s string) int {
	if s == SeverityError {
		return 0
	}
	return 1
}

// verifyFindings explains why Verify failed. Validity periods are reported
// per certificate by timeFindings, so an expiry is not repeated here;
// instead the chain is verified again at a moment when every certificate
// of the path was valid, to tell whether it would also lack an anchor.
func verifyFindings(leaf *x509.Certificate, err error, p path, opts x509.VerifyOptions) []Finding {
	var inv x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		at, ok := commonValidity(p.checked())
		if !ok || at.Equal(opts.CurrentTime) {
			return nil
		}
		opts.CurrentTime = at
		if _, err := leaf.Verify(opts); err != nil && !(errors.As(err, &inv) && inv.Reason == x509.Expired) {
			return verifyFindings(leaf, err, p, opts)
		}
		return nil
	case errors.As(err, &unknown):
		return authorityFindings(leaf, p)
	case errors.As(err, &inv) && inv.Reason == x509.NotAuthorizedToSign:
		return []Finding{newFinding(SeverityError, "invalid_chain", inv.Cert, "The certificate %q issues certificates but is not a CA certificate, or its key usage does not allow signing certificates.", inv.Cert.Subject.String())}
	default:
		return []Finding{newFinding(SeverityError, "invalid_chain", leaf, "The chain does not verify: %v.", err)}
	}
}

// authorityFindings tells a missing intermediate from an untrusted root by
// following issuer names through the given chain, as the brief for the
// certificates area puts it: the leaf's issuer is nowhere to be found, or
// the chain goes up to a certificate whose issuer the truststore lacks.
func authorityFindings(leaf *x509.Certificate, p path) []Finding {
	top := p.certs[len(p.certs)-1]
	switch {
	case p.anchor != nil:
		return linkFindings(p.checked())
	case isSelfIssued(top) && top == leaf:
		return []Finding{newFinding(SeverityError, "unknown_authority", leaf, "The certificate is self-signed and is not in the environment's truststore.")}
	case isSelfIssued(top):
		return []Finding{newFinding(SeverityError, "unknown_authority", top, "The chain ends at the root %q, which is not in the environment's truststore.", top.Subject.String())}
	case top == leaf:
		return []Finding{newFinding(SeverityError, "missing_intermediate", leaf, "The issuer %q is neither in the given chain nor in the truststore: an intermediate certificate is missing.", leaf.Issuer.String())}
	default:
		return []Finding{newFinding(SeverityError, "unknown_authority", top, "The chain ends at %q, whose issuer %q is not in the environment's truststore.", top.Subject.String(), top.Issuer.String())}
	}
}

// linkFindings finds the link Verify refused in a chain whose names lead
// to a trusted root: a signature with a hash Go refuses (weaknessFindings
// reports it), an issuer that is not a CA, or a signature that does not
// verify with the issuer's key.
func linkFindings(chain []*x509.Certificate) []Finding {
	for i := 0; i+1 < len(chain); i++ {
		child, parent := chain[i], chain[i+1]
		switch {
		case weakHash(child.SignatureAlgorithm) != "":
			return nil
		case !parent.BasicConstraintsValid || !parent.IsCA || parent.KeyUsage != 0 && parent.KeyUsage&x509.KeyUsageCertSign == 0:
			return []Finding{newFinding(SeverityError, "invalid_chain", parent, "The certificate %q issues certificates but is not a CA certificate, or its key usage does not allow signing certificates.", parent.Subject.String())}
		case !signatureChecks(child, parent):
			return []Finding{newFinding(SeverityError, "invalid_chain", child, "The signature of %q does not verify with the key of its issuer %q.", child.Subject.String(), parent.Subject.String())}
		}
	}
	top := chain[len(chain)-1]
	return []Finding{newFinding(SeverityError, "unknown_authority", top, "The chain leads to the trusted root %q, but Go's verifier does not accept it.", top.Subject.String())}
}

// path is the chain found by issuer names: the leaf, the intermediates it
// leads through, and the truststore root it reaches, if any.
type path struct {
	certs  []*x509.Certificate
	anchor *x509.Certificate
}

func (p path) checked() []*x509.Certificate {
	if p.anchor == nil || slices.ContainsFunc(p.certs, p.anchor.Equal) {
		return p.certs
	}
	return append(slices.Clip(p.certs), p.anchor)
}

func buildPath(leaf *x509.Certificate, intermediates, roots []*x509.Certificate) path {
	p := path{certs: []*x509.Certificate{leaf}}
	used := map[*x509.Certificate]bool{leaf: true}
	for cur := leaf; ; {
		if isSelfIssued(cur) {
			if i := slices.IndexFunc(roots, cur.Equal); i >= 0 {
				p.anchor = roots[i]
			}
			return p
		}
		if r := issuerIn(cur, roots, used); r != nil {
			p.anchor = r
			return p
		}
		next := issuerIn(cur, intermediates, used)
		if next == nil {
			return p
		}
		p.certs = append(p.certs, next)
		used[next] = true
		cur = next
	}
}

// commonValidity is a moment when every certificate of chain is valid.
func commonValidity(chain []*x509.Certificate) (time.Time, bool) {
	from, until := chain[0].NotBefore, chain[0].NotAfter
	for _, c := range chain[1:] {
		if c.NotBefore.After(from) {
			from = c.NotBefore
		}
		if c.NotAfter.Before(until) {
			until = c.NotAfter
		}
	}
	return from, !from.After(until)
}
