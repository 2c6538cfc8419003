// Package app wires Keyward together: configuration → database → master key
// → services → HTTP handlers. main.go and the tests build the same App, so
// tests exercise the real wiring.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/sessions"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/auth"
	"github.com/keyward/keyward/internal/bundle"
	"github.com/keyward/keyward/internal/certfetch"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/config"
	"github.com/keyward/keyward/internal/dashboard"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/pkcs11"
	"github.com/keyward/keyward/internal/hsm/soft"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/notify"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/internal/seal"
	"github.com/keyward/keyward/internal/search"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/signing"
	"github.com/keyward/keyward/internal/truststore"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Version is set at build time with -ldflags "-X .../internal/app.Version=...".
var Version = "dev"

// App is a wired Keyward instance.
type App struct {
	Config       config.Config
	Clock        clock.Clock
	Logger       *slog.Logger
	DB           *db.DB
	Sealer       *seal.Sealer
	Audit        *audit.Log
	Expiry       *expiry.Service
	Dashboard    *dashboard.Service
	Search       *search.Service
	Auth         *auth.Service
	Projects     *projects.Service
	Environments *environments.Service
	Publisher    *deploy.Publisher
	JWKS         *secrets.JWKSCache
	Secrets      *secrets.Service
	Bundles      *bundle.Service
	Truststores  *truststore.Service
	KeyManager   hsm.KeyManager
	Signing      *signing.Service
	KeySets      *keysets.Service
	Notify       *notify.Service
	// MasterKeyCreated reports that this start generated the master key.
	MasterKeyCreated bool

	stopSchedule context.CancelFunc
	scheduled    sync.WaitGroup
}

// Options are what differs between production and tests.
type Options struct {
	Clock     clock.Clock // default: the system clock
	LogOutput io.Writer   // default: io.Discard
	// ManualSchedule leaves out the background loops that run signer
	// rotation steps, key set events and expiry alerts every minute and
	// write key sets' last-used times (tests call Signing.RunDue,
	// KeySets.RunDue, KeySets.FlushLastUsed and Notify.RunDue when they move
	// the fake clock); the catch-ups at start still run, and Close still
	// writes the last-used times.
	ManualSchedule bool
}

