// Package truststore manages each environment's truststore: the CA
// certificates its gateways trust. It is Mozilla's built-in roots (shipped
// with the binary, read-only, which an environment can leave out) plus the
// CAs the team adds. Adding or removing a CA, or leaving the built-in roots
// out, is a deploy: the environment's revision grows, the history and the
// webhook say so, and the bundle carries the new truststore. Admins change
// it; any signed-in user reads it.
package truststore

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// Service manages truststores.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	clock  clock.Clock
	writer *publish.Writer
}

// NewService returns a truststore Service writing through w.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, w *publish.Writer) *Service {
	return &Service{db: d, audit: a, clock: c, writer: w}
}

// CA is one certificate of a truststore.
type CA struct {
	SHA256    string
	Alias     string
	Subject   string
	NotAfter  time.Time
	BuiltIn   bool
	Source    string
	AddedBy   string
	CreatedAt time.Time
	Details   certs.Details
	Cert      *x509.Certificate
}

// Truststore is an environment's truststore.
type Truststore struct {
	Environment  string
	Revision     int64
	BuiltinRoots bool // whether the built-in roots are part of it
	Added        []CA
	BuiltIn      []CA // the built-in roots (listed even when left out)
}

// Get returns an environment's truststore; search narrows the built-in
// roots listed (subject, case-insensitive).
func (s *Service) Get(ctx context.Context, p access.Principal, env, search string) (Truststore, error) {
	if !p.Authenticated() {
		return Truststore{}, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	var t Truststore
	err := s.db.View(ctx, func(q *queries.Queries) error {
		var err error
		t, err = Load(ctx, q, env, s.clock.Now())
		return err
	})
	if err != nil {
		return t, err
	}
	if search = strings.ToLower(strings.TrimSpace(search)); search != "" {
		var kept []CA
		for _, c := range t.BuiltIn {
			if strings.Contains(strings.ToLower(c.Subject), search) {
				kept = append(kept, c)
			}
		}
		t.BuiltIn = kept
	}
	return t, nil
}

// Trusted returns the certificates an environment trusts (its added CAs
// and, unless left out, the built-in roots), read through q: what chain
// analysis needs, without describing every built-in root as Load does.
func Trusted(ctx context.Context, q *queries.Queries, envName string) ([]*x509.Certificate, error) {
	env, err := environments.Load(ctx, q, envName)
	if err != nil {
		return nil, err
	}
	rows, err := q.ListTruststoreCAs(ctx, env.ID)
	if err != nil {
		return nil, fmt.Errorf("truststore of %q: %w", envName, err)
	}
	var out []*x509.Certificate
	for _, r := range rows {
		c, err := x509.ParseCertificate(r.Der)
		if err != nil {
			return nil, fmt.Errorf("truststore of %q: CA %s: %w", envName, r.Sha256, err)
		}
		out = append(out, c)
	}
	if env.BuiltinRoots {
		out = append(out, certs.BuiltinRoots()...)
	}
	return out, nil
}

// Load reads an environment's truststore through q (other services use it
// inside their transactions, e.g. to analyse a certificate's chain).
func Load(ctx context.Context, q *queries.Queries, envName string, now time.Time) (Truststore, error) {
	env, err := environments.Load(ctx, q, envName)
	if err != nil {
		return Truststore{}, err
	}
	rows, err := q.ListTruststoreCAs(ctx, env.ID)
	if err != nil {
		return Truststore{}, fmt.Errorf("truststore of %q: %w", envName, err)
	}
	t := Truststore{Environment: env.Name, Revision: env.Revision, BuiltinRoots: env.BuiltinRoots, Added: []CA{}, BuiltIn: []CA{}}
	for _, r := range rows {
		c, err := x509.ParseCertificate(r.Der)
		if err != nil {
			return Truststore{}, fmt.Errorf("truststore of %q: CA %s: %w", envName, r.Sha256, err)
		}
		t.Added = append(t.Added, CA{SHA256: r.Sha256, Alias: r.Alias, Subject: r.Subject, NotAfter: r.NotAfter, Source: r.Source,
			AddedBy: r.AddedBy, CreatedAt: r.CreatedAt, Details: certs.Describe(c, now), Cert: c})
	}
	for _, c := range certs.BuiltinRoots() {
		d := certs.Describe(c, now)
		t.BuiltIn = append(t.BuiltIn, CA{SHA256: d.SHA256, Subject: d.Subject, NotAfter: c.NotAfter, BuiltIn: true, Details: d, Cert: c})
	}
	return t, nil
}

// AddInput is a CA certificate to add.
type AddInput struct {
	Cert   certs.Input
	Pick   int    // which certificate of the input (0: the first)
	Alias  string // "" = the subject's common name
	Source string // FILE, CLIPBOARD, API, CERTIFICATE, URL
}

func object(env, sha string) string { return fmt.Sprintf("truststore/%s/%s", env, sha) }

// Add adds a CA certificate to an environment's truststore and deploys the
// change.
func (s *Service) Add(ctx context.Context, p access.Principal, envName string, in AddInput) (CA, *publish.Result, error) {
	var out CA
	var result *publish.Result
	wr := publish.Write{Principal: p, Environment: envName, Action: "truststore.add", Object: "truststore/" + envName}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		env, err := environments.Load(ctx, q, envName)
		if err != nil {
			return err
		}
		parsed, err := certs.Parse(in.Cert)
		if err != nil {
			return err
		}
		if in.Pick < 0 || in.Pick >= len(parsed.Certificates) {
			return errs.FieldErrorf("pick", "Choose one of the %d certificate(s) the input holds.", len(parsed.Certificates))
		}
		c := parsed.Certificates[in.Pick]
		if !c.BasicConstraintsValid || !c.IsCA {
			return errs.FieldErrorf(in.Cert.Field, "%s is not a CA certificate (its basic constraints do not say CA), so it cannot anchor a chain.", c.Subject.String())
		}
		alias := in.Alias
		if alias == "" {
			alias = c.Subject.CommonName
		}
		if err := names.ValidateLabel("alias", "The alias", alias, publish.MaxAlias); err != nil {
			return err
		}
		d := certs.Describe(c, s.clock.Now())
		if _, err := q.GetTruststoreCA(ctx, queries.GetTruststoreCAParams{EnvironmentID: env.ID, Sha256: d.SHA256}); err == nil {
			return errs.FieldErrorf(in.Cert.Field, "%s is already in the truststore of %q.", d.Subject, envName)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		row, err := q.AddTruststoreCA(ctx, queries.AddTruststoreCAParams{EnvironmentID: env.ID, Sha256: d.SHA256, Alias: alias, Der: c.Raw,
			Subject: d.Subject, NotAfter: c.NotAfter, Source: in.Source, AddedBy: p.Username, CreatedAt: s.clock.Now()})
		if err != nil {
			return err
		}
		out = CA{SHA256: row.Sha256, Alias: row.Alias, Subject: row.Subject, NotAfter: row.NotAfter, Source: row.Source,
			AddedBy: row.AddedBy, CreatedAt: row.CreatedAt, Details: d, Cert: c}
		if err := o.Deploy(ctx, q, publish.Target{Type: deploy.ObjectTrustedCA, Name: d.Subject, Env: env, Detail: "added " + d.SHA256,
			Mark: func(int64) error { return nil }}); err != nil {
			return err
		}
		result = o.Result(deploy.ObjectTrustedCA, deploy.Deploy)
		return nil
	})
	return out, result, err
}

