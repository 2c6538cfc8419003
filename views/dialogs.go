package views

import (
	"fmt"
	"strings"
)

// ConfirmDialog is the one dialog for far-reaching actions (partial
// "confirm-dialog"): an optional choice, such as the seeds' "JWK
// Connection" step (update or delete the related JWKs, or keep them and
// disconnect, or cancel), then the typed-name confirmation. static/app.js
// writes the chosen value to the hidden input Field and moves to the
// confirmation; closing the dialog forgets the choice.
type ConfirmDialog struct {
	ID      string // the <dialog>'s id; its opener carries data-dialog-open=ID
	Title   string
	Message string            // the choice step's question
	Detail  string            // what each choice does
	Choices []DialogChoice    // none: the dialog opens at the typed name
	Field   string            // the hidden input a choice is written to, e.g. jwk_action
	Default string            // Field's value until a choice is made
	Warning string            // the confirmation step's first sentence
	Noun    string            // "key", "JWK", "certificate": "Type the key's name"
	Name    string            // what must be typed
	Typed   string            // what Name is: "name" when empty, "alias"
	Action  string            // the dialog holds a form posting here; "" when it sits inside the form it confirms
	CSRF    string            // for Action's form
	Hidden  map[string]string // more inputs for Action's form, e.g. the environment a CA is removed from
	Submit  DialogSubmit
	// Affected lists what relies on the item, shown above the
	// confirmation under AffectedTitle (a signing key's JWKS).
	AffectedTitle string
	Affected      []string
	// Secret, when its Name is set, asks for a secret the server checks
	// (a token's user PIN) instead of the typed name: a password input,
	// never filled back in, and the submit enabled once it is not empty.
	Secret DialogSecret
	// Error is a refusal not about one field (too many wrong PINs).
	Error string
	// Open shows the dialog as the page loads: the server refused its
	// confirmation and answers the page again with the message inside.
	Open bool
}

// DialogSecret is the secret a confirmation asks for, with the message
// beside it after a refusal.
type DialogSecret struct {
	Name, Label, Hint, Error string
}

// DialogChoice is one button of the choice step.
type DialogChoice struct {
	Label, Value, Class string
}

// DialogSubmit is the confirmation step's submit button; Name and Value,
// when set, are posted with it.
type DialogSubmit struct {
	ID, Label, Name, Value, Class string
}

// JWKUpdateDialog is the "JWK Connection" dialog of an item (item is
// "Key" or "Certificate") that JWKs are made from, opened by its edit
// wizard's Save and Deploy, which the confirmation submits. The choice goes
// to jwk_action: UPDATE or NULLIFY.
func JWKUpdateDialog(id, item, name string, jwks []string) ConfirmDialog {
	noun := strings.ToLower(item)
	return ConfirmDialog{
		ID: id, Title: "JWK Connection",
		Message: fmt.Sprintf("This %s is used in %d JWK(s). What would you like to do?", item, len(jwks)),
		Detail: fmt.Sprintf("%s. “Update related JWKs” rebuilds them from the new material and redeploys them where they are deployed; "+
			"“Update %s only and disconnect” leaves them as they are and removes the link.", strings.Join(jwks, ", "), noun),
		Choices: []DialogChoice{{Label: "Update related JWKs", Value: "UPDATE"},
			{Label: "Update " + noun + " only and disconnect", Value: "NULLIFY", Class: "secondary"}},
		Field: "jwk_action", Noun: noun, Name: name,
		Submit: DialogSubmit{ID: "jwk-confirm", Label: "Confirm", Name: "action", Value: "deploy"},
	}
}

// JWKDeleteDialog is an item's Delete: with related JWKs, the "JWK
// Connection" choice (Delete JWKS or Delete Disconnect, to jwk_action:
// DELETE or NULLIFY), then the typed name; without, the typed name alone.
func JWKDeleteDialog(id, item, name, action, csrf string, jwks []string) ConfirmDialog {
	noun := strings.ToLower(item)
	d := DeleteDialog(id, noun, name, action, csrf, "Deleting undeploys the "+noun+" from every environment.")
	d.Field, d.Default = "jwk_action", "NULLIFY"
	if len(jwks) == 0 {
		return d
	}
	d.Title = "JWK Connection"
	d.Message = fmt.Sprintf("This %s is used in %d JWK(s). What would you like to do?", item, len(jwks))
	d.Detail = fmt.Sprintf("%s. “Delete JWKS” deletes them and removes them from every JWKS; “Delete Disconnect” keeps them, with the %s's last material, "+
		"and only removes the link. Either way the %s is undeployed from every environment.", strings.Join(jwks, ", "), noun, noun)
	d.Choices = []DialogChoice{{Label: "Delete JWKS", Value: "DELETE", Class: "contrast"}, {Label: "Delete Disconnect", Value: "NULLIFY", Class: "secondary"}}
	return d
}

// DeleteDialog asks for the typed name before a delete posted to action.
func DeleteDialog(id, noun, name, action, csrf, warning string) ConfirmDialog {
	return ConfirmDialog{ID: id, Title: "Delete " + noun, Warning: warning, Noun: noun, Name: name, Action: action, CSRF: csrf,
		Submit: DialogSubmit{ID: id + "-confirm", Label: "Delete", Class: "contrast"}}
}
