// Package signing is the "Signing Keys" area (seed 004): JWT signing keys
// whose private half lives in the HSM (PKCS#11) or the built-in software
// token, never leaving it. Keyward records each key (label, algorithm,
// CKA_ID, created date, public key), publishes its public JWK in chosen
// environments' JWKS (a deploy), signs JWTs with it for callers holding
// SIGNING_KEYS:SIGN, and deletes it only with the token's user PIN.
package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/soft"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// SoftPINSetting is the settings row holding the software token's user
// PIN hash (argon2id), set once by an admin.
const SoftPINSetting = "soft_token_pin_hash"

// typeSigningKey is the area's item type; its publications change JWKS.
const typeSigningKey = deploy.ObjectSigningKey

// Service manages signing keys.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	clock  clock.Clock
	writer *publish.Writer
	keys   hsm.KeyManager
}

// NewService returns the signing keys Service over the key manager km.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, w *publish.Writer, km hsm.KeyManager) *Service {
	return &Service{db: d, audit: a, clock: c, writer: w, keys: km}
}

// Generation types (seed 004's "Key Generation Type").
const (
	GenerateAuto   = "AUTO"   // generated inside the token, never extractable
	GenerateImport = "IMPORT" // a PEM private key brought in
)

// CreateInput is a signing key to create.
type CreateInput struct {
	Label          string
	Algorithm      string // RSA or ECDSA (EC accepted)
	KeyLength      int    // RSA: 2048 or 4096
	Curve          string // ECDSA: P-256 (prime256v1)
	GenerationType string
	PrivateKeyPEM  string // IMPORT only
}

// Key is a signing key as pages and the API show it.
type Key struct {
	queries.SigningKey
	PublicKeyPEM string
	JWK          json.RawMessage
	Published    []string // environments whose JWKS carry it
}

func ckaHex(id []byte) string { return hex.EncodeToString(id) }

// Backend describes the key manager, for pages and the API.
func (s *Service) Backend(ctx context.Context) (hsm.TokenInfo, error) { return s.keys.Info(ctx) }

func parseAlgorithm(in CreateInput) (hsm.GenerateRequest, error) {
	r := hsm.GenerateRequest{Label: in.Label}
	switch strings.ToUpper(in.Algorithm) {
	case "RSA":
		r.Algorithm = hsm.RSA
		if in.KeyLength != 2048 && in.KeyLength != 4096 {
			return r, errs.FieldErrorf("keyLength", "An RSA key is 2048 or 4096 bits, not %d.", in.KeyLength)
		}
		r.Bits = in.KeyLength
	case "ECDSA", "EC", "ECC":
		r.Algorithm, r.Bits = hsm.EC, 256
		switch strings.ToLower(in.Curve) {
		case "", "p-256", "prime256v1", "secp256r1":
			r.Curve = "P-256"
		default:
			return r, errs.FieldErrorf("curve", "Curve %q is not supported: use P-256 (prime256v1).", in.Curve)
		}
	default:
		return r, errs.FieldErrorf("algorithm", "Algorithm %q is not one of RSA or ECDSA.", in.Algorithm)
	}
	return r, nil
}

