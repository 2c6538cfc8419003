package tlsreload

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"log/slog"
	"os"
	"time"

	"github.com/keyward/keyward/internal/clock"
)

// Watch reloads the certificate whenever a value arrives on hup (main
// passes SIGHUP) and whenever a poll every interval on clk finds the files
// changed, logging each outcome, until ctx ends.
func (r *Reloader) Watch(ctx context.Context, clk clock.Clock, interval time.Duration, hup <-chan os.Signal, log *slog.Logger) {
	for {
		sctx, cancel := context.WithCancel(ctx)
		woke := make(chan bool, 1)
		go func() { woke <- clk.Sleep(sctx, interval) }()
		select {
		case <-ctx.Done():
			cancel()
			return
		case <-hup:
			cancel()
			<-woke
			cert, err := r.Reload()
			r.logOutcome(log, "SIGHUP", cert, err)
		case ok := <-woke:
			cancel()
			if !ok {
				return
			}
			if tried, cert, err := r.ReloadIfChanged(); tried {
				r.logOutcome(log, "files changed", cert, err)
			}
		}
	}
}

func (r *Reloader) logOutcome(log *slog.Logger, why string, cert *tls.Certificate, err error) {
	if err != nil {
		log.Error("TLS certificate not reloaded; still serving the previous one", "reason", why,
			"cert_file", r.certFile, "key_file", r.keyFile, "error", err.Error())
		return
	}
	log.Info("TLS certificate reloaded", append([]any{"reason", why}, Describe(cert)...)...)
}

// Describe gives the log attributes that identify a certificate.
func Describe(cert *tls.Certificate) []any {
	leaf := cert.Leaf
	return []any{"subject", leaf.Subject.String(), "issuer", leaf.Issuer.String(),
		"serial", hex.EncodeToString(leaf.SerialNumber.Bytes()), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339)}
}
