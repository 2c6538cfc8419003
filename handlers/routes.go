package handlers

import (
	"net/http"

	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/static"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// New builds the Echo instance with Keyward's whole route table.
func New(d Deps) *echo.Echo {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	s := &Server{Deps: d, metrics: newMetrics(d.Registry)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// Client addresses come from the connection, never from headers a client
	// can forge (login throttling and the audit log rely on them).
	e.IPExtractor = echo.ExtractIPDirect()

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}))
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableErrorHandler: true}))
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit("1M"))

	// Probes, metrics and assets: no session.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))
	e.StaticFS("/static", static.Files)
	// The public JWKS gateways and clients read: no session, no token.
	e.GET("/jwks/:projectName/:environmentName", s.handleJWKS)

	// The REST API: bearer tokens, JSON errors; the route table is
	// apiResources below, which also makes /apiops/openapi.json.
	api := e.Group("/apiops", s.bearerAuth)
	s.registerAPI(e, api)
	api.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })

	// The web console: cookie session and CSRF on every form.
	web := e.Group("", s.webSession)
	web.GET("/setup/:token", s.handleSetupForm)
	web.POST("/setup/:token", s.handleSetup)
	web.GET("/login", s.handleLoginForm)
	web.POST("/login", s.handleLogin)
	web.POST("/logout", s.handleLogout)

	app := web.Group("", s.requireUser)
	app.GET("/", s.handleHome)
	app.GET("/projects", s.handleProjectList)
	app.POST("/projects", s.handleProjectCreate)
	app.GET("/projects/:project", s.handleProjectShow)
	app.POST("/projects/:project", s.handleProjectUpdate)
	app.POST("/projects/:project/delete", s.handleProjectDelete)
	app.POST("/projects/:project/members", s.handleMemberSet)
	app.GET("/environments", s.handleEnvironmentList)
	app.POST("/environments", s.handleEnvironmentCreate)
	app.GET("/environments/:env", s.handleEnvironmentShow)
	app.POST("/environments/:env", s.handleEnvironmentUpdate)
	app.POST("/environments/:env/gateway-tokens", s.handleGatewayTokenCreate)
	app.POST("/environments/:env/gateway-tokens/:id/revoke", s.handleGatewayTokenRevoke)
	app.GET("/admin/users", s.handleUserList)
	app.POST("/admin/users", s.handleUserCreate)
	app.GET("/admin/users/:username", s.handleUserShow)
	app.POST("/admin/users/:username/disabled", s.handleUserSetDisabled)
	app.POST("/admin/users/:username/admin", s.handleUserSetAdmin)
	app.POST("/admin/users/:username/password", s.handleUserResetPassword)
	app.GET("/account", s.handleAccount)
	app.POST("/account/password", s.handleAccountPassword)
	app.POST("/account/tokens", s.handleTokenCreate)
	app.POST("/account/tokens/:id/revoke", s.handleTokenRevoke)
	app.GET("/projects/:project/keys", s.handleKeyList)
	app.GET("/projects/:project/keys/new", s.handleKeyNew)
	app.GET("/projects/:project/keys/algorithms", s.handleKeyAlgorithms)
	app.POST("/projects/:project/keys/config-preview", s.handleKeyConfigPreview)
	app.POST("/projects/:project/keys", s.handleKeyCreate)
	app.GET("/projects/:project/keys/:key", s.handleKeyShow)
	app.GET("/projects/:project/keys/:key/edit", s.handleKeyEdit)
	app.POST("/projects/:project/keys/:key", s.handleKeyUpdate)
	app.POST("/projects/:project/keys/:key/delete", s.handleKeyDelete)
	app.POST("/projects/:project/keys/:key/environments/:env/deploy", s.handleKeyDeploy)
	app.POST("/projects/:project/keys/:key/environments/:env/undeploy", s.handleKeyDeploy)
	app.GET("/projects/:project/certificates", s.handleCertificateList)
	app.GET("/projects/:project/certificates/new", s.handleCertificateNew)
	app.POST("/projects/:project/certificates/config-preview", s.handleCertificateConfigPreview)
	app.POST("/projects/:project/certificates/fetch", s.handleCertificateFetch)
	app.POST("/projects/:project/certificates", s.handleCertificateCreate)
	app.GET("/projects/:project/certificates/truststore", s.handleTruststoreShow)
	app.POST("/projects/:project/certificates/truststore/cas", s.handleTruststoreAdd)
	app.POST("/projects/:project/certificates/truststore/cas/:sha/remove", s.handleTruststoreRemove)
	app.POST("/projects/:project/certificates/truststore/builtin-roots", s.handleTruststoreBuiltinRoots)
	app.POST("/projects/:project/certificates/truststore/export", s.handleTruststoreExport)
	app.GET("/projects/:project/certificates/:cert", s.handleCertificateShow)
	app.GET("/projects/:project/certificates/:cert/edit", s.handleCertificateEdit)
	app.GET("/projects/:project/certificates/:cert/export", s.handleCertificateExport)
	app.POST("/projects/:project/certificates/:cert", s.handleCertificateUpdate)
	app.POST("/projects/:project/certificates/:cert/delete", s.handleCertificateDelete)
	app.POST("/projects/:project/certificates/:cert/environments/:env/deploy", s.handleCertificateDeploy)
	app.POST("/projects/:project/certificates/:cert/environments/:env/undeploy", s.handleCertificateDeploy)
	app.GET("/projects/:project/jwks", s.handleJWKList)
	app.GET("/projects/:project/jwks/new", s.handleJWKNew)
	app.POST("/projects/:project/jwks", s.handleJWKCreate)
	app.GET("/projects/:project/jwks/:jwk", s.handleJWKShow)
	app.POST("/projects/:project/jwks/:jwk/delete", s.handleJWKDelete)
	app.GET("/projects/:project/signing-keys", s.handleSigningKeyList)
	app.GET("/projects/:project/signing-keys/new", s.handleSigningKeyNew)
	app.GET("/projects/:project/signing-keys/label-check", s.handleSigningLabelCheck)
	app.POST("/projects/:project/signing-keys", s.handleSigningKeyCreate)
	app.GET("/projects/:project/signing-keys/signers/new", s.handleSignerNew)
	app.POST("/projects/:project/signing-keys/signers", s.handleSignerCreate)
	app.GET("/projects/:project/signing-keys/signers/:name", s.handleSignerShow)
	app.GET("/projects/:project/signing-keys/signers/:name/rotation-plan", s.handleRotationPlan)
	app.POST("/projects/:project/signing-keys/signers/:name/rotate", s.handleSignerRotate)
	app.GET("/projects/:project/signing-keys/:cka", s.handleSigningKeyShow)
	app.POST("/projects/:project/signing-keys/:cka/delete", s.handleSigningKeyDelete)
	app.POST("/projects/:project/signing-keys/:cka/environments/:env/publish", s.handleSigningKeyPublish)
	app.POST("/projects/:project/signing-keys/:cka/environments/:env/unpublish", s.handleSigningKeyPublish)
	app.GET("/projects/:project/notifications", s.handleNotifications)
	app.POST("/projects/:project/notifications/channels", s.handleChannelCreate)
	app.POST("/projects/:project/notifications/channels/:id", s.handleChannelUpdate)
	app.POST("/projects/:project/notifications/channels/:id/delete", s.handleChannelDelete)
	app.POST("/projects/:project/notifications/channels/:id/test", s.handleChannelTest)
	app.POST("/projects/:project/notifications/rules", s.handleRuleCreate)
	app.POST("/projects/:project/notifications/rules/:id", s.handleRuleUpdate)
	app.POST("/projects/:project/notifications/rules/:id/delete", s.handleRuleDelete)
	app.GET("/projects/:project/key-sets", s.handleKeySetList)
	app.GET("/projects/:project/key-sets/:keySet", s.handleKeySetShow)
	app.POST("/projects/:project/key-sets/:keySet/activate", s.handleKeySetAction)
	app.POST("/projects/:project/key-sets/:keySet/suspend", s.handleKeySetAction)
	app.POST("/projects/:project/key-sets/:keySet/regenerate", s.handleKeySetAction)
	app.POST("/projects/:project/key-sets/:keySet/revoke", s.handleKeySetAction)
	app.POST("/projects/:project/key-sets/:keySet/credentials", s.handleKeySetCredentials)
	app.GET("/projects/:project/api-catalog", s.handleAPICatalog)
	app.POST("/projects/:project/api-catalog", s.handleAPICreate)
	app.GET("/projects/:project/api-catalog/:api", s.handleAPIShow)
	app.POST("/projects/:project/api-catalog/:api", s.handleAPIUpdate)
	app.POST("/projects/:project/api-catalog/:api/delete", s.handleAPIDelete)
	app.POST("/projects/:project/api-catalog/:api/subscribe", s.handleSubscribe)
	app.GET("/projects/:project/policy-templates", s.handlePolicyList)
	app.POST("/projects/:project/policy-templates", s.handlePolicyCreate)
	app.GET("/projects/:project/policy-templates/:policy", s.handlePolicyShow)
	app.POST("/projects/:project/policy-templates/:policy", s.handlePolicyUpdate)
	app.POST("/projects/:project/policy-templates/:policy/delete", s.handlePolicyDelete)
	app.GET("/projects/:project/organizations", s.handleOrganizationList)
	app.POST("/projects/:project/organizations", s.handleOrganizationCreate)
	app.GET("/projects/:project/organizations/:org", s.handleOrganizationShow)
	app.POST("/projects/:project/organizations/:org", s.handleOrganizationChange)
	app.POST("/projects/:project/organizations/:org/delete", s.handleOrganizationChange)
	app.POST("/projects/:project/organizations/:org/groups", s.handleOrganizationChange)
	app.POST("/projects/:project/organizations/:org/groups/:group/delete", s.handleOrganizationChange)
	app.GET("/projects/:project/applications", s.handleApplicationList)
	app.POST("/projects/:project/applications", s.handleApplicationCreate)
	app.GET("/projects/:project/applications/:app", s.handleApplicationShow)
	app.POST("/projects/:project/applications/:app", s.handleApplicationChange)
	app.POST("/projects/:project/applications/:app/suspend", s.handleApplicationChange)
	app.POST("/projects/:project/applications/:app/reactivate", s.handleApplicationChange)
	app.POST("/projects/:project/applications/:app/delete", s.handleApplicationChange)
	app.POST("/projects/:project/applications/:app/subscriptions/:id/delete", s.handleApplicationChange)
	app.GET("/admin/hsm", s.handleTokenShow)
	app.POST("/admin/hsm/pin", s.handleSoftPINSet)
	app.GET("/audit", s.handleAuditList)
	app.GET("/audit.csv", s.handleAuditCSV)
	app.GET("/expiring", s.handleExpiring)
	app.GET("/search", s.handleSearch)
	app.GET("/expiring.csv", s.handleExpiringCSV)
	app.POST("/audit/verify", s.handleAuditVerify)
	return e
}

// apiResources is the REST API's route table, one resource per file
// (api_projects.go, api_keys.go, ...). Each route both serves and documents
// itself; the document lists the resources in this order.
var apiResources = []apiResource{projectsAPI, environmentsAPI, auditAPI, keysAPI, jwksAPI, certificatesAPI, truststoreAPI, signingKeysAPI, keySetsAPI, gatewaysAPI, expiringAPI, notificationsAPI, openAPIResource}

func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 only when the database answers.
func (s *Server) handleReadyz(c echo.Context) error {
	if err := s.DB.Ping(c.Request().Context()); err != nil {
		s.Logger.Error("readiness check failed", "error", err.Error())
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