// CreateKey generates a key inside the token (AUTO) or imports a PEM
// private key (IMPORT), and records it. SIGNING_KEYS:MANAGE.
//
// The token is called between two transactions, never inside one: the
// software token keeps its keys in the same database, whose one writer a
// transaction holds. The first checks the permission and the input (a
// refusal is audited and the token untouched); the second records the key.
func (s *Service) CreateKey(ctx context.Context, p access.Principal, project string, in CreateInput) (Key, error) {
	var out Key
	wr := publish.Write{Principal: p, Project: project, Action: "signing_key.create", Object: "signing-key/" + in.Label,
		Perms: []access.Permission{access.SigningKeysManage}}
	var req hsm.GenerateRequest
	if err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		var err error
		req, err = validateCreate(in)
		return err
	}); err != nil {
		return out, err
	}
	info, err := s.makeKey(ctx, in, req)
	if err != nil {
		return out, s.audit.Refuse(ctx, refusal(p, project, in.Label), hsmErr(err))
	}
	backend, err := s.keys.Info(ctx)
	if err != nil {
		return out, hsmErr(err)
	}
	der, kid, err := publicParts(info.Public)
	if err != nil {
		return out, err
	}
	err = s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		row, err := q.CreateSigningKey(ctx, queries.CreateSigningKeyParams{ProjectID: o.Project.ID, CkaID: ckaHex(info.ID), Label: info.Label,
			Algorithm: string(info.Algorithm), Bits: int64(info.Bits), Curve: info.Curve, Origin: string(info.Origin), Backend: backend.Backend,
			PublicDer: der, Kid: kid, CreatedBy: p.Username, CreatedAt: s.clock.Now()})
		if err != nil {
			return err
		}
		if out, err = describe(ctx, q, row); err != nil {
			return err
		}
		return o.Record(ctx, q, "signing_key.create", "signing-key/"+row.CkaID, "", fmt.Sprintf("%s %s %s, label %q", info.Origin, info.Algorithm, sizeOf(row), info.Label))
	})
	return out, err
}

func refusal(p access.Principal, project, label string) audit.Entry {
	e := audit.For(p, "signing_key.create")
	e.Project, e.Object = project, "signing-key/"+label
	return e
}

// validateCreate checks a create request before the token is called.
func validateCreate(in CreateInput) (hsm.GenerateRequest, error) {
	if strings.TrimSpace(in.Label) == "" {
		return hsm.GenerateRequest{}, errs.FieldErrorf("label", "The label is required.")
	}
	if err := names.ValidateLabel("label", "The label", in.Label, 200); err != nil {
		return hsm.GenerateRequest{}, err
	}
	req, err := parseAlgorithm(in)
	if err != nil {
		return req, err
	}
	switch strings.ToUpper(in.GenerationType) {
	case "", GenerateAuto:
	case GenerateImport:
		if strings.TrimSpace(in.PrivateKeyPEM) == "" {
			return req, errs.FieldErrorf("privateKeyPem", "Paste the private key in PEM form to import it.")
		}
	default:
		return req, errs.FieldErrorf("generationType", "generationType %q is not one of AUTO or IMPORT.", in.GenerationType)
	}
	return req, nil
}

// makeKey has the token generate or import the key.
func (s *Service) makeKey(ctx context.Context, in CreateInput, req hsm.GenerateRequest) (hsm.KeyInfo, error) {
	if strings.ToUpper(in.GenerationType) != GenerateImport {
		return s.keys.Generate(ctx, req)
	}
	// Check the PEM against what was chosen before the token keeps it.
	key, err := hsm.ParsePrivateKeyPEM([]byte(in.PrivateKeyPEM), req.Algorithm)
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	if k, ok := key.Public().(*rsa.PublicKey); ok && k.N.BitLen() != req.Bits {
		return hsm.KeyInfo{}, errs.FieldErrorf("privateKeyPem", "This RSA key is %d bits, but the key length chosen is %d.", k.N.BitLen(), req.Bits)
	}
	return s.keys.Import(ctx, hsm.ImportRequest{Label: in.Label, PrivateKeyPEM: []byte(in.PrivateKeyPEM), Algorithm: req.Algorithm})
}

func sizeOf(k queries.SigningKey) string {
	if k.Curve != "" {
		return k.Curve
	}
	return fmt.Sprintf("%d-bit", k.Bits)
}

// publicParts is the PKIX DER of a public key and its RFC 7638 kid.
func publicParts(pub crypto.PublicKey) ([]byte, string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, "", fmt.Errorf("encode public key: %w", err)
	}
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, "", fmt.Errorf("thumbprint: %w", err)
	}
	return der, base64.RawURLEncoding.EncodeToString(tp), nil
}

