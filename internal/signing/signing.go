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
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/names"
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
	// allowed remembers, until the next write, which key a principal may
	// sign with (see signingKey).
	allowed *db.Memo[signingKeyRef, queries.SigningKey]
}

// NewService returns the signing keys Service over the key manager km.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, w *publish.Writer, km hsm.KeyManager) *Service {
	return &Service{db: d, audit: a, clock: c, writer: w, keys: km, allowed: db.NewMemo[signingKeyRef, queries.SigningKey](d, time.Second, 10000)}
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
