// Package handlers is Keyward's HTTP layer: the route table, the web pages
// and the REST API under /apiops/. Handlers are thin: they parse the request,
// call one service method and render the result; services own transactions,
// permission checks and auditing.
package handlers

import (
	"log/slog"

	"github.com/gorilla/sessions"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/auth"
	"github.com/keyward/keyward/internal/bundle"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/config"
	"github.com/keyward/keyward/internal/dashboard"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/notify"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/search"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/signing"
	"github.com/keyward/keyward/internal/truststore"
	"github.com/keyward/keyward/views"
	"github.com/prometheus/client_golang/prometheus"
)

// Deps are the services and settings the handlers use, built in main.
type Deps struct {
	Config       config.Config
	Version      string
	Logger       *slog.Logger
	DB           *db.DB
	Auth         *auth.Service
	Projects     *projects.Service
	Environments *environments.Service
	Secrets      *secrets.Service
	Bundles      *bundle.Service
	Truststores  *truststore.Service
	Signing      *signing.Service
	KeySets      *keysets.Service
	Audit        *audit.Log
	Expiry       *expiry.Service
	Dashboard    *dashboard.Service
	Search       *search.Service
	Notify       *notify.Service
	Views        *views.Renderer
	Sessions     *sessions.CookieStore
	Registry     *prometheus.Registry
	// Clock is the app's clock, for pages that say when something will
	// happen (the Rotate form's default time); nil is the system clock.
	Clock clock.Clock
}

// Server holds the handlers' dependencies.
type Server struct {
	Deps
	metrics *metrics
}
