package handlers

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/labstack/echo/v4"
)

// The OpenAPI document is built from the tables at the end of this file:
// apiComponents (schemas derived from the handlers' DTO types) and
// apiOperations (one entry per route). A new resource adds its DTOs to the
// first and its routes to the second; TestOpenAPICoversEveryRoute fails until
// every /apiops/ route in routes.go is documented, and every documented
// operation is served.

// openAPI is the document without its version, built when the package loads
// so that an inconsistent table is a start-up failure, not a runtime 500.
var openAPI = buildOpenAPI()

// handleOpenAPI serves the OpenAPI description of the REST API. It is public
// so that tools can read it before they hold a token.
func (s *Server) handleOpenAPI(c echo.Context) error {
	doc := *openAPI
	doc.Info.Version = s.Version
	return c.JSON(http.StatusOK, doc)
}

// OpenAPISchemaTypes returns, by component name, a zero value of each DTO
// type the document's schemas are derived from, so that tests can check the
// served schemas against the types' JSON tags.
func OpenAPISchemaTypes() map[string]any {
	out := map[string]any{}
	for _, c := range apiComponents() {
		out[c.Name] = c.Type
	}
	return out
}

// openAPIDoc is an OpenAPI 3.0 document (the parts Keyward uses).
type openAPIDoc struct {
	OpenAPI    string                                  `json:"openapi"`
	Info       openAPIInfo                             `json:"info"`
	Tags       []openAPITag                            `json:"tags"`
	Security   []map[string][]string                   `json:"security"`
	Paths      map[string]map[string]*openAPIOperation `json:"paths"`
	Components openAPIComponents                       `json:"components"`
}

type openAPIInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

type openAPITag struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type openAPIComponents struct {
	Schemas         map[string]*schema           `json:"schemas"`
	Responses       map[string]*openAPIResponse  `json:"responses"`
	SecuritySchemes map[string]map[string]string `json:"securitySchemes"`
}

type openAPIOperation struct {
	OperationID string                      `json:"operationId"`
	Summary     string                      `json:"summary"`
	Description string                      `json:"description,omitempty"`
	Tags        []string                    `json:"tags"`
	Security    *[]map[string][]string      `json:"security,omitempty"`
	Parameters  []*openAPIParameter         `json:"parameters,omitempty"`
	RequestBody *openAPIRequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*openAPIResponse `json:"responses"`
}

type openAPIParameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description"`
	Required    bool    `json:"required"`
	Schema      *schema `json:"schema"`
}

type openAPIRequestBody struct {
	Required bool                    `json:"required"`
	Content  map[string]openAPIMedia `json:"content"`
}

type openAPIResponse struct {
	Ref         string                    `json:"$ref,omitempty"`
	Description string                    `json:"description,omitempty"`
	Headers     map[string]map[string]any `json:"headers,omitempty"`
	Content     map[string]openAPIMedia   `json:"content,omitempty"`
}

type openAPIMedia struct {
	Schema  *schema `json:"schema"`
	Example any     `json:"example,omitempty"`
}

