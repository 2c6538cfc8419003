package audit

import "testing"

// TestCSVSafeDefusesFormulas: values a spreadsheet would run as a formula
// (also behind leading spaces) are prefixed with a quote; others pass.
func TestCSVSafeDefusesFormulas(t *testing.T) {
	cases := map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"  =1+1":            "'  =1+1",
		"+cmd":              "'+cmd",
		"-2":                "'-2",
		"@SUM(A1)":          "'@SUM(A1)",
		"\tx":               "'\tx",
		"alice":             "alice",
		"key/signer":        "key/signer",
		"":                  "",
	}
	for in, want := range cases {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
