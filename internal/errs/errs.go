// Package errs defines the application error every service returns, so that
// one HTTP error handler can map it to a status code, an API error body or a
// message beside a form field. Anything that is not an *Error is internal and
// reaches users only as "Internal error.".
package errs

import (
	"errors"
	"fmt"
)

// Code classifies an error for the transport layer.
type Code string

// Error codes; the HTTP layer maps each to a status and an API error code.
const (
	Invalid  Code = "invalid"  // 400 bad_request (422 for web forms)
	Conflict Code = "conflict" // 400 bad_request: duplicates and refusals of what exists
	// StateConflict is an action not allowed from the object's current status
	// (suspending a revoked key set): 409 conflict.
	StateConflict Code = "state_conflict"
	NotFound      Code = "not_found"    // 404
	Unauthorized  Code = "unauthorized" // 401 unauthorized_client
	Forbidden     Code = "forbidden"    // 403 access_denied
	TooMany       Code = "too_many"     // 429: login throttling
	Unavailable   Code = "unavailable"  // 503: the HSM does not answer
	Internal      Code = "internal"     // 500
)

// Error is an error meant to be shown to the user. Field, when set, names the
// input the message is about ("name", "cryptoKeyInfoEnvironmentList[1].content").
type Error struct {
	Code    Code
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an Invalid *Error about one input field. The message
// should be a full sentence that names the field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err, or Internal when err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the user-facing message of err; internal errors become
// "Internal error." so that no detail leaks.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// FieldOf returns the field an *Error is about, or "".
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