// Remove removes an added CA from an environment's truststore (a deploy).
func (s *Service) Remove(ctx context.Context, p access.Principal, envName, sha string) (*publish.Result, error) {
	var result *publish.Result
	wr := publish.Write{Principal: p, Environment: envName, Action: "truststore.remove", Object: object(envName, sha)}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		env, err := environments.Load(ctx, q, envName)
		if err != nil {
			return err
		}
		row, err := q.GetTruststoreCA(ctx, queries.GetTruststoreCAParams{EnvironmentID: env.ID, Sha256: strings.ToLower(sha)})
		if errors.Is(err, sql.ErrNoRows) {
			if _, builtin := certs.BuiltinRoot(strings.ToLower(sha)); builtin {
				return errs.Errorf(errs.Conflict, "This is a built-in root; it cannot be removed, but the environment can leave all built-in roots out.")
			}
			return errs.Errorf(errs.NotFound, "The truststore of %q holds no added CA with SHA-256 %s.", envName, sha)
		} else if err != nil {
			return err
		}
		if err := q.DeleteTruststoreCA(ctx, row.ID); err != nil {
			return err
		}
		if err := o.Undeploy(ctx, q, publish.Target{Type: deploy.ObjectTrustedCA, Name: row.Subject, Env: env, Mark: func(int64) error { return nil }}); err != nil {
			return err
		}
		result = o.Result(deploy.ObjectTrustedCA, deploy.Undeploy)
		return nil
	})
	return result, err
}

// SetBuiltinRoots puts the built-in roots in an environment's truststore or
// leaves them out (a deploy when it changes anything).
func (s *Service) SetBuiltinRoots(ctx context.Context, p access.Principal, envName string, include bool) (*publish.Result, error) {
	var result *publish.Result
	wr := publish.Write{Principal: p, Environment: envName, Action: "truststore.builtin_roots", Object: "truststore/" + envName}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		env, err := environments.Load(ctx, q, envName)
		if err != nil {
			return err
		}
		verb := deploy.Deploy
		if !include {
			verb = deploy.Undeploy
		}
		result = o.Result(deploy.ObjectTrustedCA, verb)
		if env.BuiltinRoots == include {
			return nil
		}
		if err := q.SetEnvironmentBuiltinRoots(ctx, queries.SetEnvironmentBuiltinRootsParams{BuiltinRoots: include, UpdatedAt: s.clock.Now(), ID: env.ID}); err != nil {
			return err
		}
		t := publish.Target{Type: deploy.ObjectTrustedCA, Name: "built-in roots", Env: env, Mark: func(int64) error { return nil }}
		if include {
			err = o.Deploy(ctx, q, t)
		} else {
			err = o.Undeploy(ctx, q, t)
		}
		result = o.Result(deploy.ObjectTrustedCA, verb)
		return err
	})
	return result, err
}
