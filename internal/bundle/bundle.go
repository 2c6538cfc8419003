// Package bundle assembles what a gateway reads of its environment: every
// item type deployed there contributes its own section (keys, JWKs and,
// next, certificates, the truststore and key sets), all read in one read
// transaction so that the revision the ETag carries labels exactly that
// content.
package bundle

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
)

// Key is a deployed key as a gateway receives it.
type Key struct {
	Project          string `json:"project"`
	Name             string `json:"name"`
	KeyType          string `json:"keyType"`
	Algorithm        string `json:"algorithm"`
	Alias            string `json:"alias"`
	Fingerprint      string `json:"fingerprint"`
	DeployedRevision int64  `json:"deployedRevision"`
	Content          string `json:"content"` // base64 of the material as given
}

// JWK is a deployed JWK as a gateway receives it; secret (oct) JWKs are
// included here, unlike the public JWKS.
type JWK struct {
	Project          string          `json:"project"`
	Name             string          `json:"name"`
	Kid              string          `json:"kid"`
	Secret           bool            `json:"secret"`
	DeployedRevision int64           `json:"deployedRevision"`
	JWK              json.RawMessage `json:"jwk"`
}

// Certificate is a deployed certificate as a gateway receives it.
type Certificate struct {
	Project          string    `json:"project"`
	Name             string    `json:"name"`
	Alias            string    `json:"alias"`
	SubjectDN        string    `json:"subjectDn"`
	EndDate          time.Time `json:"endDate"`
	SHA256           string    `json:"sha256Thumbprint"`
	DeployedRevision int64     `json:"deployedRevision"`
	PEM              string    `json:"pem"` // the certificate, then the chain given with it
}

// TrustedCA is one CA of the environment's truststore.
type TrustedCA struct {
	Alias     string    `json:"alias"`
	SubjectDN string    `json:"subjectDn"`
	EndDate   time.Time `json:"endDate"`
	SHA256    string    `json:"sha256"`
	PEM       string    `json:"pem"`
}

// Truststore is the CAs the environment's gateways trust: the CAs the team
// added, and whether Mozilla's built-in roots (as shipped with this Keyward
// version, exported by GET /apiops/environments/{name}/truststore/export)
// are part of it.
type Truststore struct {
	BuiltInRoots bool        `json:"builtInRoots"`
	CAs          []TrustedCA `json:"cas"`
}

// KeySetKey is one key of a key set as a gateway verifies it offline:
// hashes only, never a value. CredentialHash is the hex SHA-256 of the API
// key or of the client id; SecretHash that of the client secret. A key that
// is not LATEST verifies until GraceUntil.
type KeySetKey struct {
	Seq            int64      `json:"seq"`
	Latest         bool       `json:"latest"`
	Status         string     `json:"status"`
	CredentialHash string     `json:"credentialHash"`
	SecretHash     string     `json:"secretHash,omitempty"`
	ExpiresAt      *time.Time `json:"expiresAt,omitempty"`
	GraceUntil     *time.Time `json:"graceUntil,omitempty"`
}

// KeySet is a key set of the environment with the APIs it authorizes.
type KeySet struct {
	Project          string      `json:"project"`
	Name             string      `json:"name"`
	Application      string      `json:"application"`
	Organization     string      `json:"organization"`
	AuthType         string      `json:"authType"`
	Status           string      `json:"status"`
	APIs             []string    `json:"apis"`
	DeployedRevision int64       `json:"deployedRevision"`
	Keys             []KeySetKey `json:"keys"`
}

// Bundle is everything deployed to one environment.
type Bundle struct {
	Environment  string        `json:"environment"`
	Revision     int64         `json:"revision"`
	Keys         []Key         `json:"keys"`
	JWKs         []JWK         `json:"jwks"`
	Certificates []Certificate `json:"certificates"`
	Truststore   Truststore    `json:"truststore"`
	KeySets      []KeySet      `json:"keySets"`
}

// ETag identifies a bundle: the revision grows on every deploy and undeploy.
func (b Bundle) ETag() string { return fmt.Sprintf(`"%s-%d"`, b.Environment, b.Revision) }

// Counts summarises the bundle for the audit log.
func (b Bundle) Counts() string {
	return fmt.Sprintf("%d keys, %d JWKs, %d certificates, %d added CAs, %d key sets", len(b.Keys), len(b.JWKs), len(b.Certificates), len(b.Truststore.CAs), len(b.KeySets))
}

// Contributor adds one item type's deployed items to a bundle, reading
// through q (the bundle's read transaction).
type Contributor interface {
	Contribute(ctx context.Context, q *queries.Queries, env queries.Environment, b *Bundle) error
}

// Service reads bundles.
type Service struct {
	db           *db.DB
	audit        *audit.Log
	contributors []Contributor
}

// NewService returns a bundle Service assembled from contributors, in
// order.
func NewService(d *db.DB, a *audit.Log, contributors ...Contributor) *Service {
	return &Service{db: d, audit: a, contributors: contributors}
}

// Read returns what is deployed to envName, for that environment's gateway
// token only. Every read is audited, since it hands out secret material.
func (s *Service) Read(ctx context.Context, p access.Principal, envName string) (Bundle, error) {
	e := audit.For(p, "bundle.read")
	e.Environment, e.Object = envName, "bundle/"+envName
	if p.GatewayEnvironment != envName {
		return Bundle{}, s.audit.Refuse(ctx, e, errs.Errorf(errs.Forbidden, "Only a gateway token of environment %q can read its bundle.", envName))
	}
	var b Bundle
	err := s.db.View(ctx, func(q *queries.Queries) error {
		env, err := environments.Load(ctx, q, envName)
		if err != nil {
			return err
		}
		b = Bundle{Environment: env.Name, Revision: env.Revision, Keys: []Key{}, JWKs: []JWK{}, Certificates: []Certificate{},
			Truststore: Truststore{CAs: []TrustedCA{}}, KeySets: []KeySet{}}
		for _, c := range s.contributors {
			if err := c.Contribute(ctx, q, env, &b); err != nil {
				return fmt.Errorf("bundle of %q: %w", envName, err)
			}
		}
		return nil
	})
	if err != nil {
		return Bundle{}, err
	}
	e.Detail = fmt.Sprintf("revision %d: %s", b.Revision, b.Counts())
	if err := s.audit.Record(ctx, e); err != nil {
		return Bundle{}, err
	}
	return b, nil
}
