package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/secrets"
	"github.com/labstack/echo/v4"
)

var jwksAPI = apiResource{
	Tag: openAPITag{Name: "JWKs", Description: "JSON Web Keys made from keys and certificates (signing keys publish their own). Public JWKs are published at " +
		"/jwks/{projectName}/{environmentName} (no authentication); secret (oct) JWKs only reach gateways through the bundle."},
	Schemas: []apiComponent{
		{Name: "JWKCreate", Type: jwkCreateDTO{}, Required: []string{"name", "sourceType", "sourceName", "use", "alg"},
			Docs: map[string]*schema{
				"name":             nameDoc("The JWK"),
				"sourceType":       {Enum: []any{secrets.SourceKey, secrets.SourceCertificate}},
				"sourceName":       {Description: "The key or certificate (sourceType; in the same project) the JWK is made from: RSA and EC keys give their public part, a secret key an oct JWK that is never published, a certificate its public key with x5c (the chain) and x5t#S256."},
				"use":              {Enum: []any{"sig", "enc"}},
				"alg":              {Description: "A JWA algorithm valid for the key and use: RS256…PS512 or RSA-OAEP(-256) for RSA, ES256/384/512 or ECDH-ES… for EC, HS256 or A128KW… for secret keys.", Example: "RS256"},
				"kid":              {MaxLength: 200, Description: "Optional; by default the RFC 7638 SHA-256 thumbprint of the key in each environment."},
				"environmentNames": {Description: "The environments to build and deploy the JWK in; the source must have a configuration in each."}}},
		{Name: "JWK", Type: jwkDTO{}, Docs: map[string]*schema{
			"sourceType": {Enum: []any{secrets.SourceKey, secrets.SourceCertificate}},
			"sourceName": {Description: "The key or certificate it was made from; kept when the JWK is disconnected."},
			"connected":  {Description: "Whether the JWK still follows its source."},
			"use":        {Enum: []any{"sig", "enc"}},
			"secret":     {Description: "An oct JWK holding a secret: never published, never shown."}}},
		{Name: "JWKEnvironment", Type: jwkEnvironment{}, Docs: map[string]*schema{
			"jwk": ref("PublicJWK")}},
	},
	Routes: jwkRoutes(),
}

func jwkRoutes() []apiRoute {
	bad, missing := http.StatusBadRequest, http.StatusNotFound
	project := []*openAPIParameter{projectNameParam}
	jwk := []*openAPIParameter{projectNameParam, pathParam("jwkName", "The JWK's name.", &schema{Type: "string", Pattern: namePattern})}
	return []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/jwks/", Handler: handle((*Server).handleAPIJWKList),
			Permission: "SECRETS:VIEW", ID: "listJWKs", Summary: "List a project's JWKs", Params: project, Errors: []int{missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/jwks/", Handler: handleBody((*Server).handleAPIJWKCreate),
			Permission: deployPermission, ID: "createJWK", Summary: "Create a JWK from a key or certificate and deploy it",
			Params: project, Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/jwks/{jwkName}/", Handler: handle((*Server).handleAPIJWKGet),
			Permission: "SECRETS:VIEW", ID: "getJWK", Summary: "Get a JWK", Params: jwk, Errors: []int{missing}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/jwks/{jwkName}/", Handler: handle((*Server).handleAPIJWKDelete),
			Permission: deployPermission, ID: "deleteJWK", Summary: "Undeploy and delete a JWK", Params: jwk, Errors: []int{missing}},
	}
}

// jwkCreateDTO is the body of POST .../jwks/.
type jwkCreateDTO struct {
	Name             string               `json:"name"`
	SourceType       string               `json:"sourceType"`
	SourceName       string               `json:"sourceName"`
	Use              string               `json:"use"`
	Alg              string               `json:"alg"`
	Kid              string               `json:"kid"`
	EnvironmentNames requiredList[string] `json:"environmentNames"`
}

