package views

import "strconv"

// Form carries a submitted form's values and per-field errors, so that a
// rejected form re-renders with what the user typed and the message beside
// the field it is about.
type Form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string // an error not about one field
}

// NewForm returns an empty form.
func NewForm() Form { return Form{Values: map[string]string{}, Errors: map[string]string{}} }

// Value returns a submitted value.
func (f Form) Value(name string) string { return f.Values[name] }

// Error returns the message about a field, or "".
func (f Form) Error(name string) string { return f.Errors[name] }

// Invalid returns "true" when the field has an error, for aria-invalid.
func (f Form) Invalid(name string) string {
	if _, ok := f.Errors[name]; ok {
		return "true"
	}
	return ""
}

// Fail records err's message beside field, or as the form message when field
// is "" or not shown on the form.
func (f *Form) Fail(field, message string) {
	if field == "" {
		f.Message = message
		return
	}
	f.Errors[field] = message
}

func itoa(n int) string { return strconv.Itoa(n) }

// NextIndex is the index of a Configuration table row added after rows
// (a key's or a certificate's): one past the highest, since rows removed
// before a post leave gaps.
func NextIndex[R interface{ RowIndex() int }](rows []R) int {
	n := 0
	for _, r := range rows {
		n = max(n, r.RowIndex()+1)
	}
	return n
}
