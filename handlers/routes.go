package handlers

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward/static"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// New builds the Echo instance with Keyward's whole route table.
func New(d Deps) *echo.Echo {
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

	// The REST API: bearer tokens, JSON errors.
	e.GET("/apiops/openapi.json", s.handleOpenAPI)
	api := e.Group("/apiops", s.bearerAuth)
	apiRoute(api, http.MethodGet, "/projects/", s.handleAPIProjectList)
	apiRoute(api, http.MethodPost, "/projects/", s.handleAPIProjectCreate)
	apiRoute(api, http.MethodGet, "/projects/:projectName/", s.handleAPIProjectGet)
	apiRoute(api, http.MethodDelete, "/projects/:projectName/", s.handleAPIProjectDelete)
	apiRoute(api, http.MethodGet, "/projects/:projectName/members/", s.handleAPIMemberList)
	apiRoute(api, http.MethodPut, "/projects/:projectName/members/:username/", s.handleAPIMemberPut)
	apiRoute(api, http.MethodGet, "/environments/", s.handleAPIEnvironmentList)
	apiRoute(api, http.MethodPost, "/environments/", s.handleAPIEnvironmentCreate)
	apiRoute(api, http.MethodGet, "/environments/:environmentName/", s.handleAPIEnvironmentGet)
	apiRoute(api, http.MethodGet, "/audit/", s.handleAPIAuditList)
	apiRoute(api, http.MethodGet, "/projects/:projectName/keys/", s.handleAPIKeyList)
	apiRoute(api, http.MethodPost, "/projects/:projectName/keys/", s.handleAPIKeyCreate)
	apiRoute(api, http.MethodGet, "/projects/:projectName/keys/:keyName/", s.handleAPIKeyGet)
	apiRoute(api, http.MethodPut, "/projects/:projectName/keys/:keyName/", s.handleAPIKeyUpdate)
	apiRoute(api, http.MethodDelete, "/projects/:projectName/keys/:keyName/", s.handleAPIKeyDelete)
	apiRoute(api, http.MethodPost, "/projects/:projectName/keys/:keyName/environments/:environmentName/", s.handleAPIKeyDeploy)
	apiRoute(api, http.MethodDelete, "/projects/:projectName/keys/:keyName/environments/:environmentName/", s.handleAPIKeyDeploy)
	apiRoute(api, http.MethodGet, "/projects/:projectName/jwks/", s.handleAPIJWKList)
	apiRoute(api, http.MethodPost, "/projects/:projectName/jwks/", s.handleAPIJWKCreate)
	apiRoute(api, http.MethodGet, "/projects/:projectName/jwks/:jwkName/", s.handleAPIJWKGet)
	apiRoute(api, http.MethodDelete, "/projects/:projectName/jwks/:jwkName/", s.handleAPIJWKDelete)
	apiRoute(api, http.MethodGet, "/environments/:environmentName/gatewayTokens/", s.handleAPIGatewayTokenList)
	apiRoute(api, http.MethodPost, "/environments/:environmentName/gatewayTokens/", s.handleAPIGatewayTokenCreate)
	apiRoute(api, http.MethodDelete, "/environments/:environmentName/gatewayTokens/:tokenId/", s.handleAPIGatewayTokenRevoke)
	apiRoute(api, http.MethodGet, bundleRoute, s.handleAPIBundle)
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
	app.GET("/projects/:project/jwks", s.handleJWKList)
	app.GET("/projects/:project/jwks/new", s.handleJWKNew)
	app.POST("/projects/:project/jwks", s.handleJWKCreate)
	app.GET("/projects/:project/jwks/:jwk", s.handleJWKShow)
	app.POST("/projects/:project/jwks/:jwk/delete", s.handleJWKDelete)
	app.GET("/audit", s.handleAuditList)
	app.GET("/audit.csv", s.handleAuditCSV)
	app.POST("/audit/verify", s.handleAuditVerify)
	return e
}

// apiRoute registers an API route under its documented path (with the
// trailing slash) and without the slash, so both spellings work.
func apiRoute(g *echo.Group, method, path string, h echo.HandlerFunc) {
	g.Add(method, path, h)
	g.Add(method, strings.TrimSuffix(path, "/"), h)
}

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