// jwkDTO is a JWK in API answers; a secret (oct) JWK's material is never
// included.
type jwkDTO struct {
	Name         string           `json:"name"`
	SourceType   string           `json:"sourceType"`
	SourceName   string           `json:"sourceName"`
	Connected    bool             `json:"connected"`
	Use          string           `json:"use"`
	Alg          string           `json:"alg"`
	Secret       bool             `json:"secret"`
	CreatedAt    time.Time        `json:"createdAt"`
	UpdatedAt    time.Time        `json:"updatedAt"`
	Environments []jwkEnvironment `json:"environments"`
}

type jwkEnvironment struct {
	EnvironmentName  string          `json:"environmentName"`
	Kid              string          `json:"kid"`
	Deployed         bool            `json:"deployed"`
	DeployedRevision int64           `json:"deployedRevision,omitempty"`
	JWK              json.RawMessage `json:"jwk,omitempty"`
}

func toJWKDTO(j secrets.JWKDetail) jwkDTO {
	d := jwkDTO{Name: j.Name, SourceType: j.SourceType, SourceName: j.SourceName, Connected: j.Connected, Use: j.Use, Alg: j.Alg,
		Secret: j.Secret, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, Environments: []jwkEnvironment{}}
	for _, e := range j.Environments {
		je := jwkEnvironment{EnvironmentName: e.Environment, Kid: e.Kid, Deployed: e.DeployedRevision > 0, DeployedRevision: e.DeployedRevision}
		if e.PublicJSON != "" {
			je.JWK = json.RawMessage(e.PublicJSON)
		}
		d.Environments = append(d.Environments, je)
	}
	return d
}

// jwkResponse answers GET .../jwks/{jwkName}/.
type jwkResponse struct {
	apiOK
	JWK jwkDTO `json:"jwk"`
}

func (s *Server) handleAPIJWKCreate(c echo.Context, dto jwkCreateDTO) (createdResponse, error) {
	in := secrets.JWKInput{Name: dto.Name, SourceType: secrets.SourceType(dto.SourceType), SourceName: dto.SourceName, Use: dto.Use, Alg: dto.Alg,
		Kid: dto.Kid, Environments: dto.EnvironmentNames.Items}
	res, err := s.Secrets.CreateJWK(c.Request().Context(), principal(c), c.Param("projectName"), in, true)
	return createdResponse{Name: dto.Name, DeploymentResult: res}, err
}

func (s *Server) handleAPIJWKList(c echo.Context) (listResponse[jwkDTO], error) {
	list, err := s.Secrets.ListJWKs(c.Request().Context(), principal(c), c.Param("projectName"))
	if err != nil {
		return listResponse[jwkDTO]{}, err
	}
	out := make([]jwkDTO, len(list))
	for i, j := range list {
		out[i] = toJWKDTO(j)
	}
	return listOf(out), nil
}

func (s *Server) handleAPIJWKGet(c echo.Context) (jwkResponse, error) {
	j, err := s.Secrets.GetJWK(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("jwkName"))
	return jwkResponse{JWK: toJWKDTO(j)}, err
}

func (s *Server) handleAPIJWKDelete(c echo.Context) (deployedResponse, error) {
	res, err := s.Secrets.DeleteJWK(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("jwkName"))
	return deployedResponse{DeploymentResult: res}, err
}

// handleJWKS serves a project's public JWKS for an environment from memory,
// with an ETag and 304 on If-None-Match. It is not part of /apiops/: the
// gateways' and clients' URL, public.
func (s *Server) handleJWKS(c echo.Context) error {
	set, err := s.Secrets.JWKS(c.Param("projectName"), c.Param("environmentName"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("ETag", set.ETag)
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Access-Control-Allow-Origin", "*")
	if etagMatches(c.Request().Header.Get("If-None-Match"), set.ETag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "application/jwk-set+json", set.Body)
}

// etagMatches reports whether an If-None-Match header (a list of tags, weak
// or strong, or "*") names etag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
