package certfetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/keyward/keyward/internal/errs"
)

// explain turns a failed fetch into the sentence the user reads. parent is
// the caller's context, limit the time the fetch had and deadline when it
// ran out.
func explain(parent context.Context, field string, t target, limit time.Duration, deadline time.Time, err error) error {
	var fe *errs.Error
	if errors.As(err, &fe) {
		return fe
	}
	if r, ok := asRefusal(err); ok {
		return refusalError(field, t, r)
	}
	if errors.Is(parent.Err(), context.Canceled) {
		return errs.FieldErrorf(field, "The fetch from %s was cancelled before it finished.", t.url)
	}
	var se *stageError
	if !errors.As(err, &se) {
		se = &stageError{stage: stageHandshake, err: err}
	}
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		isTimeout(err) || !time.Now().Before(deadline)
	switch {
	case se.stage == stageLookup && timedOut:
		return errs.FieldErrorf(field, "The DNS lookup of %s did not answer within %s.", t.host, limit)
	case se.stage == stageLookup:
		return lookupError(field, t, se.err)
	case timedOut:
		return errs.FieldErrorf(field, "%s did not answer within %s.", t.url, limit)
	case se.stage == stageDial:
		return dialError(field, t, se.err)
	case se.stage == stageStartTLS:
		return startTLSError(field, t, se.err)
	}
	return errs.FieldErrorf(field, "%s", handshakeMessage(t.url, se.err, se.head))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func lookupError(field string, t target, err error) error {
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return errs.FieldErrorf(field, "The host %s was not found in DNS: check the host name.", t.host)
	}
	if de != nil {
		return errs.FieldErrorf(field, "Keyward could not look up the host %s in DNS (%s).", t.host, de.Err)
	}
	return errs.FieldErrorf(field, "Keyward could not look up the host %s in DNS (%v).", t.host, err)
}

func dialError(field string, t target, err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return errs.FieldErrorf(field, "%s refused the connection: check the host and port, and that the server is running.", t.url)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return errs.FieldErrorf(field, "%s cannot be reached from Keyward's network: check the host name, or whether a firewall is in the way.", t.url)
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return lookupError(field, t, err)
	}
	return errs.FieldErrorf(field, "Keyward could not connect to %s (%v).", t.url, errorText(err))
}

// startTLSError explains a StartTLS request that did not lead to a handshake.
func startTLSError(field string, t target, err error) error {
	var le *ldap.Error
	if errors.As(err, &le) && (le.ResultCode > 0 && le.ResultCode < ldap.ErrorNetwork || le.ResultCode >= 4096) {
		why := fmt.Sprintf("LDAP result %d", le.ResultCode)
		if name := ldap.LDAPResultCodeMap[le.ResultCode]; name != "" {
			why += ", " + name
		}
		if diag := diagnostic(le); diag != "" {
			why += ": " + diag
		}
		return errs.FieldErrorf(field, "%s refused StartTLS (%s); if the server offers TLS on its own port, use an ldaps:// URL.", t.url, why)
	}
	return errs.FieldErrorf(field, "%s did not answer the StartTLS request as an LDAP server would: is this the right port?", t.url)
}

// diagnostic is the server's diagnosticMessage, shortened: it is the
// server's text, shown to the user.
func diagnostic(le *ldap.Error) string {
	if le.Err == nil {
		return ""
	}
	d := le.Err.Error()
	if len(d) > 200 {
		d = d[:200] + "…"
	}
	return d
}

// errorText is err without the "dial tcp 1.2.3.4:443: " prefix that repeats
// the URL.
func errorText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}
