// Package names validates the names of things users create (projects,
// environments and, later, keys), which appear in URLs and never change.
package names

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyward/keyward/internal/errs"
)

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`)

// Validate checks name for use as the named field of a thing (e.g. "name" of
// "Project"): 1 to 64 characters, letters, digits, '.', '_' or '-', starting
// with a letter or digit.
func Validate(field, thing, name string) error {
	if name == "" {
		return errs.FieldErrorf(field, "%s name is required.", thing)
	}
	if !nameRE.MatchString(name) {
		return errs.FieldErrorf(field, "%s name %q is not valid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.", thing, name)
	}
	return nil
}

// MaxDescription is the longest description accepted.
const MaxDescription = 1000

// ValidateDescription bounds a description's length; line breaks and tabs
// are allowed, other control characters are not.
func ValidateDescription(field, desc string) error {
	if len(desc) > MaxDescription {
		return errs.FieldErrorf(field, "Description must be at most %d characters.", MaxDescription)
	}
	for _, r := range desc {
		if r != '\n' && r != '\r' && r != '\t' && (unicode.IsControl(r) || r == utf8.RuneError) {
			return errs.FieldErrorf(field, "The description must not contain control characters (found %U).", r)
		}
	}
	return nil
}

// ValidateLabel checks free text that names something beside its unique
// name (an alias, a token's name, a label): at most max bytes and no control
// characters, which would corrupt logs, CSV exports and terminals. what
// starts the message ("The alias").
func ValidateLabel(field, what, s string, max int) error {
	if len(s) > max {
		return errs.FieldErrorf(field, "%s must be at most %d characters.", what, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return errs.FieldErrorf(field, "%s must not contain control characters (found %U).", what, r)
		}
	}
	return nil
}

// reservedItemNames are the words the web console's addresses use beside
// item names (/projects/p/keys/new, …/config-preview, …/certificates/truststore, …/fetch):
// an item so named could not be opened in the browser.
var reservedItemNames = map[string]bool{"new": true, "algorithms": true, "config-preview": true, "truststore": true, "fetch": true}

// ValidateItem is Validate for the items of a project (keys, JWKs,
// certificates, …), which also refuses the reserved words.
func ValidateItem(field, thing, name string) error {
	if err := Validate(field, thing, name); err != nil {
		return err
	}
	if reservedItemNames[strings.ToLower(name)] {
		return errs.FieldErrorf(field, "%s name %q is reserved by the web console; choose another.", thing, name)
	}
	return nil
}
