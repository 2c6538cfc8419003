package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/randtoken"
	"github.com/keyward/keyward/queries"
)

const settingSetupToken = "setup_token_sha256"

// NeedsSetup reports whether no user exists yet.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.db.Queries().CountUsers(ctx)
	if err != nil {
		return false, fmt.Errorf("count users: %w", err)
	}
	return n == 0, nil
}

// NewSetupToken creates the one-time token of the first-admin setup link,
// replacing any earlier one. It returns "" when users already exist.
func (s *Service) NewSetupToken(ctx context.Context) (string, error) {
	var tok string
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		n, err := q.CountUsers(ctx)
		if err != nil || n > 0 {
			return err
		}
		tok = randtoken.New(24)
		return q.PutSetting(ctx, queries.PutSettingParams{Name: settingSetupToken, Value: hex.EncodeToString(randtoken.Hash(tok))})
	})
	if err != nil {
		return "", fmt.Errorf("create setup token: %w", err)
	}
	return tok, nil
}

// CheckSetupToken reports whether tok is the current setup token.
func (s *Service) CheckSetupToken(ctx context.Context, tok string) bool {
	return checkSetupToken(ctx, s.db.Queries(), tok)
}

func checkSetupToken(ctx context.Context, q *queries.Queries, tok string) bool {
	want, err := q.GetSetting(ctx, settingSetupToken)
	if err != nil || tok == "" {
		return false
	}
	got := hex.EncodeToString(randtoken.Hash(tok))
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// CompleteSetup creates the first admin with the setup token; the token is
// then spent.
func (s *Service) CompleteSetup(ctx context.Context, p access.Principal, tok, username, password string) (queries.User, error) {
	var u queries.User
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		if !checkSetupToken(ctx, q, tok) {
			return errs.Errorf(errs.NotFound, "This setup link is not valid. Restart keyward to print a new one.")
		}
		if n, err := q.CountUsers(ctx); err != nil || n > 0 {
			if err != nil {
				return err
			}
			return errs.Errorf(errs.Conflict, "Setup is already complete; sign in instead.")
		}
		var err error
		u, err = s.createUser(ctx, q, username, password, true)
		if err != nil {
			return err
		}
		if err := q.DeleteSetting(ctx, settingSetupToken); err != nil {
			return err
		}
		p.Username, p.UserID = u.Username, u.ID
		e := audit.For(p, "setup.complete")
		e.Object = "user/" + u.Username
		return s.audit.Append(ctx, q, e)
	})
	return u, err
}

func (s *Service) createUser(ctx context.Context, q *queries.Queries, username, password string, admin bool) (queries.User, error) {
	if err := ValidateUsername(username); err != nil {
		return queries.User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return queries.User{}, err
	}
	if _, err := q.GetUserByUsername(ctx, username); err == nil {
		return queries.User{}, errs.FieldErrorf("username", "A user named %q already exists.", username)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return queries.User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return queries.User{}, err
	}
	now := s.clock.Now()
	return q.CreateUser(ctx, queries.CreateUserParams{Username: username, PasswordHash: hash, IsAdmin: admin, CreatedAt: now, UpdatedAt: now})
}

// CreateUser creates a user; only admins may, except from the command line.
func (s *Service) CreateUser(ctx context.Context, p access.Principal, username, password string, admin bool) (queries.User, error) {
	var u queries.User
	if p.Via != "cli" {
		if err := access.RequireAdmin(p); err != nil {
			return u, s.recordRefusal(ctx, p, "user.create", "user/"+username, err)
		}
	}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		var err error
		if u, err = s.createUser(ctx, q, username, password, admin); err != nil {
			return err
		}
		e := audit.For(p, "user.create")
		e.Object = "user/" + u.Username
		if admin {
			e.Detail = "admin"
		}
		return s.audit.Append(ctx, q, e)
	})
	return u, err
}