// jwkOf is a key's public JWK (use sig, alg RS256 or ES256, its kid).
func jwkOf(k queries.SigningKey) (json.RawMessage, error) {
	pub, err := x509.ParsePKIXPublicKey(k.PublicDer)
	if err != nil {
		return nil, err
	}
	alg := "RS256"
	if _, ok := pub.(*ecdsa.PublicKey); ok {
		alg = "ES256"
	} else if _, ok := pub.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("signing key %s: unsupported public key %T", k.CkaID, pub)
	}
	return json.Marshal(jose.JSONWebKey{Key: pub, KeyID: k.Kid, Use: "sig", Algorithm: alg})
}

func describe(ctx context.Context, q *queries.Queries, k queries.SigningKey) (Key, error) {
	j, err := jwkOf(k)
	if err != nil {
		return Key{}, err
	}
	out := Key{SigningKey: k, JWK: j, PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.PublicDer})), Published: []string{}}
	pubs, err := q.ListSigningKeyPublications(ctx, k.ID)
	if err != nil {
		return Key{}, err
	}
	for _, p := range pubs {
		out.Published = append(out.Published, p.EnvironmentName)
	}
	return out, nil
}

// viewer checks SIGNING_KEYS:VIEW.
func viewer(ctx context.Context, q *queries.Queries, p access.Principal, project string) (queries.Project, error) {
	pr, err := projects.Visible(ctx, q, p, project)
	if err != nil {
		return pr, err
	}
	return pr, access.Require(ctx, q, p, projects.Ref(pr), access.SigningKeysView)
}

func loadKey(ctx context.Context, q *queries.Queries, pr queries.Project, ckaID string) (queries.SigningKey, error) {
	k, err := q.GetSigningKey(ctx, queries.GetSigningKeyParams{ProjectID: pr.ID, CkaID: strings.ToLower(ckaID)})
	if errors.Is(err, sql.ErrNoRows) {
		return k, errs.Errorf(errs.NotFound, "Project %q has no signing key with CKA_ID %s.", pr.Name, ckaID)
	}
	return k, err
}

// KeyPage is a page of a project's signing keys.
type KeyPage struct {
	Keys        []Key
	Total       int64
	Page, Size  int
	SharedLabel map[string]bool // labels more than one key has (told apart by CKA_ID)
}

// ListKeys returns a page of a project's signing keys. SIGNING_KEYS:VIEW.
func (s *Service) ListKeys(ctx context.Context, p access.Principal, project, search string, page, size int) (KeyPage, error) {
	if size <= 0 || size > 200 {
		size = 25
	}
	if page <= 0 {
		page = 1
	}
	out := KeyPage{Page: page, Size: size, Keys: []Key{}, SharedLabel: map[string]bool{}}
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		search = strings.ToLower(strings.TrimSpace(search))
		rows, err := q.ListSigningKeys(ctx, queries.ListSigningKeysParams{ProjectID: pr.ID, Search: search, Lim: int64(size), Off: int64((page - 1) * size)})
		if err != nil {
			return err
		}
		if out.Total, err = q.CountSigningKeys(ctx, queries.CountSigningKeysParams{ProjectID: pr.ID, Search: search}); err != nil {
			return err
		}
		for _, r := range rows {
			k, err := describe(ctx, q, r)
			if err != nil {
				return err
			}
			out.Keys = append(out.Keys, k)
			if n, err := q.CountSigningKeysWithLabel(ctx, queries.CountSigningKeysWithLabelParams{ProjectID: pr.ID, Label: r.Label}); err != nil {
				return err
			} else if n > 1 {
				out.SharedLabel[r.Label] = true
			}
		}
		return nil
	})
	return out, err
}

// GetKey returns one signing key. SIGNING_KEYS:VIEW.
func (s *Service) GetKey(ctx context.Context, p access.Principal, project, ckaID string) (Key, error) {
	var out Key
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		k, err := loadKey(ctx, q, pr, ckaID)
		if err != nil {
			return err
		}
		out, err = describe(ctx, q, k)
		return err
	})
	return out, err
}

