package environments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/randtoken"
	"github.com/keyward/keyward/queries"
)

// GatewayTokenPrefix starts every gateway token.
const GatewayTokenPrefix = "kw_gw_"

// NewGatewayToken is a created gateway token; Value is shown once.
type NewGatewayToken struct {
	Token queries.GatewayToken
	Value string
}

// CreateGatewayToken creates a token with which a gateway reads the
// environment's bundle (admins only), valid for expires (0: until revoked).
// Only its SHA-256 is stored.
func (s *Service) CreateGatewayToken(ctx context.Context, p access.Principal, envName, name string, expires time.Duration) (NewGatewayToken, error) {
	var out NewGatewayToken
	e := audit.For(p, "gateway_token.create")
	e.Environment, e.Object = envName, "gateway-token/"+envName+"/"+name
	if err := access.RequireAdmin(p); err != nil {
		return out, s.audit.Refuse(ctx, e, err)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return out, errs.FieldErrorf("name", "Token name is required (at most 100 characters).")
	}
	if err := names.ValidateLabel("name", "The token name", name, 100); err != nil {
		return out, err
	}
	if expires < 0 || expires > 5*366*24*time.Hour {
		return out, errs.FieldErrorf("expiresIn", "A gateway token expires after at most 5 years, or never.")
	}
	now := s.clock.Now()
	var expiresAt sql.NullTime
	if expires > 0 {
		expiresAt = sql.NullTime{Time: now.Add(expires), Valid: true}
	}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		env, err := Load(ctx, q, envName)
		if err != nil {
			return err
		}
		value := GatewayTokenPrefix + randtoken.New(32)
		tok, err := q.CreateGatewayToken(ctx, queries.CreateGatewayTokenParams{EnvironmentID: env.ID, Name: name,
			TokenHash: randtoken.Hash(value), Prefix: value[:len(GatewayTokenPrefix)+6], CreatedAt: now, ExpiresAt: expiresAt})
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return errs.FieldErrorf("name", "Environment %q already has a gateway token named %q.", envName, name)
			}
			return err
		}
		out = NewGatewayToken{Token: tok, Value: value}
		return s.audit.Append(ctx, q, e)
	})
	return out, err
}

// ListGatewayTokens lists an environment's gateway tokens (admins only).
func (s *Service) ListGatewayTokens(ctx context.Context, p access.Principal, envName string) ([]queries.GatewayToken, error) {
	if err := access.RequireAdmin(p); err != nil {
		return nil, err
	}
	q := s.db.Queries()
	env, err := Load(ctx, q, envName)
	if err != nil {
		return nil, err
	}
	return q.ListGatewayTokens(ctx, env.ID)
}

// RevokeGatewayToken revokes one of an environment's gateway tokens.
func (s *Service) RevokeGatewayToken(ctx context.Context, p access.Principal, envName string, id int64) error {
	e := audit.For(p, "gateway_token.revoke")
	e.Environment, e.Object = envName, fmt.Sprintf("gateway-token/%s/%d", envName, id)
	if err := access.RequireAdmin(p); err != nil {
		return s.audit.Refuse(ctx, e, err)
	}
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		env, err := Load(ctx, q, envName)
		if err != nil {
			return err
		}
		n, err := q.RevokeGatewayToken(ctx, queries.RevokeGatewayTokenParams{RevokedAt: sql.NullTime{Time: s.clock.Now(), Valid: true}, ID: id, EnvironmentID: env.ID})
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.Errorf(errs.NotFound, "Environment %q has no active gateway token %d.", envName, id)
		}
		return s.audit.Append(ctx, q, e)
	})
}

// AuthenticateGateway resolves a gateway token to its principal.
func (s *Service) AuthenticateGateway(ctx context.Context, value, addr string) (access.Principal, error) {
	hash := string(randtoken.Hash(value))
	row, ok := s.gateways.Get(hash)
	if !ok {
		gen := s.db.Generation()
		var err error
		row, err = s.db.Queries().GetGatewayTokenByHash(ctx, []byte(hash))
		if errors.Is(err, sql.ErrNoRows) {
			return access.Principal{}, errs.Errorf(errs.Unauthorized, "The access token is not valid.")
		} else if err != nil {
			return access.Principal{}, fmt.Errorf("authenticate gateway token: %w", err)
		}
		s.gateways.Put(hash, row, gen)
	}
	if row.RevokedAt.Valid {
		return access.Principal{}, errs.Errorf(errs.Unauthorized, "The access token is revoked.")
	}
	now := s.clock.Now()
	if row.ExpiresAt.Valid && !now.Before(row.ExpiresAt.Time) {
		return access.Principal{}, errs.Errorf(errs.Unauthorized, "The access token expired on %s; ask an admin for a new gateway token.", row.ExpiresAt.Time.UTC().Format(time.RFC3339))
	}
	if !row.LastUsedAt.Valid || now.Sub(row.LastUsedAt.Time) >= time.Minute {
		if err := s.db.InTx(ctx, func(q *queries.Queries) error {
			return q.TouchGatewayToken(ctx, queries.TouchGatewayTokenParams{LastUsedAt: sql.NullTime{Time: now, Valid: true}, ID: row.ID})
		}); err != nil {
			return access.Principal{}, err
		}
	}
	return access.Principal{Username: "gateway", Via: "gateway:" + row.Name, SourceAddr: addr, GatewayEnvironment: row.EnvironmentName}, nil
}