// NewLogger builds the structured logger the configuration asks for.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Open opens the database and master key and builds the services.
func Open(ctx context.Context, cfg config.Config, schemaSQL string, opt Options) (*App, error) {
	if opt.Clock == nil {
		opt.Clock = clock.System{}
	}
	if opt.LogOutput == nil {
		opt.LogOutput = io.Discard
	}
	key, created, err := seal.LoadOrCreateMasterKey(cfg.KeyFile())
	if err != nil {
		return nil, err
	}
	sealer, err := seal.New(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	d, err := db.Open(ctx, cfg.DBPath(), schemaSQL)
	if err != nil {
		return nil, err
	}
	policy := auth.DefaultPolicy
	if cfg.SessionIdle > 0 {
		policy.SessionIdle = cfg.SessionIdle
	}
	if cfg.SessionMaxAge > 0 {
		policy.SessionMaxAge = cfg.SessionMaxAge
	}
	a := &App{Config: cfg, Clock: opt.Clock, Logger: NewLogger(cfg, opt.LogOutput), DB: d, Sealer: sealer, MasterKeyCreated: created}
	a.Audit = audit.New(d, sealer.DeriveKey("audit chain v1", 32), opt.Clock)
	// Signatures are audited through the journal (see internal/audit/journal.go);
	// entries a stopped server left there join the chain now.
	if err := a.Audit.OpenJournal(ctx, cfg.DBPath()+".audit-journal"); err != nil {
		d.Close()
		return nil, err
	}
	a.Expiry = expiry.NewService(d, opt.Clock)
	a.Auth = auth.NewService(d, a.Audit, opt.Clock, policy)
	a.Projects = projects.NewService(d, a.Audit, opt.Clock)
	a.Dashboard = dashboard.NewService(d, a.Projects, a.Expiry)
	a.Search = search.NewService(d)
	a.Environments = environments.NewService(d, a.Audit, opt.Clock, sealer)
	a.Publisher = deploy.NewPublisher(d, a.Environments, opt.Clock, a.Logger)
	a.JWKS = secrets.NewJWKSCache(d, a.Logger)
	a.Publisher.Listen(a.JWKS.Listener)
	a.Projects.Changed, a.Environments.Changed = a.JWKS.Refresh, a.JWKS.Refresh
	a.Secrets = secrets.NewService(d, a.Audit, opt.Clock, sealer, a.Publisher, a.JWKS, certfetch.New(cfg.FetchPolicy()))
	a.Truststores = truststore.NewService(d, a.Audit, opt.Clock, publish.NewWriter(d, a.Audit, opt.Clock, a.Publisher))
	a.KeySets = keysets.NewService(d, a.Audit, opt.Clock, publish.NewWriter(d, a.Audit, opt.Clock, a.Publisher), sealer, a.Logger)
	a.Bundles = bundle.NewService(d, a.Audit, append(a.Secrets.BundleContributors(), a.Truststores.Contributor(), a.KeySets.Contributor())...)
	if a.KeyManager, err = openKeyManager(ctx, cfg, d, sealer, opt.Clock); err != nil {
		d.Close()
		return nil, err
	}
	a.Signing = signing.NewService(d, a.Audit, opt.Clock, publish.NewWriter(d, a.Audit, opt.Clock, a.Publisher), a.KeyManager)
	// Signer rotations a stopped server missed run now; then every minute.
	if err := a.Signing.RunDue(ctx); err != nil {
		a.Logger.Error("signer rotation steps at start", "error", err.Error())
	}
	// Key set events a stopped server missed run now (after the verify
	// index is built); then every minute.
	if err := a.KeySets.Start(ctx); err != nil {
		d.Close()
		return nil, err
	}
	a.Notify = notify.NewService(d, a.Audit, opt.Clock, sealer, a.Expiry, cfg.BaseURL, a.Logger, cfg.FetchPolicy().HTTPClient(10*time.Second))
	if !opt.ManualSchedule {
		var sctx context.Context
		sctx, a.stopSchedule = context.WithCancel(context.Background())
		a.scheduled.Add(4)
		go func() {
			defer a.scheduled.Done()
			a.Signing.Schedule(sctx, func(err error) { a.Logger.Error("signer rotation steps", "error", err.Error()) })
		}()
		go func() {
			defer a.scheduled.Done()
			a.KeySets.Schedule(sctx, func(err error) { a.Logger.Error("key set events", "error", err.Error()) })
		}()
		go func() {
			defer a.scheduled.Done()
			a.KeySets.FlushEvery(sctx, func(err error) { a.Logger.Error("key set last-used times", "error", err.Error()) })
		}()
		// Expiry alerts: at once (what a stopped server missed), then every
		// minute; a delivery under way stops on Close and stays pending.
		go func() {
			defer a.scheduled.Done()
			a.Notify.Schedule(sctx, func(err error) { a.Logger.Error("expiry alerts", "error", err.Error()) })
		}()
	}
	if err := a.Secrets.UpgradeFingerprints(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := a.JWKS.Rebuild(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// Handler builds the HTTP handler with every route.
func (a *App) Handler() (*echo.Echo, error) {
	r, err := views.New()
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(collectors.NewDBStatsCollector(a.DB.Write, "write"), collectors.NewDBStatsCollector(a.DB.Read, "read"))
	reg.MustRegister(expiry.NewCollector(a.Expiry))
	reg.MustRegister(a.KeySets.Collectors()...)
	store := sessions.NewCookieStore(a.Sealer.DeriveKey("session auth v1", 32), a.Sealer.DeriveKey("session enc v1", 32))
	return handlers.New(handlers.Deps{
		Config: a.Config, Version: Version, Logger: a.Logger, DB: a.DB, Auth: a.Auth,
		Projects: a.Projects, Environments: a.Environments, Secrets: a.Secrets, Bundles: a.Bundles, Truststores: a.Truststores, Signing: a.Signing, KeySets: a.KeySets, Audit: a.Audit, Expiry: a.Expiry, Dashboard: a.Dashboard, Search: a.Search, Notify: a.Notify,
		Views: r, Sessions: store, Registry: reg, Clock: a.Clock,
	}), nil
}

// openKeyManager opens the HSM named by --hsm-module, or else the built-in
// software token (its keys sealed in the database, its PIN hash in the
// settings).
func openKeyManager(ctx context.Context, cfg config.Config, d *db.DB, sealer *seal.Sealer, c clock.Clock) (hsm.KeyManager, error) {
	if cfg.HSMModule != "" {
		km, err := pkcs11.New(pkcs11.Config{Module: cfg.HSMModule, TokenLabel: cfg.HSMTokenLabel, PIN: cfg.HSMPIN, MaxSessions: cfg.HSMMaxSessions})
		if err != nil {
			return nil, fmt.Errorf("HSM: %w", err)
		}
		return km, nil
	}
	hash, err := d.Queries().GetSetting(ctx, signing.SoftPINSetting)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("software token: %w", err)
	}
	return soft.New(soft.Config{Store: signing.NewSoftStore(d, c), Sealer: sealer, PINHash: hash})
}

// Close stops the webhook deliveries under way (each records that it was
// stopped), then closes the database.
func (a *App) Close() error {
	if !a.Publisher.Close(10 * time.Second) {
		a.Logger.Warn("closing with webhook deliveries still under way; their outcome stays \"pending\"")
	}
	if a.stopSchedule != nil {
		a.stopSchedule()
		a.scheduled.Wait()
	}
	if err := a.KeySets.Close(context.Background()); err != nil {
		a.Logger.Warn("writing key sets' last-used times", "error", err.Error())
	}
	if err := a.Audit.CloseJournal(context.Background()); err != nil {
		a.Logger.Error("audit journal: entries not yet in the chain stay in the journal and join it at the next start", "error", err.Error())
	}
	if a.KeyManager != nil {
		if err := a.KeyManager.Close(); err != nil {
			a.Logger.Warn("closing the key manager", "error", err.Error())
		}
	}
	return a.DB.Close()
}
