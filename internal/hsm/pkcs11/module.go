//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
	"github.com/thales-e-security/pool"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
)

// rawModules holds one github.com/miekg/pkcs11 handle per module path for the
// whole process, next to crypto11's own. A PKCS#11 library is process-global
// state: C_Finalize on any handle ends every session of every handle. So
// this handle is never Initialized nor Finalized: it borrows the
// initialisation of the crypto11 context that is open whenever it is used,
// and stays loaded (its function list valid) across crypto11 contexts.
var rawModules = struct {
	sync.Mutex
	m map[string]*pkcs11.Ctx
}{m: map[string]*pkcs11.Ctx{}}

func rawModule(path string) (*pkcs11.Ctx, error) {
	rawModules.Lock()
	defer rawModules.Unlock()
	if p, ok := rawModules.m[path]; ok {
		return p, nil
	}
	p := pkcs11.New(path)
	if p == nil {
		return nil, fmt.Errorf("cannot load PKCS#11 module %s", path)
	}
	rawModules.m[path] = p
	return p, nil
}

// findSlot returns the slot of the token labelled label.
func findSlot(p *pkcs11.Ctx, label string) (uint, pkcs11.TokenInfo, error) {
	slots, err := p.GetSlotList(true)
	if err != nil {
		return 0, pkcs11.TokenInfo{}, fmt.Errorf("list PKCS#11 slots: %w", err)
	}
	var labels []string
	for _, slot := range slots {
		ti, err := p.GetTokenInfo(slot)
		if err != nil {
			return 0, pkcs11.TokenInfo{}, fmt.Errorf("read PKCS#11 token info of slot %d: %w", slot, err)
		}
		if ti.Label == label {
			return slot, ti, nil
		}
		labels = append(labels, fmt.Sprintf("%q", ti.Label))
	}
	return 0, pkcs11.TokenInfo{}, tokenNotFound(label, labels)
}

func tokenNotFound(label string, present []string) error {
	if len(present) == 0 {
		return fmt.Errorf("no PKCS#11 token labelled %q: the module has no initialised token (softhsm2-util --init-token --free --label %s)", label, label)
	}
	return fmt.Errorf("no PKCS#11 token labelled %q; the module has %s", label, strings.Join(present, ", "))
}

// pinFlags names the token's CKF_USER_PIN_* flags.
func pinFlags(flags uint) []string {
	var out []string
	for _, f := range []struct {
		bit  uint
		name string
	}{
		{pkcs11.CKF_USER_PIN_INITIALIZED, hsm.PINInitialized},
		{pkcs11.CKF_USER_PIN_COUNT_LOW, hsm.PINCountLow},
		{pkcs11.CKF_USER_PIN_FINAL_TRY, hsm.PINFinalTry},
		{pkcs11.CKF_USER_PIN_LOCKED, hsm.PINLocked},
		{pkcs11.CKF_USER_PIN_TO_BE_CHANGED, hsm.PINToBeChanged},
	} {
		if flags&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// unavailableCodes are the PKCS#11 return values that mean the token cannot
// be used right now, rather than that the request was wrong.
var unavailableCodes = map[pkcs11.Error]bool{
	pkcs11.CKR_DEVICE_ERROR:             true,
	pkcs11.CKR_DEVICE_MEMORY:            true,
	pkcs11.CKR_DEVICE_REMOVED:           true,
	pkcs11.CKR_TOKEN_NOT_PRESENT:        true,
	pkcs11.CKR_TOKEN_NOT_RECOGNIZED:     true,
	pkcs11.CKR_SESSION_CLOSED:           true,
	pkcs11.CKR_SESSION_HANDLE_INVALID:   true,
	pkcs11.CKR_SESSION_COUNT:            true,
	pkcs11.CKR_USER_NOT_LOGGED_IN:       true,
	pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED: true,
	pkcs11.CKR_FUNCTION_CANCELED:        true,
	pkcs11.CKR_HOST_MEMORY:              true,
}

// p11Code returns the PKCS#11 return value inside err, if any.
func p11Code(err error) (pkcs11.Error, bool) {
	var e pkcs11.Error
	ok := errors.As(err, &e)
	return e, ok
}

// isUnavailable reports whether err means the token cannot be used now.
func isUnavailable(err error) bool {
	if code, ok := p11Code(err); ok {
		return unavailableCodes[code]
	}
	if errors.Is(err, pool.ErrTimeout) || errors.Is(err, pool.ErrClosed) {
		return true
	}
	// crypto11's closed-context errors are unexported.
	msg := err.Error()
	return strings.Contains(msg, "context is closed") || strings.Contains(msg, "closed Context")
}

// isHandleInvalid reports whether err says an object handle no longer exists
// (the key was destroyed, perhaps by another process).
func isHandleInvalid(err error) bool {
	code, ok := p11Code(err)
	return ok && (code == pkcs11.CKR_OBJECT_HANDLE_INVALID || code == pkcs11.CKR_KEY_HANDLE_INVALID)
}

// wrap names the operation and marks errors of an unreachable token with
// hsm.ErrUnavailable; *errs.Error values pass unchanged.
func wrap(op string, err error) error {
	var e *errs.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	case isUnavailable(err):
		return fmt.Errorf("%s: %w: %w", op, hsm.ErrUnavailable, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}
