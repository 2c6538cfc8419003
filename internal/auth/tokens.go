package auth

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

// TokenPrefix starts every Personal API Access Token, so that secret scanners
// and people can recognise one.
const TokenPrefix = "kw_pat_"

// NewToken is a freshly created token; Value is shown once and never stored.
type NewToken struct {
	Token queries.ApiToken
	Value string
}

// CreateToken creates a Personal API Access Token for the principal's own
// user (or, from the command line, for username). expires 0 means the
// token never expires.
func (s *Service) CreateToken(ctx context.Context, p access.Principal, username, name string, expires time.Duration) (NewToken, error) {
	var out NewToken
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return out, errs.FieldErrorf("name", "Token name is required (at most 100 characters).")
	}
	if err := names.ValidateLabel("name", "The token name", name, 100); err != nil {
		return out, err
	}
	if expires < 0 {
		return out, errs.FieldErrorf("expires", "Expiry must be in the future.")
	}
	if s.policy.MaxTokenExpiry > 0 && expires > s.policy.MaxTokenExpiry {
		return out, errs.FieldErrorf("expires", "Expiry must be at most %d days.", int(s.policy.MaxTokenExpiry.Hours()/24))
	}
	if p.Via != "cli" && !p.Authenticated() {
		return out, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		var u queries.User
		var err error
		if p.Via == "cli" {
			u, err = userByName(ctx, q, username)
		} else {
			u, err = q.GetUserByID(ctx, p.UserID)
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			return errs.Errorf(errs.Conflict, "User %q is disabled.", u.Username)
		}
		value := TokenPrefix + randtoken.New(32)
		now := s.clock.Now()
		exp := sql.NullTime{}
		if expires > 0 {
			exp = sql.NullTime{Time: now.Add(expires), Valid: true}
		}
		tok, err := q.CreateAPIToken(ctx, queries.CreateAPITokenParams{
			UserID: u.ID, Name: name, TokenHash: randtoken.Hash(value), Prefix: value[:len(TokenPrefix)+6],
			CreatedAt: now, ExpiresAt: exp,
		})
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return errs.FieldErrorf("name", "You already have a token named %q.", name)
			}
			return err
		}
		out = NewToken{Token: tok, Value: value}
		e := audit.For(p, "token.create")
		if p.Username == "" {
			e.Actor = u.Username
		}
		e.Object = "token/" + u.Username + "/" + name
		return s.audit.Append(ctx, q, e)
	})
	return out, err
}

// Token is a listed token (never its value) and whether it has expired by
// the service's clock.
type Token struct {
	queries.ApiToken
	Expired bool
}

// ListTokens lists the principal's own tokens.
func (s *Service) ListTokens(ctx context.Context, p access.Principal) ([]Token, error) {
	if !p.Authenticated() {
		return nil, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	rows, err := s.db.Queries().ListAPITokensByUser(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	now := s.clock.Now()
	out := make([]Token, len(rows))
	for i, r := range rows {
		out[i] = Token{ApiToken: r, Expired: r.ExpiresAt.Valid && !now.Before(r.ExpiresAt.Time)}
	}
	return out, nil
}

// RevokeToken revokes one of the principal's own tokens.
func (s *Service) RevokeToken(ctx context.Context, p access.Principal, id int64) error {
	if !p.Authenticated() {
		return errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		tok, err := q.GetAPITokenByUserAndID(ctx, queries.GetAPITokenByUserAndIDParams{UserID: p.UserID, ID: id})
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Errorf(errs.NotFound, "Token %d does not exist.", id)
		}
		if err != nil {
			return err
		}
		if tok.RevokedAt.Valid {
			return errs.Errorf(errs.Conflict, "Token %q is already revoked.", tok.Name)
		}
		if err := q.RevokeAPIToken(ctx, queries.RevokeAPITokenParams{RevokedAt: sql.NullTime{Time: s.clock.Now(), Valid: true}, ID: id}); err != nil {
			return err
		}
		e := audit.For(p, "token.revoke")
		e.Object = "token/" + p.Username + "/" + tok.Name
		return s.audit.Append(ctx, q, e)
	})
}

// errBadToken is the single answer for a missing, unknown, expired or
// revoked token.
func errBadToken(why string) error {
	return errs.Errorf(errs.Unauthorized, "The access token is %s.", why)
}

// AuthenticateToken resolves a bearer token to its user's principal. This is
// on every API request's path: one indexed read, and a write of last_used_at
// at most once per Policy.TokenTouchEvery.
func (s *Service) AuthenticateToken(ctx context.Context, value, addr string) (access.Principal, error) {
	if value == "" {
		return access.Principal{}, errs.Errorf(errs.Unauthorized, "An access token is required: send \"Authorization: Bearer <token>\".")
	}
	if !strings.HasPrefix(value, TokenPrefix) {
		return access.Principal{}, errBadToken("not valid")
	}
	hash := randtoken.Hash(value)
	row, ok := s.tokens.Get(string(hash))
	if !ok {
		gen := s.db.Generation()
		var err error
		row, err = s.db.Queries().GetAPITokenByHash(ctx, hash)
		if errors.Is(err, sql.ErrNoRows) {
			return access.Principal{}, errBadToken("not valid")
		}
		if err != nil {
			return access.Principal{}, fmt.Errorf("authenticate token: %w", err)
		}
		s.tokens.Put(string(hash), row, gen)
	}
	now := s.clock.Now()
	switch {
	case row.RevokedAt.Valid:
		return access.Principal{}, errBadToken("revoked")
	case row.ExpiresAt.Valid && !now.Before(row.ExpiresAt.Time):
		return access.Principal{}, errBadToken("expired")
	case row.Disabled:
		return access.Principal{}, errBadToken("of a disabled user")
	}
	if !row.LastUsedAt.Valid || now.Sub(row.LastUsedAt.Time) >= s.policy.TokenTouchEvery {
		err := s.db.InTx(ctx, func(q *queries.Queries) error {
			return q.TouchAPIToken(ctx, queries.TouchAPITokenParams{LastUsedAt: sql.NullTime{Time: now, Valid: true}, ID: row.ID})
		})
		if err != nil {
			return access.Principal{}, fmt.Errorf("authenticate token: %w", err)
		}
	}
	return access.Principal{UserID: row.UserID, Username: row.Username, Admin: row.IsAdmin, Via: "token:" + row.Name, SourceAddr: addr}, nil
}