// ListUsers lists every user (admins only).
func (s *Service) ListUsers(ctx context.Context, p access.Principal) ([]queries.User, error) {
	if err := access.RequireAdmin(p); err != nil {
		return nil, err
	}
	return s.db.Queries().ListUsers(ctx)
}

// GetUser returns one user (admins only).
func (s *Service) GetUser(ctx context.Context, p access.Principal, username string) (queries.User, error) {
	if err := access.RequireAdmin(p); err != nil {
		return queries.User{}, err
	}
	return userByName(ctx, s.db.Queries(), username)
}

// SetDisabled disables or enables a user. Disabling ends the user's sessions;
// their API tokens stop working while disabled. An admin cannot disable
// themself, and the last active admin cannot be disabled.
func (s *Service) SetDisabled(ctx context.Context, p access.Principal, username string, disabled bool) error {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	return s.adminUserChange(ctx, p, action, username, func(q *queries.Queries, u queries.User) error {
		if disabled && u.ID == p.UserID {
			return errs.Errorf(errs.Conflict, "You cannot disable your own account.")
		}
		if disabled && u.IsAdmin && !u.Disabled {
			if err := s.requireOtherAdmin(ctx, q); err != nil {
				return err
			}
		}
		if err := q.SetUserDisabled(ctx, queries.SetUserDisabledParams{Disabled: disabled, UpdatedAt: s.clock.Now(), ID: u.ID}); err != nil {
			return err
		}
		if disabled {
			return q.DeleteUserWebSessions(ctx, u.ID)
		}
		return nil
	})
}

// SetAdmin grants or removes the admin role. The last active admin keeps it.
func (s *Service) SetAdmin(ctx context.Context, p access.Principal, username string, admin bool) error {
	action := "user.admin.revoke"
	if admin {
		action = "user.admin.grant"
	}
	return s.adminUserChange(ctx, p, action, username, func(q *queries.Queries, u queries.User) error {
		if !admin && u.IsAdmin && !u.Disabled {
			if err := s.requireOtherAdmin(ctx, q); err != nil {
				return err
			}
		}
		return q.SetUserAdmin(ctx, queries.SetUserAdminParams{IsAdmin: admin, UpdatedAt: s.clock.Now(), ID: u.ID})
	})
}

// ResetPassword sets a new password for a user and ends their sessions.
func (s *Service) ResetPassword(ctx context.Context, p access.Principal, username, password string) error {
	return s.adminUserChange(ctx, p, "user.password.reset", username, func(q *queries.Queries, u queries.User) error {
		if err := ValidatePassword(password); err != nil {
			return err
		}
		hash, err := HashPassword(password)
		if err != nil {
			return err
		}
		if err := q.SetUserPassword(ctx, queries.SetUserPasswordParams{PasswordHash: hash, UpdatedAt: s.clock.Now(), ID: u.ID}); err != nil {
			return err
		}
		return q.DeleteUserWebSessions(ctx, u.ID)
	})
}

func (s *Service) requireOtherAdmin(ctx context.Context, q *queries.Queries) error {
	n, err := q.CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return errs.Errorf(errs.Conflict, "This is the last active administrator; make another user an administrator first.")
	}
	return nil
}

// adminUserChange runs one audited admin-only change to a user.
func (s *Service) adminUserChange(ctx context.Context, p access.Principal, action, username string, fn func(*queries.Queries, queries.User) error) error {
	if err := access.RequireAdmin(p); err != nil {
		return s.recordRefusal(ctx, p, action, "user/"+username, err)
	}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		u, err := userByName(ctx, q, username)
		if err != nil {
			return err
		}
		if err := fn(q, u); err != nil {
			return err
		}
		e := audit.For(p, action)
		e.Object = "user/" + u.Username
		return s.audit.Append(ctx, q, e)
	})
	if err != nil {
		return fmt.Errorf("%s %q: %w", action, username, err)
	}
	return nil
}
