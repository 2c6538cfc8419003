package pkcs11

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/hsm"
)

// Exit codes of `keyward hsm check-pin` (RunCheckPIN).
const (
	checkPINOK     = 0 // the PIN logged in
	checkPINWrong  = 1 // the token refused the PIN
	checkPINFailed = 2 // the PIN could not be checked: module, token, usage
	checkPINLocked = 3 // the user PIN is locked
)

// checkPINTimeout bounds a child's run when ctx has no deadline.
const checkPINTimeout = 30 * time.Second

// CheckPINArgs returns the arguments CheckPINInChild runs the current binary
// with: `hsm check-pin --hsm-module MODULE --hsm-token-label LABEL`. The PIN
// goes on standard input, never on the command line or in the environment.
func CheckPINArgs(module, tokenLabel string) []string {
	return []string{"hsm", "check-pin", "--hsm-module", module, "--hsm-token-label", tokenLabel}
}

// ParseCheckPINArgs parses the flags that follow `hsm check-pin`, for the
// command's wiring in main.go and for tests.
func ParseCheckPINArgs(args []string) (module, tokenLabel string, err error) {
	fs := flag.NewFlagSet("hsm check-pin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&module, "hsm-module", "", "PKCS#11 module path")
	fs.StringVar(&tokenLabel, "hsm-token-label", "", "token label")
	if err := fs.Parse(args); err != nil {
		return "", "", err
	}
	if module == "" || tokenLabel == "" || fs.NArg() != 0 {
		return "", "", errors.New("usage: keyward hsm check-pin --hsm-module PATH --hsm-token-label LABEL < pin")
	}
	return module, tokenLabel, nil
}

// CheckPINInChild checks pin against the token by re-executing the current
// binary as `keyward hsm check-pin` (see RunCheckPIN): the child opens the
// module afresh, logs in and finalizes, so its C_Login really tests the PIN,
// which a second login in this already logged-in process cannot.
//
// It returns nil for the right PIN, hsm.ErrPINWrong or hsm.ErrPINLocked (field
// errors on "pin"), or an error wrapping hsm.ErrUnavailable when the PIN
// could not be checked.
func CheckPINInChild(ctx context.Context, module, tokenLabel, pin string) error {
	if pin == "" {
		return hsm.ErrPINEmpty
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("check the user PIN: %w: cannot find this program to run `hsm check-pin`: %w", hsm.ErrUnavailable, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, checkPINTimeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, exe, CheckPINArgs(module, tokenLabel)...)
	cmd.Stdin = strings.NewReader(pin + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit) && exit.ExitCode() == checkPINWrong:
		return hsm.ErrPINWrong
	case errors.As(err, &exit) && exit.ExitCode() == checkPINLocked:
		return hsm.ErrPINLocked
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		msg = err.Error()
	}
	return fmt.Errorf("check the user PIN: %w: `hsm check-pin` failed: %s", hsm.ErrUnavailable, msg)
}

// readPIN reads the PIN from the first line of r.
func readPIN(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pin := strings.TrimRight(line, "\r\n")
	if pin == "" {
		return "", errors.New("no PIN on standard input")
	}
	return pin, nil
}

// limitedWriter keeps the first n bytes written and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
