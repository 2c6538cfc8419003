package signing

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/queries"
)

// SignInput is a JWT to sign.
type SignInput struct {
	Claims    json.RawMessage // a JSON object
	Header    map[string]any  // extra protected header members (not alg or kid)
	Alg       string          // "" = RS256 for RSA, ES256 for EC
	ExpiresIn string          // e.g. "10m": adds iat and exp
}

// Signed is a signed JWT.
type Signed struct {
	Token string
	Kid   string
	Alg   string
}

// algorithms a key may sign with.
func algorithms(k queries.SigningKey) []string {
	if k.Algorithm == "EC" {
		return []string{"ES256"}
	}
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
}

// Sign signs claims as a compact JWS with the key, its kid in the header.
// It needs SIGNING_KEYS:SIGN, so a service's token can sign without being
// able to manage keys. Every signature is audited.
func (s *Service) Sign(ctx context.Context, p access.Principal, project, ckaID string, in SignInput) (Signed, error) {
	e := audit.For(p, "signing_key.sign")
	e.Project, e.Object = project, "signing-key/"+ckaID
	key, err := s.signingKey(ctx, p, project, "key", ckaID, func(q *queries.Queries, pr queries.Project) (queries.SigningKey, error) {
		return loadKey(ctx, q, pr, ckaID)
	})
	if err != nil {
		return Signed{}, s.audit.Refuse(ctx, e, err)
	}
	out, detail, err := s.sign(ctx, key, in)
	if err != nil {
		return Signed{}, s.audit.Refuse(ctx, e, err)
	}
	e.Detail = detail
	return out, s.audit.Journal(ctx, e)
}

// signingKeyRef names what a principal asked to sign with.
type signingKeyRef struct {
	user             int64
	admin            bool
	project, by, ref string
}

// signingKey loads the key p may sign with in project: the project must be
// visible to p, p must hold SIGNING_KEYS:SIGN, and load finds the key. What
// was allowed is remembered until the next write (db.Memo), so a run of
// signatures reads the database once.
func (s *Service) signingKey(ctx context.Context, p access.Principal, project, by, ref string, load func(*queries.Queries, queries.Project) (queries.SigningKey, error)) (queries.SigningKey, error) {
	mk := signingKeyRef{user: p.UserID, admin: p.Admin, project: project, by: by, ref: ref}
	if key, ok := s.allowed.Get(mk); ok && p.GatewayEnvironment == "" {
		return key, nil
	}
	gen := s.db.Generation()
	var key queries.SigningKey
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := projects.Visible(ctx, q, p, project)
		if err != nil {
			return err
		}
		if err := access.Require(ctx, q, p, projects.Ref(pr), access.SigningKeysSign); err != nil {
			return err
		}
		key, err = load(q, pr)
		return err
	})
	if err != nil {
		return key, err
	}
	if p.GatewayEnvironment == "" {
		s.allowed.Put(mk, key, gen)
	}
	return key, nil
}

// sign builds and signs the token; detail describes it for the audit log.
func (s *Service) sign(ctx context.Context, key queries.SigningKey, in SignInput) (Signed, string, error) {
	alg := in.Alg
	if alg == "" {
		alg = algorithms(key)[0]
	}
	if !slices.Contains(algorithms(key), alg) {
		return Signed{}, "", errs.FieldErrorf("alg", "alg %q does not fit this %s key; use one of %s.", alg, key.Algorithm, strings.Join(algorithms(key), ", "))
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(in.Claims))
	dec.UseNumber()
	if len(bytes.TrimSpace(in.Claims)) == 0 || dec.Decode(&claims) != nil || claims == nil {
		return Signed{}, "", errs.FieldErrorf("claims", "claims must be a JSON object, such as {\"sub\": \"client-1\"}.")
	}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 || d > 366*24*time.Hour {
			return Signed{}, "", errs.FieldErrorf("expiresIn", "expiresIn %q must be a duration such as 10m or 24h (at most a year).", in.ExpiresIn)
		}
		now := s.clock.Now()
		claims["iat"], claims["exp"] = now.Unix(), now.Add(d).Unix()
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return Signed{}, "", fmt.Errorf("encode claims: %w", err)
	}
	id, err := hex.DecodeString(key.CkaID)
	if err != nil {
		return Signed{}, "", fmt.Errorf("signing key %s: %w", key.CkaID, err)
	}
	signer, err := s.keys.Signer(ctx, id)
	if err != nil {
		return Signed{}, "", hsmErr(err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.Kid)
	for k, v := range in.Header {
		if k == "alg" || k == "kid" || k == "crit" {
			return Signed{}, "", errs.FieldErrorf("header", "header.%s is set by Keyward.", k)
		}
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: cryptosigner.Opaque(signer)}, opts)
	if err != nil {
		return Signed{}, "", fmt.Errorf("signer for %s: %w", key.CkaID, err)
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return Signed{}, "", hsmErr(fmt.Errorf("sign with %s: %w", key.CkaID, err))
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		return Signed{}, "", err
	}
	detail := fmt.Sprintf("kid %s, alg %s", key.Kid, alg)
	for _, c := range []string{"sub", "aud", "jti"} {
		if v, ok := claims[c]; ok {
			detail += fmt.Sprintf(", %s %v", c, v)
		}
	}
	return Signed{Token: tok, Kid: key.Kid, Alg: alg}, detail, nil
}