// schema is an OpenAPI Schema Object (the parts Keyward uses).
type schema struct {
	Ref         string             `json:"$ref,omitempty"`
	Type        string             `json:"type,omitempty"`
	Format      string             `json:"format,omitempty"`
	Description string             `json:"description,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Items       *schema            `json:"items,omitempty"`
	Properties  map[string]*schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	Pattern     string             `json:"pattern,omitempty"`
	MaxLength   int                `json:"maxLength,omitempty"`
	Minimum     *int               `json:"minimum,omitempty"`
	Maximum     *int               `json:"maximum,omitempty"`
	Default     any                `json:"default,omitempty"`
	Example     any                `json:"example,omitempty"`
}

func ref(name string) *schema   { return &schema{Ref: "#/components/schemas/" + name} }
func arrayOf(s *schema) *schema { return &schema{Type: "array", Items: s} }
func text(desc string) *schema  { return &schema{Type: "string", Description: desc} }
func integer(desc string) *schema {
	return &schema{Type: "integer", Format: "int64", Description: desc}
}

// between bounds an integer schema.
func between(s *schema, lo, hi, def int) *schema {
	s.Minimum, s.Maximum, s.Default = &lo, &hi, def
	return s
}

// apiComponent is a schema derived from a DTO type.
type apiComponent struct {
	Name string
	Type any                // a zero value of the DTO struct
	Docs map[string]*schema // descriptions and constraints by JSON name
	// Required lists what a client must send, for request bodies; for
	// responses (nil) every field without omitempty is required.
	Required []string
}

// apiOperation documents one /apiops/ route.
type apiOperation struct {
	Method, Path string // Path as documented: {param} and the trailing slash
	ID, Tag      string
	Summary      string
	Description  string
	Params       []*openAPIParameter
	Body         string             // component name of the JSON request body
	Result       map[string]*schema // fields of the 200 body besides "success"
	Optional     []string           // Result fields that are sometimes absent
	Errors       []int              // statuses besides 401, 403 and 500
	Public       bool               // no bearer token needed
	// Security replaces the document's bearerAuth (the bundle takes a
	// gateway token, not a personal one).
	Security []map[string][]string
	// Conditional operations answer with an ETag and 304 on If-None-Match.
	Conditional bool
}

var (
	bearerSecurity  = []map[string][]string{{"bearerAuth": {}}}
	gatewaySecurity = []map[string][]string{{"gatewayToken": {}}}
)

func buildOpenAPI() *openAPIDoc {
	doc := &openAPIDoc{
		OpenAPI: "3.0.3",
		Info: openAPIInfo{Title: "Keyward", Description: "Keyward's REST API. Authenticate with a Personal API Access Token " +
			"(Authorization: Bearer kw_pat_...). Every path also answers without its trailing slash. Successful answers " +
			"carry \"success\": true; errors are {\"error\", \"error_description\"}."},
		Tags:     apiTags,
		Security: bearerSecurity,
		Paths:    map[string]map[string]*openAPIOperation{},
		Components: openAPIComponents{
			Schemas:   apiSchemas(),
			Responses: errorResponses(),
			SecuritySchemes: map[string]map[string]string{
				"bearerAuth": {"type": "http", "scheme": "bearer", "description": "A Personal API Access Token, created on the Account page."},
				"gatewayToken": {"type": "http", "scheme": "bearer", "description": "An environment's gateway token (kw_gw_...), " +
					"created by an admin on the environment's page or with POST /apiops/environments/{environmentName}/gatewayTokens/. " +
					"It reads that environment's bundle and nothing else."},
			},
		},
	}
	for _, c := range apiComponents() {
		if doc.Components.Schemas[c.Name] != nil {
			panic(fmt.Sprintf("openapi: schema %s defined twice", c.Name))
		}
		doc.Components.Schemas[c.Name] = c.schema()
	}
	for _, op := range apiOperations() {
		if doc.Paths[op.Path] == nil {
			doc.Paths[op.Path] = map[string]*openAPIOperation{}
		}
		m := strings.ToLower(op.Method)
		if doc.Paths[op.Path][m] != nil {
			panic(fmt.Sprintf("openapi: %s %s documented twice", op.Method, op.Path))
		}
		doc.Paths[op.Path][m] = op.build()
	}
	return doc
}

func (op apiOperation) build() *openAPIOperation {
	out := &openAPIOperation{OperationID: op.ID, Summary: op.Summary, Description: op.Description,
		Tags: []string{op.Tag}, Parameters: op.Params, Responses: map[string]*openAPIResponse{}}
	if op.Body != "" {
		out.RequestBody = &openAPIRequestBody{Required: true,
			Content: map[string]openAPIMedia{echo.MIMEApplicationJSON: {Schema: ref(op.Body)}}}
	}
	success := &schema{Type: "object", Description: "This OpenAPI document."}
	statuses := slices.Concat(op.Errors, []int{http.StatusInternalServerError})
	if op.Public {
		out.Security = &[]map[string][]string{}
	} else {
		if op.Security != nil {
			out.Security = &op.Security
		}
		success = op.resultSchema()
		statuses = slices.Concat([]int{http.StatusUnauthorized, http.StatusForbidden}, statuses)
	}
	out.Responses["200"] = &openAPIResponse{Description: "Success.",
		Content: map[string]openAPIMedia{echo.MIMEApplicationJSON: {Schema: success}}}
	if op.Conditional {
		etag := map[string]map[string]any{"ETag": {"description": "Identifies this content; send it back in If-None-Match.",
			"schema": map[string]string{"type": "string"}}}
		out.Responses["200"].Headers = etag
		out.Responses["304"] = &openAPIResponse{Description: "Not modified: the If-None-Match ETag is still current. No body.", Headers: etag}
		out.Parameters = append(out.Parameters, &openAPIParameter{Name: "If-None-Match", In: "header",
			Description: "The ETag of the copy the client holds.", Schema: &schema{Type: "string"}})
	}
	for _, status := range statuses {
		name := errorResponseNames[status]
		if name == "" {
			panic(fmt.Sprintf("openapi: %s %s: no error response for status %d", op.Method, op.Path, status))
		}
		out.Responses[strconv.Itoa(status)] = &openAPIResponse{Ref: "#/components/responses/" + name}
	}
	return out
}

// resultSchema is the 200 body: "success": true and the operation's fields.
func (op apiOperation) resultSchema() *schema {
	s := &schema{Type: "object", Properties: map[string]*schema{"success": {Type: "boolean", Enum: []any{true}}}}
	for name, p := range op.Result {
		s.Properties[name] = p
		if !slices.Contains(op.Optional, name) {
			s.Required = append(s.Required, name)
		}
	}
	slices.Sort(s.Required)
	s.Required = append([]string{"success"}, s.Required...)
	return s
}

// schema derives the component's object schema from the DTO's JSON tags, so
// the document follows the types the handlers encode and decode.
func (c apiComponent) schema() *schema {
	t := reflect.TypeOf(c.Type)
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("openapi: %s: %s is not a struct", c.Name, t))
	}
	s := &schema{Type: "object", Properties: map[string]*schema{}}
	for _, f := range reflect.VisibleFields(t) {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || f.Anonymous || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := typeSchema(f.Type)
		if d := c.Docs[name]; d != nil {
			p = p.with(d)
		}
		s.Properties[name] = p
		if c.Required == nil && !strings.Contains(opts, "omitempty") {
			s.Required = append(s.Required, name)
		}
	}
	for name := range c.Docs {
		if s.Properties[name] == nil {
			panic(fmt.Sprintf("openapi: %s documents %q, which %s lacks", c.Name, name, t))
		}
	}
	if c.Required != nil {
		s.Required = c.Required
	}
	return s
}

var (
	timeType = reflect.TypeOf(time.Time{})
	jsonType = reflect.TypeOf(json.RawMessage{})
)

// typeSchema maps a Go field type to its JSON schema.
func typeSchema(t reflect.Type) *schema {
	switch {
	case t == timeType:
		return &schema{Type: "string", Format: "date-time"}
	case t == jsonType:
		return &schema{Description: "Any JSON value."}
	case t.Kind() == reflect.String:
		return &schema{Type: "string"}
	case t.Kind() == reflect.Bool:
		return &schema{Type: "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return &schema{Type: "integer", Format: "int64"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return &schema{Type: "number"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return &schema{Type: "string", Format: "byte"}
	case t.Kind() == reflect.Slice:
		return arrayOf(typeSchema(t.Elem()))
	case t.Kind() == reflect.Pointer:
		return typeSchema(t.Elem())
	case t.Kind() == reflect.Map:
		return &schema{Type: "object"}
	case t.Kind() == reflect.Struct:
		return apiComponent{Name: t.Name(), Type: reflect.Zero(t).Interface()}.schema()
	}
	panic(fmt.Sprintf("openapi: no schema for Go type %s", t))
}

// with overlays the documented description and constraints on a derived
// schema; a documented $ref, type or items replaces the derived one.
func (s *schema) with(d *schema) *schema {
	if d.Ref != "" {
		return d
	}
	out := *s
	if d.Items != nil {
		out.Items = d.Items
	}
	out.Type, out.Format = cmp.Or(d.Type, s.Type), cmp.Or(d.Format, s.Format)
	out.Description = cmp.Or(d.Description, s.Description)
	out.Enum, out.Pattern, out.MaxLength, out.Example = d.Enum, d.Pattern, d.MaxLength, d.Example
	return &out
}

// errorResponseNames names the shared error response of each status.
var errorResponseNames = map[int]string{
	http.StatusBadRequest:          "BadRequest",
	http.StatusUnauthorized:        "Unauthorized",
	http.StatusForbidden:           "Forbidden",
	http.StatusNotFound:            "NotFound",
	http.StatusInternalServerError: "InternalError",
}

func errorResponses() map[string]*openAPIResponse {
	resp := func(desc, code, example string) *openAPIResponse {
		return &openAPIResponse{Description: desc, Content: map[string]openAPIMedia{echo.MIMEApplicationJSON: {
			Schema: ref("Error"), Example: map[string]string{"error": code, "error_description": example}}}}
	}
	unauthorized := resp("The token is missing, malformed, unknown, expired or revoked, or its user is disabled.",
		"unauthorized_client", "The access token is expired.")
	unauthorized.Headers = map[string]map[string]any{"WWW-Authenticate": {
		"description": "Always Bearer.", "schema": map[string]string{"type": "string"}}}
	return map[string]*openAPIResponse{
		"BadRequest":    resp("The request is not valid (a field, a duplicate, a conflict); nothing was changed.", "bad_request", `A project named "payments" already exists.`),
		"Unauthorized":  unauthorized,
		"Forbidden":     resp("The token's user lacks the permission this needs.", "access_denied", `You need the SECRETS:MANAGE permission in project "payments".`),
		"NotFound":      resp("The project, environment or other object named in the path does not exist.", "not_found", `Project "payments" does not exist.`),
		"InternalError": resp("An unexpected error; the description quotes a request id for the administrator.", "server_error", "Internal error. Quote request id 3f2a... to your administrator."),
	}
}

// namePattern is what internal/names accepts for project and environment
// names (TestOpenAPINamePattern keeps the two in step).
const namePattern = `^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`

var apiTags = []openAPITag{
	{Name: "Projects", Description: "Projects are the namespaces every key, certificate, JWK, signing key and key set belongs to; users are members of projects with permissions."},
	{Name: "Environments", Description: "Deployment targets, each with a revision that grows on every deploy or undeploy and a deployment history."},
	{Name: "Audit", Description: "The append-only, tamper-evident audit log."},
	{Name: "Keys", Description: "Secret, private and public keys, configured per environment and deployed to it (seeds 000 and 002). " +
		"Material is sent base64-encoded and never answered back."},
	{Name: "JWKs", Description: "JSON Web Keys made from keys. Public JWKs are published at /jwks/{projectName}/{environmentName} " +
		"(no authentication); secret (oct) JWKs only reach gateways through the bundle."},
	{Name: "Gateways", Description: "Gateway tokens and the bundle a gateway reads: everything deployed to its environment."},
	{Name: "OpenAPI", Description: "This document."},
}

func pathParam(name, desc string, s *schema) *openAPIParameter {
	return &openAPIParameter{Name: name, In: "path", Description: desc, Required: true, Schema: s}
}

func queryParam(name, desc string, s *schema) *openAPIParameter {
	return &openAPIParameter{Name: name, In: "query", Description: desc, Schema: s}
}

var (
	projectNameParam     = pathParam("projectName", "The project's name.", &schema{Type: "string", Pattern: namePattern})
	environmentNameParam = pathParam("environmentName", "The environment's name.", &schema{Type: "string", Pattern: namePattern})
	usernameParam        = pathParam("username", "The user's name.", &schema{Type: "string"})
	keyNameParam         = pathParam("keyName", "The key's name.", &schema{Type: "string", Pattern: namePattern})
	jwkNameParam         = pathParam("jwkName", "The JWK's name.", &schema{Type: "string", Pattern: namePattern})
	tokenIDParam         = pathParam("tokenId", "The gateway token's id, as listed.", &schema{Type: "integer", Format: "int64"})
)

// enumOf lists values for a schema's enum.
func enumOf[T ~string](values ...T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

var (
	keyTypeEnum   = enumOf(keymaterial.Types...)
	algorithmEnum = enumOf(keymaterial.AES, keymaterial.DES, keymaterial.DESede, keymaterial.RSA, keymaterial.EC)
)

// pageParams are the paging query parameters of a list.
func pageParams(defSize, maxSize int) []*openAPIParameter {
	return []*openAPIParameter{
		queryParam("page", "The page to return, from 1.", between(&schema{Type: "integer"}, 1, 1_000_000, 1)),
		queryParam("size", "Entries per page.", between(&schema{Type: "integer"}, 1, maxSize, defSize)),
	}
}

// apiSchemas are the schemas written by hand rather than derived from a DTO.
func apiSchemas() map[string]*schema {
	perms := make([]any, len(access.All))
	for i, p := range access.All {
		perms[i] = string(p)
	}
	return map[string]*schema{
		"Error": {Type: "object", Required: []string{"error", "error_description"}, Properties: map[string]*schema{
			"error": {Type: "string", Enum: []any{"bad_request", "unauthorized_client", "access_denied", "not_found",
				"method_not_allowed", "too_many_requests", "server_error"}},
			"error_description": text("A sentence saying what is wrong, meant for people."),
			"field":             text("For bad_request about one input, the JSON name of that field or parameter, such as \"name\" or \"permissions[1]\"."),
		}},
		"Permission": {Type: "string", Enum: perms, Description: "A project permission. MANAGE lets a member change " +
			"items of the area; DEPLOY_UNDEPLOY is needed in addition to MANAGE to deploy and undeploy. MANAGE and " +
			"DEPLOY_UNDEPLOY imply VIEW of the same area."},
	}
}

// apiComponents are the schemas derived from the handlers' DTO types.
func apiComponents() []apiComponent {
	name := func(thing string) *schema {
		return &schema{Description: thing + " name, unique and never changed.", Pattern: namePattern, MaxLength: 64}
	}
	desc := &schema{MaxLength: names.MaxDescription}
	perms := &schema{Items: ref("Permission")}
	return append([]apiComponent{
		{Name: "Project", Type: projectDTO{}, Docs: map[string]*schema{
			"permissions": {Items: ref("Permission"), Description: "What the token's user may do in the project."}}},
		{Name: "ProjectCreate", Type: projectCreateDTO{}, Required: []string{"name"},
			Docs: map[string]*schema{"name": name("The project"), "description": desc}},
		{Name: "Member", Type: memberDTO{}, Docs: map[string]*schema{"permissions": perms}},
		{Name: "MemberPut", Type: memberPutDTO{}, Required: []string{"permissions"}, Docs: map[string]*schema{
			"permissions": {Items: ref("Permission"), Description: "The member's permissions; an empty list removes the member."}}},
		{Name: "Environment", Type: environmentDTO{}, Docs: map[string]*schema{
			"revision": {Description: "Grows by one on every deploy or undeploy; 0 for a new environment."}}},
		{Name: "EnvironmentCreate", Type: environmentCreateDTO{}, Required: []string{"name"}, Docs: map[string]*schema{
			"name": name("The environment"), "description": desc,
			"webhookUrl": {Format: "uri", MaxLength: 2000, Description: "An http:// or https:// URL told after each deploy, with an HMAC-signed body; empty for none."}}},
		{Name: "Deployment", Type: deploymentDTO{}},
		{Name: "AuditEntry", Type: auditEntryDTO{}, Docs: map[string]*schema{
			"id":          {Description: "The entry's position in the hash chain."},
			"actor":       {Description: "The user who acted."},
			"via":         {Description: "How: web, token:<token name> or cli."},
			"action":      {Example: "project.create"},
			"project":     {Description: "The project concerned, or empty."},
			"object":      {Example: "project/payments"},
			"environment": {Description: "The environment concerned, or empty."},
			"outcome":     {Enum: []any{"success", "denied", "failed"}},
			"detail":      {Description: "More about the operation, or empty."}}},
	}, keyComponents(name, desc)...)
}

// keyComponents are the schemas of keys, JWKs, deployments and gateways.
func keyComponents(name func(string) *schema, desc *schema) []apiComponent {
	keyType := &schema{Enum: keyTypeEnum, Description: "SECRET_KEY (AES, DES, DESede), PRIVATE_KEY or PUBLIC_KEY (RSA, EC)."}
	algorithm := &schema{Enum: algorithmEnum, Description: "Optional: inferred from the material when absent; a 24-byte secret is AES " +
		"unless DESede is given. Never changes after creation."}
	return []apiComponent{
		{Name: "KeyCreateDTO", Type: keyCreateDTO{}, Required: []string{"name", "keyType", "cryptoKeyInfoEnvironmentList"},
			Docs: map[string]*schema{"name": name("The key"), "description": desc, "keyType": keyType, "algorithm": algorithm,
				"cryptoKeyInfoEnvironmentList": {Items: ref("KeyEnvironmentConfig"), Description: "One configuration per environment, " +
					"each environment at most once. The key is deployed to every one of them."}}},
		{Name: "KeyUpdate", Type: keyCreateDTO{}, Required: []string{"cryptoKeyInfoEnvironmentList"},
			Docs: map[string]*schema{
				"name":        {Description: "Optional; when given, it must be the key's name (keys are never renamed)."},
				"description": desc, "keyType": {Enum: keyTypeEnum, Description: "Optional; it cannot change."},
				"algorithm": {Enum: algorithmEnum, Description: "Optional; it cannot change."},
				"cryptoKeyInfoEnvironmentList": {Items: ref("KeyEnvironmentConfig"), Description: "The key's configurations after " +
					"the update: an entry without content keeps that environment's material; an environment left out loses its " +
					"configuration and is undeployed. Every listed configuration is deployed."}}},
		{Name: "KeyEnvironmentConfig", Type: keyEnvironmentDTO{}, Required: []string{"environmentName", "content"},
			Docs: map[string]*schema{
				"environmentName": {Pattern: namePattern, Description: "The environment (by name) the configuration is for."},
				"content": {Format: "byte", Description: fmt.Sprintf("The key material, base64-encoded (line breaks allowed): the raw bytes "+
					"of a secret key (AES 16, 24 or 32 bytes, DES 8, DESede 16 or 24); an RSA or EC key as PKCS#1, PKCS#8, SEC1 or "+
					"PKIX, PEM or DER; or a certificate for a public key. At most %d bytes once decoded. Optional on update only.", keymaterial.MaxContent)},
				"alias": {MaxLength: 200}}},
		{Name: "Key", Type: keyDTO{}, Docs: map[string]*schema{
			"keyType": {Enum: keyTypeEnum}, "algorithm": {Enum: algorithmEnum},
			"environments": {Items: ref("KeyEnvironmentState")},
			"jwks":         {Description: "The JWKs made from this key (when one key is read)."}}},
		{Name: "KeyEnvironmentState", Type: keyEnvironmentOut{}, Docs: map[string]*schema{
			"source":             {Description: "Where the material came from: API, FILE or CLIPBOARD."},
			"format":             {Example: "PKCS#8 PEM"},
			"fingerprint":        {Description: "SHA-256, hex: of the public key (PKIX DER) for RSA and EC, of the bytes for a secret key."},
			"warning":            {Description: "A weakness worth knowing (DES, RSA below 2048 bits)."},
			"deployedRevision":   {Description: "The environment's revision when this configuration was last deployed."},
			"changedSinceDeploy": {Description: "Deployed, but the configuration changed since."}}},
		{Name: "JWKCreate", Type: jwkCreateDTO{}, Required: []string{"name", "sourceType", "sourceName", "use", "alg", "environmentNames"},
			Docs: map[string]*schema{
				"name":             name("The JWK"),
				"sourceType":       {Enum: []any{secrets.SourceKey}},
				"sourceName":       {Description: "The key (in the same project) the JWK is made from; RSA and EC keys give their public part, a secret key an oct JWK that is never published."},
				"use":              {Enum: []any{"sig", "enc"}},
				"alg":              {Description: "A JWA algorithm valid for the key and use: RS256…PS512 or RSA-OAEP(-256) for RSA, ES256/384/512 or ECDH-ES… for EC, HS256 or A128KW… for secret keys.", Example: "RS256"},
				"kid":              {MaxLength: 200, Description: "Optional; by default the RFC 7638 SHA-256 thumbprint of the key in each environment."},
				"environmentNames": {Description: "The environments to build and deploy the JWK in; the key must have a configuration in each."}}},
		{Name: "JWK", Type: jwkDTO{}, Docs: map[string]*schema{
			"sourceName":   {Description: "The key it was made from; kept when the JWK is disconnected."},
			"connected":    {Description: "Whether the JWK still follows its source key."},
			"secret":       {Description: "An oct JWK holding a secret: never published, never shown."},
			"environments": {Items: ref("JWKEnvironment")}}},
		{Name: "JWKEnvironment", Type: jwkEnvironment{}, Docs: map[string]*schema{
			"jwk": {Description: "The public JWK (RFC 7517); absent for a secret JWK."}}},
		{Name: "DeploymentResult", Type: secrets.DeploymentResult{}, Docs: map[string]*schema{
			"environmentResults": {Items: ref("EnvironmentResult")}}},
		{Name: "EnvironmentResult", Type: secrets.EnvironmentResult{}, Docs: map[string]*schema{
			"message": {Example: "deployed at revision 12"}}},
		{Name: "GatewayTokenCreate", Type: struct {
			Name string `json:"name"`
		}{}, Required: []string{"name"}, Docs: map[string]*schema{"name": {MaxLength: 100, Description: "A name unique in the environment, such as the gateway's."}}},
		{Name: "GatewayToken", Type: gatewayTokenDTO{}, Docs: map[string]*schema{
			"prefix": {Description: "The token's first characters, to recognise it; the token itself is shown once, at creation."}}},
		{Name: "Bundle", Type: secrets.Bundle{}, Docs: map[string]*schema{
			"revision": {Description: "The environment's revision; the ETag changes with it."},
			"keys":     {Items: ref("BundleKey")}, "jwks": {Items: ref("BundleJWK")}}},
		{Name: "BundleKey", Type: secrets.BundleKey{}, Docs: map[string]*schema{
			"content": {Format: "byte", Description: "The deployed material, base64-encoded, as it was given."}}},
		{Name: "BundleJWK", Type: secrets.BundleJWK{}, Docs: map[string]*schema{
			"jwk": {Description: "The JWK; for a secret JWK it holds the secret (k)."}}},
	}
}

// apiOperations documents every /apiops/ route registered in routes.go.
func apiOperations() []apiOperation {
	bad, missing := http.StatusBadRequest, http.StatusNotFound
	return append([]apiOperation{
		{Method: http.MethodGet, Path: "/apiops/openapi.json", ID: "getOpenAPI", Tag: "OpenAPI", Public: true,
			Summary: "This OpenAPI document."},

		{Method: http.MethodGet, Path: "/apiops/projects/", ID: "listProjects", Tag: "Projects",
			Summary:     "List the projects you can see",
			Description: "Admins see every project; other users the projects they are members of.",
			Result:      map[string]*schema{"projects": arrayOf(ref("Project"))}},
		{Method: http.MethodPost, Path: "/apiops/projects/", ID: "createProject", Tag: "Projects", Body: "ProjectCreate",
			Summary: "Create a project (admins)", Errors: []int{bad},
			Result: map[string]*schema{"project": ref("Project")}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/", ID: "getProject", Tag: "Projects",
			Summary: "Get a project (admins and members)", Params: []*openAPIParameter{projectNameParam}, Errors: []int{missing},
			Result: map[string]*schema{"project": ref("Project")}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/", ID: "deleteProject", Tag: "Projects",
			Summary:     "Delete an empty project (admins)",
			Description: "Refused with bad_request while the project holds items; its memberships go with it.",
			Params:      []*openAPIParameter{projectNameParam}, Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/members/", ID: "listMembers", Tag: "Projects",
			Summary: "List a project's members (admins and members)", Params: []*openAPIParameter{projectNameParam},
			Errors: []int{missing}, Result: map[string]*schema{"members": arrayOf(ref("Member"))}},
		{Method: http.MethodPut, Path: "/apiops/projects/{projectName}/members/{username}/", ID: "setMember", Tag: "Projects",
			Summary: "Set a user's permissions in a project (admins)", Body: "MemberPut",
			Params: []*openAPIParameter{projectNameParam, usernameParam}, Errors: []int{bad, missing},
			Result: map[string]*schema{"member": ref("Member")}},

		{Method: http.MethodGet, Path: "/apiops/environments/", ID: "listEnvironments", Tag: "Environments",
			Summary: "List environments", Result: map[string]*schema{"environments": arrayOf(ref("Environment"))}},
		{Method: http.MethodPost, Path: "/apiops/environments/", ID: "createEnvironment", Tag: "Environments",
			Summary: "Create an environment (admins)", Body: "EnvironmentCreate", Errors: []int{bad},
			Result: map[string]*schema{"environment": ref("Environment"),
				"webhookSecret": text("The webhook's HMAC secret, only when a webhookUrl was given. It is shown this once and never again.")},
			Optional: []string{"webhookSecret"}},
		{Method: http.MethodGet, Path: "/apiops/environments/{environmentName}/", ID: "getEnvironment", Tag: "Environments",
			Summary: "Get an environment and a page of its deployment history, newest first",
			Params:  append([]*openAPIParameter{environmentNameParam}, pageParams(20, 200)...), Errors: []int{bad, missing},
			Result: map[string]*schema{"environment": ref("Environment"), "deployments": arrayOf(ref("Deployment")),
				"deploymentCount": integer("Deployments in the whole history.")}},

		{Method: http.MethodGet, Path: "/apiops/audit/", ID: "listAudit", Tag: "Audit",
			Summary: "Read the audit log, newest first",
			Description: "Admins read every entry; other users read the entries of the projects in which they hold " +
				"AUDIT:VIEW, and are refused when they hold it nowhere. Filtering on a project needs AUDIT:VIEW in it.",
			Params: append([]*openAPIParameter{
				queryParam("project", "Only entries about this project.", &schema{Type: "string"}),
				queryParam("actor", "Only entries by this user.", &schema{Type: "string"}),
				queryParam("action", "Only this action; ending in '.', every action starting so (\"project.\").", &schema{Type: "string"}),
				queryParam("object", "Only entries about this object, such as project/payments.", &schema{Type: "string"}),
				queryParam("from", "Entries at or after this date (2026-11-23) or RFC 3339 time.", &schema{Type: "string"}),
				queryParam("to", "Entries before this RFC 3339 time, or up to the end of this date.", &schema{Type: "string"}),
			}, pageParams(50, audit.MaxPageSize)...),
			Errors: []int{bad, missing},
			Result: map[string]*schema{"entries": arrayOf(ref("AuditEntry")), "page": integer("This page's number."),
				"size": integer("Entries per page."), "hasNext": {Type: "boolean", Description: "Whether a next page exists."}}},
	}, keyOperations()...)
}

// keyOperations documents the keys, JWKs and gateway routes.
func keyOperations() []apiOperation {
	bad, missing := http.StatusBadRequest, http.StatusNotFound
	project := []*openAPIParameter{projectNameParam}
	key := []*openAPIParameter{projectNameParam, keyNameParam}
	deployed := map[string]*schema{"deploymentResult": ref("DeploymentResult")}
	created := map[string]*schema{"name": text("The created item's name."), "deploymentResult": ref("DeploymentResult")}
	return []apiOperation{
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/keys/", ID: "listKeys", Tag: "Keys",
			Summary:     "List a project's keys (SECRETS:VIEW)",
			Description: "Metadata only: never any material.",
			Params: append([]*openAPIParameter{projectNameParam,
				queryParam("search", "Only keys whose name or description contains this (case-insensitive).", &schema{Type: "string"}),
				queryParam("keyType", "Only keys of this type.", &schema{Type: "string", Enum: keyTypeEnum}),
				queryParam("algorithm", "Only keys of this algorithm.", &schema{Type: "string", Enum: algorithmEnum}),
				queryParam("environment", "Only keys configured in this environment.", &schema{Type: "string"}),
			}, pageParams(50, 200)...),
			Errors: []int{bad, missing},
			Result: map[string]*schema{"keys": arrayOf(ref("Key")), "total": integer("Keys matching the filters."),
				"page": integer("This page's number."), "size": integer("Keys per page.")}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/keys/", ID: "createKey", Tag: "Keys", Body: "KeyCreateDTO",
			Summary: "Create a key and deploy it (SECRETS:MANAGE and SECRETS:DEPLOY_UNDEPLOY)",
			Description: "Validates the material against the type and algorithm, seals it, and deploys each configuration to its " +
				"environment. Bad input is refused as a whole with bad_request naming the field " +
				"(cryptoKeyInfoEnvironmentList[1].content); nothing is written.",
			Params: project, Errors: []int{bad, missing}, Result: created},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/keys/{keyName}/", ID: "getKey", Tag: "Keys",
			Summary: "Get a key (SECRETS:VIEW)", Description: "Metadata, configurations, deployment state and related JWKs; never material.",
			Params: key, Errors: []int{missing}, Result: map[string]*schema{"key": ref("Key")}},
		{Method: http.MethodPut, Path: "/apiops/projects/{projectName}/keys/{keyName}/", ID: "updateKey", Tag: "Keys", Body: "KeyUpdate",
			Summary: "Update a key and deploy it (SECRETS:MANAGE and SECRETS:DEPLOY_UNDEPLOY)",
			Params: append(key, queryParam("jwkUpdateAction", "What happens to the JWKs made from the key: UPDATE rebuilds them from "+
				"the new material and redeploys them where they were deployed; NULLIFY disconnects them, keeping their material.",
				&schema{Type: "string", Enum: []any{secrets.JWKUpdate, secrets.JWKNullify}, Default: secrets.JWKNullify})),
			Errors: []int{bad, missing}, Result: created},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/keys/{keyName}/", ID: "deleteKey", Tag: "Keys",
			Summary:     "Delete a key (SECRETS:MANAGE and SECRETS:DEPLOY_UNDEPLOY)",
			Description: "Undeploys it from every environment first.",
			Params: append(key, queryParam("jwkDeleteAction", "What happens to the JWKs made from the key: DELETE deletes and "+
				"undeploys them; NULLIFY keeps them (still deployed) and disconnects them.",
				&schema{Type: "string", Enum: []any{secrets.JWKDelete, secrets.JWKNullify}, Default: secrets.JWKNullify})),
			Errors: []int{bad, missing}, Result: deployed},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/keys/{keyName}/environments/{environmentName}/", ID: "deployKey", Tag: "Keys",
			Summary: "Deploy a key's configuration to one environment (SECRETS:MANAGE and SECRETS:DEPLOY_UNDEPLOY)",
			Params:  append(key, environmentNameParam), Errors: []int{bad, missing}, Result: deployed},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/keys/{keyName}/environments/{environmentName}/", ID: "undeployKey", Tag: "Keys",
			Summary:     "Undeploy a key from one environment (SECRETS:MANAGE and SECRETS:DEPLOY_UNDEPLOY)",
			Description: "The configuration stays; bad_request when the key is not deployed there.",
			Params:      append(key, environmentNameParam), Errors: []int{bad, missing}, Result: deployed},

		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/jwks/", ID: "listJWKs", Tag: "JWKs",
			Summary: "List a project's JWKs (SECRETS:VIEW)", Params: project, Errors: []int{missing},
			Result: map[string]*schema{"jwks": arrayOf(ref("JWK"))}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/jwks/", ID: "createJWK", Tag: "JWKs", Body: "JWKCreate",
			Summary: "Create a JWK from a key and deploy it (SECRETS:MANAGE and SECRETS:DEPLOY_UNDEPLOY)",
			Params:  project, Errors: []int{bad, missing}, Result: created},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/jwks/{jwkName}/", ID: "getJWK", Tag: "JWKs",
			Summary: "Get a JWK (SECRETS:VIEW)", Params: []*openAPIParameter{projectNameParam, jwkNameParam}, Errors: []int{missing},
			Result: map[string]*schema{"jwk": ref("JWK")}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/jwks/{jwkName}/", ID: "deleteJWK", Tag: "JWKs",
			Summary: "Undeploy and delete a JWK (SECRETS:MANAGE and SECRETS:DEPLOY_UNDEPLOY)",
			Params:  []*openAPIParameter{projectNameParam, jwkNameParam}, Errors: []int{missing}, Result: deployed},

		{Method: http.MethodGet, Path: "/apiops/environments/{environmentName}/gatewayTokens/", ID: "listGatewayTokens", Tag: "Gateways",
			Summary: "List an environment's gateway tokens (admins)", Description: "Never the tokens themselves.",
			Params: []*openAPIParameter{environmentNameParam}, Errors: []int{missing},
			Result: map[string]*schema{"gatewayTokens": arrayOf(ref("GatewayToken"))}},
		{Method: http.MethodPost, Path: "/apiops/environments/{environmentName}/gatewayTokens/", ID: "createGatewayToken", Tag: "Gateways",
			Summary: "Create a gateway token (admins)", Body: "GatewayTokenCreate",
			Description: "The token is answered this once; only its SHA-256 is stored.",
			Params:      []*openAPIParameter{environmentNameParam}, Errors: []int{bad, missing},
			Result: map[string]*schema{"token": {Type: "string", Description: "The token (kw_gw_...). It is shown this once and never again.", Pattern: "^kw_gw_"},
				"id": integer("The token's id, for revoking it."), "name": text("The token's name.")}},
		{Method: http.MethodDelete, Path: "/apiops/environments/{environmentName}/gatewayTokens/{tokenId}/", ID: "revokeGatewayToken", Tag: "Gateways",
			Summary: "Revoke a gateway token (admins)", Description: "It stops working at once.",
			Params: []*openAPIParameter{environmentNameParam, tokenIDParam}, Errors: []int{missing}},
		{Method: http.MethodGet, Path: "/apiops/environments/{environmentName}/bundle", ID: "getBundle", Tag: "Gateways",
			Summary: "Read what is deployed to an environment (its gateway token)", Security: gatewaySecurity, Conditional: true,
			Description: "Keys with their material (base64) and JWKs, secret ones included, with the environment's revision. Only " +
				"a gateway token of this environment may read it; every read is audited.",
			Params: []*openAPIParameter{environmentNameParam}, Result: map[string]*schema{"bundle": ref("Bundle")}},
	}
}