// target is a key's publication in one environment, for the deploy helper.
func target(ctx context.Context, q *queries.Queries, k queries.SigningKey, env queries.Environment, at time.Time) publish.Target {
	return publish.Target{Type: typeSigningKey, Name: k.Label + " (" + k.CkaID + ")", Env: env, Detail: "kid " + k.Kid, Mark: func(rev int64) error {
		if rev == 0 {
			return q.DeleteSigningKeyPublication(ctx, queries.DeleteSigningKeyPublicationParams{SigningKeyID: k.ID, EnvironmentID: env.ID})
		}
		j, err := jwkOf(k)
		if err != nil {
			return err
		}
		return q.UpsertSigningKeyPublication(ctx, queries.UpsertSigningKeyPublicationParams{SigningKeyID: k.ID, EnvironmentID: env.ID,
			JwkJson: string(j), DeployedRevision: rev, DeployedAt: at})
	}}
}

// Publish puts a key's public JWK in an environment's JWKS (or, with
// unpublish, takes it out): a deploy. SIGNING_KEYS:MANAGE and
// SIGNING_KEYS:DEPLOY_UNDEPLOY.
func (s *Service) Publish(ctx context.Context, p access.Principal, project, ckaID, envName string, unpublish bool) (*publish.Result, error) {
	verb := deploy.Deploy
	if unpublish {
		verb = deploy.Undeploy
	}
	var result *publish.Result
	wr := publish.Write{Principal: p, Project: project, Environment: envName, Action: typeSigningKey.Action(verb), Object: "signing-key/" + ckaID,
		Perms: []access.Permission{access.SigningKeysManage, access.SigningKeysDeploy}}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		k, err := loadKey(ctx, q, o.Project, ckaID)
		if err != nil {
			return err
		}
		env, err := environments.Load(ctx, q, envName)
		if err != nil {
			return err
		}
		published := false
		pubs, err := q.ListSigningKeyPublications(ctx, k.ID)
		if err != nil {
			return err
		}
		for _, pb := range pubs {
			published = published || pb.EnvironmentID == env.ID
		}
		t := target(ctx, q, k, env, s.clock.Now())
		if unpublish {
			if !published {
				return errs.Errorf(errs.Conflict, "Signing key %s is not published in environment %q.", k.CkaID, envName)
			}
			t.Detail = ""
			err = o.Undeploy(ctx, q, t)
		} else {
			err = o.Deploy(ctx, q, t)
		}
		if err != nil {
			return err
		}
		result = o.Result(typeSigningKey, verb)
		return nil
	})
	return result, err
}

// hsmErr turns an unreachable HSM into a 503 with a clear message; other
// errors pass through.
func hsmErr(err error) error {
	if err != nil && errors.Is(err, hsm.ErrUnavailable) && errs.CodeOf(err) == errs.Internal {
		return errs.Errorf(errs.Unavailable, "The HSM is unavailable (%v); nothing was changed. Try again, or ask an administrator.", err)
	}
	return err
}

// SetSoftPIN sets the built-in software token's user PIN, once (admins).
// A PKCS#11 token has its own PIN, set with its tools.
func (s *Service) SetSoftPIN(ctx context.Context, p access.Principal, pin string) error {
	e := audit.For(p, "hsm.pin.set")
	if err := access.RequireAdmin(p); err != nil {
		return s.audit.Refuse(ctx, e, err)
	}
	m, ok := s.keys.(*soft.Manager)
	if !ok {
		return s.audit.Refuse(ctx, e, errs.Errorf(errs.Conflict, "The HSM's PIN is the token's own: set it with the HSM's tools."))
	}
	hash, err := soft.HashPIN(pin)
	if err != nil {
		return s.audit.Refuse(ctx, e, err)
	}
	if err := m.SetPINHash(hash); err != nil {
		return s.audit.Refuse(ctx, e, err)
	}
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		if err := q.PutSetting(ctx, queries.PutSettingParams{Name: SoftPINSetting, Value: hash}); err != nil {
			return err
		}
		return s.audit.Append(ctx, q, e)
	})
}
