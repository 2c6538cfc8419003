package certfetch

// TEMPORARY: the API the fetch branch implements, so that callers build.
// Deleted when that branch is merged.

import (
	"context"
	"crypto/x509"
	"net/netip"
	"time"

	"github.com/keyward/keyward/internal/errs"
)

type Policy struct {
	DenyPrivate bool
	Allow       []netip.Prefix
	Timeout     time.Duration
}

type Result struct {
	URL   string
	Host  string
	Chain []*x509.Certificate
}

type Fetcher struct{ Policy Policy }

func New(p Policy) *Fetcher { return &Fetcher{Policy: p} }

func (f *Fetcher) Fetch(ctx context.Context, field, rawURL string) (Result, error) {
	return Result{}, errs.FieldErrorf(field, "Fetching is not built yet.")
}
