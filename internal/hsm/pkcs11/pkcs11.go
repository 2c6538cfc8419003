//go:build cgo

package pkcs11

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/internal/signers"
)

// Manager is the PKCS#11 KeyManager. It implements hsm.KeyManager.
type Manager struct {
	cfg     Config
	c11     *crypto11.Context
	raw     *pkcs11.Ctx // process-wide handle for import and token info
	slot    uint
	signers signers.Cache
	closed  atomic.Bool
}

var _ hsm.KeyManager = (*Manager)(nil)

// New opens the token cfg names and logs in with its PIN, answering a clear
// error when the module is missing, the token is not found or the PIN is
// wrong. The login is checked only when it is this process's first on the
// token: PKCS#11 shares one login between all sessions of a process.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(cfg.Module); err != nil || st.IsDir() {
		return nil, fmt.Errorf("PKCS#11 module %s not found (is SoftHSM2 installed? --hsm-module names the library)", cfg.Module)
	}
	c11, err := crypto11.Configure(&crypto11.Config{
		Path:            cfg.Module,
		TokenLabel:      cfg.TokenLabel,
		Pin:             cfg.PIN,
		MaxSessions:     cfg.MaxSessions,
		PoolWaitTimeout: cfg.PoolWaitTimeout,
	})
	if err != nil {
		return nil, configureError(cfg, err)
	}
	raw, slot, err := rawSlot(cfg)
	if err != nil {
		c11.Close()
		return nil, err
	}
	return &Manager{cfg: cfg, c11: c11, raw: raw, slot: slot}, nil
}

// rawSlot returns the process-wide handle on cfg's module and the slot of
// its token.
func rawSlot(cfg Config) (*pkcs11.Ctx, uint, error) {
	raw, err := rawModule(cfg.Module)
	if err != nil {
		return nil, 0, err
	}
	slot, _, err := findSlot(raw, cfg.TokenLabel)
	return raw, slot, err
}

// configureError turns crypto11.Configure's errors into the sentences an
// operator needs.
func configureError(cfg Config, err error) error {
	if code, ok := p11Code(err); ok {
		switch code {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_INVALID:
			return fmt.Errorf("wrong user PIN for PKCS#11 token %q", cfg.TokenLabel)
		case pkcs11.CKR_PIN_LOCKED:
			return fmt.Errorf("the user PIN of PKCS#11 token %q is locked; the token's security officer must unlock it", cfg.TokenLabel)
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "could not find PKCS#11 token"):
		return fmt.Errorf("no PKCS#11 token labelled %q in module %s (softhsm2-util --show-slots lists the tokens)", cfg.TokenLabel, cfg.Module)
	case strings.Contains(msg, "failed to create module context"):
		return fmt.Errorf("cannot load PKCS#11 module %s: %w", cfg.Module, err)
	}
	return fmt.Errorf("open PKCS#11 token %q: %w", cfg.TokenLabel, err)
}

// Close implements hsm.KeyManager. It logs out when it is the process's last
// context on the module (crypto11 finalizes it then).
func (m *Manager) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	m.signers.EvictAll()
	return m.c11.Close()
}

func (m *Manager) usable(ctx context.Context) error {
	if m.closed.Load() {
		return fmt.Errorf("%w: the PKCS#11 key manager is closed", hsm.ErrUnavailable)
	}
	return ctx.Err()
}

// tokenInfo reads the token's current information (its PIN flags change).
func (m *Manager) tokenInfo() (pkcs11.TokenInfo, error) {
	ti, err := m.raw.GetTokenInfo(m.slot)
	return ti, wrap("read PKCS#11 token info", err)
}

// Info implements hsm.KeyManager.
func (m *Manager) Info(ctx context.Context) (hsm.TokenInfo, error) {
	if err := m.usable(ctx); err != nil {
		return hsm.TokenInfo{}, err
	}
	ti, err := m.tokenInfo()
	if err != nil {
		return hsm.TokenInfo{}, err
	}
	return hsm.TokenInfo{
		Backend: hsm.BackendPKCS11, Label: ti.Label, Manufacturer: ti.ManufacturerID,
		Model: ti.Model, Serial: ti.SerialNumber, PINFlags: pinFlags(ti.Flags),
	}, nil
}

// CheckPIN implements hsm.KeyManager: a locked PIN is refused without a
// try; otherwise a child process logs in with it (CheckPINInChild).
func (m *Manager) CheckPIN(ctx context.Context, pin string) error {
	if err := m.usable(ctx); err != nil {
		return err
	}
	if pin == "" {
		return hsm.ErrPINEmpty
	}
	ti, err := m.tokenInfo()
	if err != nil {
		return err
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return hsm.ErrPINLocked
	}
	return CheckPINInChild(ctx, m.cfg.Module, m.cfg.TokenLabel, pin)
}
