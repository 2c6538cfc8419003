package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/labstack/echo/v4"
)

var gatewaysAPI = apiResource{
	Tag: openAPITag{Name: "Gateways", Description: "Gateway tokens and the bundle a gateway reads: everything deployed to its environment."},
	Schemas: []apiComponent{
		{Name: "GatewayTokenCreate", Type: gatewayTokenCreateDTO{}, Required: []string{"name"}, Docs: map[string]*schema{
			"name": {MaxLength: 100, Description: "A name unique in the environment, such as the gateway's."}}},
		{Name: "GatewayToken", Type: gatewayTokenDTO{}, Docs: map[string]*schema{
			"prefix": {Description: "The token's first characters, to recognise it; the token itself is shown once, at creation.", Pattern: "^kw_gw_"}}},
		{Name: "Bundle", Type: secrets.Bundle{}, Docs: map[string]*schema{
			"revision": {Description: "The environment's revision; the ETag changes with it."}}},
		{Name: "BundleKey", Type: secrets.BundleKey{}, Docs: map[string]*schema{
			"keyType": {Enum: keyTypeEnum}, "algorithm": {Enum: algorithmEnum},
			"content": {Format: "byte", Description: "The deployed material, base64-encoded, as it was given."}}},
		{Name: "BundleJWK", Type: secrets.BundleJWK{}, Docs: map[string]*schema{
			"jwk": ref("JSONWebKey")}},
	},
	Routes: gatewayRoutes(),
}

func gatewayRoutes() []apiRoute {
	env := []*openAPIParameter{environmentNameParam}
	return []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/environments/{environmentName}/gatewayTokens/", Handler: handle((*Server).handleAPIGatewayTokenList),
			Permission: "admins", ID: "listGatewayTokens", Summary: "List an environment's gateway tokens",
			Description: "Never the tokens themselves.", Params: env, Errors: []int{http.StatusNotFound}},
		{Method: http.MethodPost, Path: "/apiops/environments/{environmentName}/gatewayTokens/", Handler: handleBody((*Server).handleAPIGatewayTokenCreate),
			Permission: "admins", ID: "createGatewayToken", Summary: "Create a gateway token",
			Description: "The token is answered this once; only its SHA-256 is stored.",
			Params:      env, Errors: []int{http.StatusBadRequest, http.StatusNotFound}},
		{Method: http.MethodDelete, Path: "/apiops/environments/{environmentName}/gatewayTokens/{tokenId}/", Handler: handle((*Server).handleAPIGatewayTokenRevoke),
			Permission: "admins", ID: "revokeGatewayToken", Summary: "Revoke a gateway token", Description: "It stops working at once.",
			Params: append(env[:1:1], pathParam("tokenId", "The gateway token's id, as listed.", &schema{Type: "integer", Format: "int64"})),
			Errors: []int{http.StatusNotFound}},
		{Method: http.MethodGet, Path: "/apiops/environments/{environmentName}/bundle", Handler: handle((*Server).handleAPIBundle),
			Permission: "the environment's gateway token", Security: gatewayToken, Conditional: true,
			ID: "getBundle", Summary: "Read what is deployed to an environment",
			Description: "Keys with their material (base64), JWKs (secret ones included), certificates with their chain (PEM) and the truststore (the added CAs, and whether the built-in roots are part of it), with the environment's revision, all read in one transaction. Only " +
				"a gateway token of this environment may read it; every read is audited.",
			Params: env},
	}
}

// bundleResponse answers a gateway's bundle read; its ETag is the bundle's.
type bundleResponse struct {
	apiOK
	Bundle secrets.Bundle `json:"bundle"`
}

func (r bundleResponse) ETag() string { return r.Bundle.ETag() }

// handleAPIBundle answers a gateway with everything deployed to its
// environment.
func (s *Server) handleAPIBundle(c echo.Context) (bundleResponse, error) {
	b, err := s.Bundles.Read(c.Request().Context(), principal(c), c.Param("environmentName"))
	return bundleResponse{Bundle: b}, err
}

// gatewayTokenDTO is a gateway token in API answers (never its value).
type gatewayTokenDTO struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"createdAt"`
	LastUsed  *time.Time `json:"lastUsedAt,omitempty"`
	Revoked   bool       `json:"revoked"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty" doc:"When the token stops working; absent: until revoked."`
}

// gatewayTokenCreateDTO is the body of POST .../gatewayTokens/.
type gatewayTokenCreateDTO struct {
	Name      string `json:"name"`
	ExpiresIn string `json:"expiresIn,omitempty" doc:"How long the token works, such as 90d or 8760h; absent: until revoked."`
}

// gatewayTokenCreatedResponse answers POST .../gatewayTokens/.
type gatewayTokenCreatedResponse struct {
	apiOK
	Token string `json:"token" doc:"The token (kw_gw_...). It is shown this once and never again."`
	ID    int64  `json:"id" doc:"The token's id, for revoking it."`
	Name  string `json:"name" doc:"The token's name."`
}

func (s *Server) handleAPIGatewayTokenCreate(c echo.Context, in gatewayTokenCreateDTO) (gatewayTokenCreatedResponse, error) {
	var expires time.Duration
	if in.ExpiresIn != "" {
		d, err := expiry.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return gatewayTokenCreatedResponse{}, errs.FieldErrorf("expiresIn", "expiresIn %q is not a duration such as 90d or 8760h.", in.ExpiresIn)
		}
		expires = d
	}
	tok, err := s.Environments.CreateGatewayToken(c.Request().Context(), principal(c), c.Param("environmentName"), in.Name, expires)
	if err != nil {
		return gatewayTokenCreatedResponse{}, err
	}
	return gatewayTokenCreatedResponse{Token: tok.Value, ID: tok.Token.ID, Name: tok.Token.Name}, nil
}

func (s *Server) handleAPIGatewayTokenList(c echo.Context) (listResponse[gatewayTokenDTO], error) {
	toks, err := s.Environments.ListGatewayTokens(c.Request().Context(), principal(c), c.Param("environmentName"))
	if err != nil {
		return listResponse[gatewayTokenDTO]{}, err
	}
	out := make([]gatewayTokenDTO, len(toks))
	for i, t := range toks {
		out[i] = gatewayTokenDTO{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, Revoked: t.RevokedAt.Valid}
		if t.LastUsedAt.Valid {
			out[i].LastUsed = &t.LastUsedAt.Time
		}
		if t.ExpiresAt.Valid {
			out[i].ExpiresAt = &t.ExpiresAt.Time
		}
	}
	return listOf(out), nil
}

func (s *Server) handleAPIGatewayTokenRevoke(c echo.Context) (apiOK, error) {
	id, err := strconv.ParseInt(c.Param("tokenId"), 10, 64)
	if err != nil {
		return apiOK{}, errs.Errorf(errs.NotFound, "No gateway token %q.", c.Param("tokenId"))
	}
	return apiOK{}, s.Environments.RevokeGatewayToken(c.Request().Context(), principal(c), c.Param("environmentName"), id)
}
