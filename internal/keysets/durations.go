package keysets

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/errs"
)

// Day is the "d" unit durations accept beside Go's.
const Day = 24 * time.Hour

// maxDuration bounds policy durations.
const maxDuration = 10 * 366 * Day

// ParseDuration reads a policy duration: a Go duration ("12h", "90m") or
// days ("90d", "1d12h"). "" means none (zero, false).
func ParseDuration(field, s string) (time.Duration, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return 0, false, nil
	}
	bad := errs.FieldErrorf(field, "%q is not a duration: use a number and a unit such as 90d, 12h or 30m (d is days), or null for none.", s)
	var days int64
	rest := s
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > int64(maxDuration/Day) {
			return 0, false, bad
		}
		days, rest = n, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, false, bad
		}
		if strings.HasPrefix(rest, "-") && days > 0 {
			return 0, false, bad
		}
	}
	d += time.Duration(days) * Day
	if d <= 0 {
		return 0, false, errs.FieldErrorf(field, "%q must be longer than zero; send null for none.", s)
	}
	if d > maxDuration {
		return 0, false, errs.FieldErrorf(field, "%q is longer than ten years.", s)
	}
	if d%time.Second != 0 {
		return 0, false, errs.FieldErrorf(field, "%q must be a whole number of seconds.", s)
	}
	return d, true, nil
}

// FormatDuration writes seconds the way ParseDuration reads them: "90d",
// "1d12h", "45m".
func FormatDuration(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	days := d / Day
	rest := d % Day
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if rest > 0 || days == 0 {
		r := rest.String()
		if strings.HasSuffix(r, "m0s") {
			r = strings.TrimSuffix(r, "0s")
		}
		if strings.HasSuffix(r, "h0m") {
			r = strings.TrimSuffix(r, "0m")
		}
		b.WriteString(r)
	}
	return b.String()
}
