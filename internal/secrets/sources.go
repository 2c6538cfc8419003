package secrets

// JWK sources: the items JWKs are made from. A key is the first; a
// certificate is next. The JWK Connection logic (UPDATE / NULLIFY / DELETE)
// works on the JWKSource interface, never on a key row.

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/queries"
)

// SourceType names the kind of item a JWK is made from.
type SourceType string

// The JWK source types.
const (
	SourceKey         SourceType = "KEY"
	SourceCertificate SourceType = "CERTIFICATE"
)

// SourceTypes lists the source types, in the order messages name them.
var SourceTypes = []SourceType{SourceKey, SourceCertificate}

// SourceMaterial is what a JWK is built from in one environment: the key
// material and, for a certificate, its chain (leaf first).
type SourceMaterial struct {
	Key   keymaterial.Key
	Chain []*x509.Certificate
}

// JWKSource is an item JWKs can be made from.
type JWKSource interface {
	SourceType() SourceType
	SourceID() int64
	SourceName() string
	// Secret reports whether the JWKs made from it are secret (oct) ones,
	// which are never published.
	Secret() bool
	// Material returns the source's material in env; ok is false when the
	// source has no configuration there.
	Material(ctx context.Context, s *Service, q *queries.Queries, env queries.Environment) (m SourceMaterial, ok bool, err error)
}

// sourceLoader finds a source by name in a project; a missing one is a
// field error about "sourceName".
type sourceLoader func(ctx context.Context, q *queries.Queries, project queries.Project, name string) (JWKSource, error)

// sourceLoader returns the loader of a source type, or a field error
// naming the types there are.
func (s *Service) sourceLoader(t SourceType) (sourceLoader, error) {
	load, ok := s.sources[t]
	if !ok {
		known := make([]string, len(SourceTypes))
		for i, k := range SourceTypes {
			known[i] = string(k)
		}
		return nil, errs.FieldErrorf("sourceType", "sourceType %q is not supported; use %s.", t, strings.Join(known, " or "))
	}
	return load, nil
}

// keySource is a key as a JWK source.
type keySource struct{ key queries.Key }

func (k keySource) SourceType() SourceType { return SourceKey }
func (k keySource) SourceID() int64        { return k.key.ID }
func (k keySource) SourceName() string     { return k.key.Name }
func (k keySource) Secret() bool           { return k.key.KeyType == string(keymaterial.SecretKey) }

func (k keySource) Material(ctx context.Context, s *Service, q *queries.Queries, env queries.Environment) (SourceMaterial, bool, error) {
	kc, err := q.GetKeyConfig(ctx, queries.GetKeyConfigParams{KeyID: k.key.ID, EnvironmentID: env.ID})
	if errors.Is(err, sql.ErrNoRows) {
		return SourceMaterial{}, false, nil
	} else if err != nil {
		return SourceMaterial{}, false, err
	}
	m, err := s.openKeyConfig(k.key, kc, env.Name)
	return SourceMaterial{Key: m}, err == nil, err
}

func (s *Service) loadKeySource(ctx context.Context, q *queries.Queries, project queries.Project, name string) (JWKSource, error) {
	key, err := q.GetKeyByName(ctx, queries.GetKeyByNameParams{ProjectID: project.ID, Name: name})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.FieldErrorf("sourceName", "Key %q does not exist in project %q.", name, project.Name)
	} else if err != nil {
		return nil, err
	}
	return keySource{key: key}, nil
}

// certSource is a certificate as a JWK source: the public key of its
// certificate in each environment, with the chain as x5c.
type certSource struct{ cert queries.Certificate }

func (c certSource) SourceType() SourceType { return SourceCertificate }
func (c certSource) SourceID() int64        { return c.cert.ID }
func (c certSource) SourceName() string     { return c.cert.Name }
func (c certSource) Secret() bool           { return false }

func (c certSource) Material(ctx context.Context, s *Service, q *queries.Queries, env queries.Environment) (SourceMaterial, bool, error) {
	cc, err := q.GetCertificateConfig(ctx, queries.GetCertificateConfigParams{CertificateID: c.cert.ID, EnvironmentID: env.ID})
	if errors.Is(err, sql.ErrNoRows) {
		return SourceMaterial{}, false, nil
	} else if err != nil {
		return SourceMaterial{}, false, err
	}
	pc, err := storedCert(cc)
	if err != nil {
		return SourceMaterial{}, false, err
	}
	m, err := certMaterial("sourceName", pc.cert, pc.chain)
	return m, err == nil, err
}

func (s *Service) loadCertificateSource(ctx context.Context, q *queries.Queries, project queries.Project, name string) (JWKSource, error) {
	c, err := q.GetCertificateByName(ctx, queries.GetCertificateByNameParams{ProjectID: project.ID, Name: name})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.FieldErrorf("sourceName", "Certificate %q does not exist in project %q.", name, project.Name)
	} else if err != nil {
		return nil, err
	}
	return certSource{cert: c}, nil
}

// relatedJWKs lists the JWKs connected to a source.
func relatedJWKs(ctx context.Context, q *queries.Queries, src JWKSource) ([]queries.Jwk, error) {
	return q.ListJWKsBySource(ctx, queries.ListJWKsBySourceParams{SourceType: string(src.SourceType()),
		SourceID: sql.NullInt64{Int64: src.SourceID(), Valid: true}})
}

// CheckConnectionChoice is the web's JWK Connection rule for a deploying
// update of a source with related JWKs: the user chose UPDATE or NULLIFY
// in the dialog and confirmed by typing the source's name. (The API names
// its choice with jwkUpdateAction, NULLIFY by default.)
func CheckConnectionChoice(thing, name string, related int, deployNow bool, choice, typed string) error {
	if related == 0 || !deployNow {
		return nil
	}
	if choice != JWKUpdate && choice != JWKNullify {
		return errs.FieldErrorf("jwk_action", "This %s is used in %d JWK(s): choose \"Update related JWKs\" or \"Update %s only and disconnect\".",
			thing, related, strings.ToLower(thing))
	}
	return CheckTypedName(thing, name, typed)
}

// CheckTypedName is the typed-name confirmation of destructive actions.
func CheckTypedName(thing, name, typed string) error {
	if typed != name {
		return errs.FieldErrorf("confirm_name", "Type the %s's name exactly to confirm.", strings.ToLower(thing))
	}
	return nil
}
