package credential

import (
	"strings"
	"testing"
)

func TestNewValuesCheck(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range []Kind{APIKey, ClientID, ClientSecret} {
		for range 200 {
			v := New(k)
			if len(v) != Len || !strings.HasPrefix(v, "kw_"+string(k)+"_") {
				t.Fatalf("New(%s) = %q", k, v)
			}
			if err := Check(v, k); err != nil {
				t.Fatalf("Check(%q): %v", v, err)
			}
			if seen[v] {
				t.Fatalf("value %q made twice", v)
			}
			seen[v] = true
		}
	}
}

func TestCheckRefusesMistypedValues(t *testing.T) {
	v := New(APIKey)
	swap := func(i int) string {
		b := []byte(v)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for _, c := range []struct {
		name, value string
		want        error
	}{
		{"other kind", strings.Replace(v, "kw_ak_", "kw_cs_", 1), ErrPrefix},
		{"no prefix", v[6:], ErrPrefix},
		{"truncated", v[:len(v)-1], ErrLength},
		{"longer", v + "A", ErrLength},
		{"a character changed", swap(10), ErrChecksum},
		{"checksum changed", swap(len(v) - 1), ErrChecksum},
		{"not base62", v[:10] + "-" + v[11:], ErrChars},
	} {
		if err := Check(c.value, APIKey); err != c.want {
			t.Errorf("%s: Check(%q) = %v, want %v", c.name, c.value, err, c.want)
		}
	}
}

func TestDisplayShowsPrefixAndLastFour(t *testing.T) {
	v := New(ClientSecret)
	if d := Display(v); d != "kw_cs_…"+v[len(v)-4:] || strings.Contains(d, v[6:len(v)-4]) {
		t.Errorf("Display = %q", d)
	}
}
