package secrets

import (
	"context"
	"crypto/x509"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/truststore"
	"github.com/keyward/keyward/queries"
)

// Fetched is the chain a TLS server presented, parsed, with the analysis
// of its leaf against an environment's truststore (or the built-in roots
// when no environment is named), and the chain as PEM for the wizard to
// carry into the save.
type Fetched struct {
	URL      string
	Host     string
	Chain    []certs.Details
	Analysis certs.Analysis
	PEM      string
}

// FetchCertificates connects to rawURL (https, ldaps or ldap with StartTLS),
// makes only the TLS handshake and describes the chain presented; it stores
// nothing. Because the server makes the connection, it needs
// SECRETS:MANAGE: in the project, or (project "", the API's fetch) in at
// least one project, or an admin.
func (s *Service) FetchCertificates(ctx context.Context, p access.Principal, project, envName, field, rawURL string) (Fetched, error) {
	var roots []*x509.Certificate
	err := s.db.View(ctx, func(q *queries.Queries) error {
		if project != "" {
			if _, err := manager(ctx, q, p, project); err != nil {
				return err
			}
		} else if err := fetchAllowed(ctx, q, p); err != nil {
			return err
		}
		if envName == "" {
			roots = certs.BuiltinRoots()
			return nil
		}
		var err error
		roots, err = truststore.Trusted(ctx, q, envName)
		return err
	})
	if err != nil {
		return Fetched{}, err
	}
	res, err := s.fetcher.Fetch(ctx, field, rawURL)
	if err != nil {
		return Fetched{}, err
	}
	now := s.clock.Now()
	out := Fetched{URL: res.URL, Host: res.Host, PEM: string(certs.EncodePEM(res.Chain...))}
	for _, c := range res.Chain {
		out.Chain = append(out.Chain, certs.Describe(c, now))
	}
	out.Analysis = certs.Analyze(res.Chain[0], res.Chain[1:], roots, res.Host, now)
	return out, nil
}

// fetchAllowed lets admins and members holding SECRETS:MANAGE somewhere
// fetch without naming a project.
func fetchAllowed(ctx context.Context, q *queries.Queries, p access.Principal) error {
	if !p.Authenticated() {
		return errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	if p.Admin {
		return nil
	}
	names, err := q.ListProjectNamesWithPermission(ctx, queries.ListProjectNamesWithPermissionParams{UserID: p.UserID, Permission: string(access.SecretsManage)})
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return errs.Errorf(errs.Forbidden, "Fetching certificates needs the %s permission in at least one project, since Keyward makes the connection.", access.SecretsManage)
	}
	return nil
}
