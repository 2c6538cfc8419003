// Package pkcs11 is the KeyManager for a real HSM reached through PKCS#11
// (SoftHSM2 in development and tests), built on github.com/ThalesGroup/crypto11
// for sessions, key generation, lookup and signing, and on
// github.com/miekg/pkcs11 directly for what crypto11 lacks: private key import
// (C_CreateObject), token flags and the PIN check.
//
// It needs cgo; built without it, New answers "built without PKCS#11
// support".
//
// The token is chosen by label (SoftHSM gives slots random ids). The process
// logs in once, at New; every session shares that login. So the user PIN
// cannot be checked by a second C_Login in this process (it answers
// CKR_USER_ALREADY_LOGGED_IN): CheckPIN asks a short-lived child process,
// `keyward hsm check-pin`, to log in with it (see CheckPINInChild).
//
// Signatures: ECDSA comes back ASN.1 DER (callers building a JWS convert to
// R||S, as go-jose's cryptosigner.Opaque does); RSA-PSS with
// PSSSaltLengthAuto is signed with the salt as long as the hash, since
// crypto11 refuses "auto". Errors that mean the token cannot be reached or
// the session pool is exhausted wrap hsm.ErrUnavailable (the service answers
// 503).
package pkcs11

import (
	"errors"
	"time"
)

// Defaults for Config.
const (
	DefaultMaxSessions     = 8
	DefaultPoolWaitTimeout = 2 * time.Second
)

// Config selects the PKCS#11 module and token.
type Config struct {
	Module     string // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	TokenLabel string // the token's label (CKA_LABEL of the token, not a key)
	PIN        string // the token's user PIN; never logged
	// MaxSessions bounds the sessions opened on the token, at least 2: one
	// stays logged in, the others sign. 0 means DefaultMaxSessions.
	MaxSessions int
	// PoolWaitTimeout bounds the wait for a free session, so that load
	// turns into hsm.ErrUnavailable errors instead of a queue. 0 means
	// DefaultPoolWaitTimeout.
	PoolWaitTimeout time.Duration
}

// withDefaults validates cfg and fills in the defaults.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Module == "":
		return cfg, errors.New("the PKCS#11 module path is required (--hsm-module)")
	case cfg.TokenLabel == "":
		return cfg, errors.New("the PKCS#11 token label is required (--hsm-token-label)")
	case cfg.PIN == "":
		return cfg, errors.New("the token's user PIN is required (--hsm-pin-file or KEYWARD_HSM_PIN)")
	case cfg.MaxSessions < 0 || cfg.MaxSessions == 1:
		return cfg, errors.New("the PKCS#11 session limit must be at least 2 (--hsm-max-sessions): one session stays logged in, the others sign")
	case cfg.PoolWaitTimeout < 0:
		return cfg, errors.New("the PKCS#11 session wait timeout must not be negative")
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.PoolWaitTimeout == 0 {
		cfg.PoolWaitTimeout = DefaultPoolWaitTimeout
	}
	return cfg, nil
}
