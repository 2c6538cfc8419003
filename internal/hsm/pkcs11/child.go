//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/miekg/pkcs11"
)

// RunCheckPIN is `keyward hsm check-pin`, the child CheckPINInChild starts:
// it reads the PIN from the first line of stdin, opens the module afresh,
// logs in to the token labelled label, logs out and finalizes. It exits 0
// for the right PIN, 1 for a wrong one, 3 when the user PIN is locked (it
// does not try then) and 2 when the PIN could not be checked, with a
// sentence on stderr. It never prints the PIN.
func RunCheckPIN(stdin io.Reader, module, label string) int {
	code, err := checkPIN(stdin, module, label)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyward hsm check-pin:", err)
	}
	return code
}

func checkPIN(stdin io.Reader, module, label string) (int, error) {
	pin, err := readPIN(stdin)
	if err != nil {
		return checkPINFailed, err
	}
	if st, err := os.Stat(module); err != nil || st.IsDir() {
		return checkPINFailed, fmt.Errorf("PKCS#11 module %s not found", module)
	}
	p := pkcs11.New(module)
	if p == nil {
		return checkPINFailed, fmt.Errorf("cannot load PKCS#11 module %s", module)
	}
	defer p.Destroy()
	if err := p.Initialize(); err != nil {
		return checkPINFailed, fmt.Errorf("initialize PKCS#11 module %s: %w", module, err)
	}
	defer p.Finalize()
	slot, ti, err := findSlot(p, label)
	if err != nil {
		return checkPINFailed, err
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return checkPINLocked, fmt.Errorf("the user PIN of token %q is locked", label)
	}
	sh, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return checkPINFailed, fmt.Errorf("open a session on token %q: %w", label, err)
	}
	defer p.CloseSession(sh)
	err = p.Login(sh, pkcs11.CKU_USER, pin)
	var code pkcs11.Error
	switch {
	case err == nil:
		p.Logout(sh)
		return checkPINOK, nil
	case errors.As(err, &code) && (code == pkcs11.CKR_PIN_INCORRECT || code == pkcs11.CKR_PIN_LEN_RANGE || code == pkcs11.CKR_PIN_INVALID):
		return checkPINWrong, nil
	case errors.As(err, &code) && code == pkcs11.CKR_PIN_LOCKED:
		return checkPINLocked, fmt.Errorf("the user PIN of token %q is locked", label)
	default:
		return checkPINFailed, fmt.Errorf("log in to token %q: %w", label, err)
	}
}
