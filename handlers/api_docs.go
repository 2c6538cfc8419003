package handlers

import (
	"net/http"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/secrets"
)

// openAPIResource serves the document itself.
var openAPIResource = apiResource{
	Tag: openAPITag{Name: "OpenAPI", Description: "This document."},
	Schemas: []apiComponent{{Name: "OpenAPIDocument", Type: openAPIDoc{}, Schema: &schema{Type: "object",
		Description: "This OpenAPI document.", Required: []string{"openapi", "info", "paths", "components"},
		Properties: map[string]*schema{
			"openapi": {Type: "string", Pattern: `^3\.`},
			"info": {Type: "object", Required: []string{"title", "version"}, Properties: map[string]*schema{
				"title": {Type: "string"}, "version": {Type: "string"}}},
			"paths":      {Type: "object"},
			"components": {Type: "object"},
		}}}},
	Routes: []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/openapi.json", Handler: handle((*Server).handleOpenAPI), Security: noToken,
			ID: "getOpenAPI", Summary: "This OpenAPI document."},
	},
}

// namePattern is what internal/names accepts for project and environment
// names (TestOpenAPINamePattern keeps the two in step).
const namePattern = `^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`

var (
	projectNameParam     = pathParam("projectName", "The project's name.", &schema{Type: "string", Pattern: namePattern})
	environmentNameParam = pathParam("environmentName", "The environment's name.", &schema{Type: "string", Pattern: namePattern})

	keyTypeEnum   = enumOf(keymaterial.Types...)
	algorithmEnum = enumOf(keymaterial.AES, keymaterial.DES, keymaterial.DESede, keymaterial.RSA, keymaterial.EC)
)

// nameDoc documents an item's name in a request body.
func nameDoc(thing string) *schema {
	return &schema{Description: thing + " name, unique and never changed.", Pattern: namePattern, MaxLength: 64}
}

// sharedComponents are the schemas more than one resource uses.
func sharedComponents() []apiComponent {
	return []apiComponent{
		{Name: "Error", Schema: &schema{Type: "object", Required: []string{"error", "error_description"}, Additional: new(bool),
			Properties: map[string]*schema{
				"error": {Type: "string", Enum: []any{"bad_request", "unauthorized_client", "access_denied", "not_found",
					"method_not_allowed", "conflict", "too_many_requests", "server_error", "unavailable"}},
				"error_description": text("A sentence saying what is wrong, meant for people."),
				"field":             text("For bad_request about one input, the JSON name of that field or parameter, such as \"name\" or \"permissions[1]\"."),
			}}},
		{Name: "Permission", Type: access.Permission(""), Schema: &schema{Type: "string", Enum: enumOf(access.All...), Description: "A project permission. " +
			"MANAGE lets a member change items of the area; DEPLOY_UNDEPLOY is needed in addition to MANAGE to deploy and " +
			"undeploy. MANAGE and DEPLOY_UNDEPLOY imply VIEW of the same area."}},
		{Name: "PublicJWK", Schema: jwkSchema("A public JSON Web Key (RFC 7517): never a private or secret member.", false)},
		{Name: "JSONWebKey", Schema: jwkSchema("A JSON Web Key (RFC 7517) as a gateway receives it: k holds a secret (oct) key.", true)},
		{Name: "DeploymentResult", Type: secrets.DeploymentResult{}, Docs: map[string]*schema{
			"message": {Example: "Deployed to 1 environment(s)."}}},
		{Name: "EnvironmentResult", Type: secrets.EnvironmentResult{}, Docs: map[string]*schema{
			"message": {Example: "deployed at revision 12"}}},
	}
}

// jwkSchema describes a JWK's members; with secret, an oct key's k too.
func jwkSchema(desc string, secret bool) *schema {
	b64url := func(what string) *schema {
		return &schema{Type: "string", Pattern: "^[A-Za-z0-9_-]+$", Description: what + ", base64url."}
	}
	s := &schema{Type: "object", Description: desc, Required: []string{"kty", "kid"}, Additional: new(bool),
		Properties: map[string]*schema{
			"kty": {Type: "string", Enum: []any{"RSA", "EC"}}, "kid": {Type: "string"},
			"use": {Type: "string", Enum: []any{"sig", "enc"}}, "alg": {Type: "string"},
			"n": b64url("The RSA modulus"), "e": b64url("The RSA public exponent"),
			"crv": {Type: "string", Enum: []any{"P-256", "P-384", "P-521"}}, "x": b64url("The EC point's x"), "y": b64url("The EC point's y"),
			"x5c":      {Type: "array", Items: &schema{Type: "string", Format: "byte"}, Description: "The certificate chain, base64 DER."},
			"x5t#S256": b64url("The certificate's SHA-256 thumbprint"),
		}}
	if secret {
		s.Properties["kty"] = &schema{Type: "string", Enum: []any{"RSA", "EC", "oct"}}
		s.Properties["k"] = b64url("The secret key")
	}
	return s
}

// deployedResponse answers a write that deploys or undeploys.
type deployedResponse struct {
	apiOK
	DeploymentResult *secrets.DeploymentResult `json:"deploymentResult"`
}

// createdResponse answers a create or update that deploys.
type createdResponse struct {
	apiOK
	Name             string                    `json:"name" doc:"The item's name."`
	DeploymentResult *secrets.DeploymentResult `json:"deploymentResult"`
}
