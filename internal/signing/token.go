package signing

import (
	"context"
	"errors"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/soft"
	"github.com/keyward/keyward/queries"
)

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
