package handlers

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// The OpenAPI document is built from the route table (apiResources in
// routes.go): each route contributes its operation, and the schemas of its
// request and response are derived by reflection from the Go types its
// handler decodes and returns (see openapi_schema.go). Nothing about a route
// is written twice, so a route cannot be served undocumented.

// openAPI is the document without its version. init builds it when the
// package loads, so that an inconsistent route table is a start-up failure,
// not a runtime 500. (A variable initialiser would make an initialisation
// cycle: the table holds handleOpenAPI, which reads the document.)
var openAPI *openAPIDoc

func init() { openAPI = buildOpenAPI(apiResources) }

// handleOpenAPI serves the OpenAPI description of the REST API. It is public
// so that tools can read it before they hold a token.
func (s *Server) handleOpenAPI(echo.Context) (openAPIDoc, error) {
	doc := *openAPI
	doc.Info.Version = s.Version
	return doc, nil
}

// OpenAPISchemaTypes returns, by component name, a zero value of each Go
// type the document's schemas are derived from, so that tests can check the
// served schemas against the types' JSON tags.
func OpenAPISchemaTypes() map[string]any {
	out := map[string]any{}
	for _, c := range allComponents(apiResources) {
		if c.Schema == nil {
			out[c.Name] = c.Type
		}
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
	Permission  string                      `json:"x-permission,omitempty"`
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
	Headers     map[string]*openAPIHeader `json:"headers,omitempty"`
	Content     map[string]openAPIMedia   `json:"content,omitempty"`
}

type openAPIHeader struct {
	Description string  `json:"description"`
	Required    bool    `json:"required,omitempty"`
	Schema      *schema `json:"schema"`
}

type openAPIMedia struct {
	Schema  *schema `json:"schema"`
	Example any     `json:"example,omitempty"`
}

var (
	bearerSecurity  = []map[string][]string{{"bearerAuth": {}}}
	gatewaySecurity = []map[string][]string{{"gatewayToken": {}}}
)

// buildOpenAPI assembles the document from the route table and panics when
// the table is inconsistent (a path parameter left undocumented, a route
// twice, an error status without a response, a type without a schema).
func buildOpenAPI(resources []apiResource) *openAPIDoc {
	b := newSchemaBuilder(allComponents(resources))
	doc := &openAPIDoc{
		OpenAPI: "3.0.3",
		Info: openAPIInfo{Title: "Keyward", Description: "Keyward's REST API. Authenticate with a Personal API Access Token " +
			"(Authorization: Bearer kw_pat_...). Every path also answers without its trailing slash. Successful answers " +
			"carry \"success\": true; lists answer {\"success\": true, \"resultList\": [...], \"resultCount\": N}, plus " +
			"\"page\" and \"size\" when paged; errors are {\"error\", \"error_description\", \"field\"?}."},
		Security: bearerSecurity,
		Paths:    map[string]map[string]*openAPIOperation{},
		Components: openAPIComponents{
			Responses: errorResponses(),
			SecuritySchemes: map[string]map[string]string{
				"bearerAuth": {"type": "http", "scheme": "bearer", "description": "A Personal API Access Token, created on the Account page."},
				"gatewayToken": {"type": "http", "scheme": "bearer", "description": "An environment's gateway token (kw_gw_...), " +
					"created by an admin on the environment's page or with POST /apiops/environments/{environmentName}/gatewayTokens/. " +
					"It reads that environment's bundle and nothing else."},
			},
		},
	}
	for _, res := range resources {
		doc.Tags = append(doc.Tags, res.Tag)
		for _, r := range res.Routes {
			if doc.Paths[r.Path] == nil {
				doc.Paths[r.Path] = map[string]*openAPIOperation{}
			}
			m := strings.ToLower(r.Method)
			if doc.Paths[r.Path][m] != nil {
				panic(fmt.Sprintf("openapi: %s %s is in the route table twice", r.Method, r.Path))
			}
			doc.Paths[r.Path][m] = r.operation(b, res.Tag.Name)
		}
	}
	doc.Components.Schemas = b.finish()
	return doc
}

var pathParamPattern = regexp.MustCompile(`\{([^}]+)\}`)

// operation documents one route.
func (r apiRoute) operation(b *schemaBuilder, tag string) *openAPIOperation {
	where := r.Method + " " + r.Path
	summary := r.Summary
	if r.Permission != "" {
		summary += " (" + r.Permission + ")"
	}
	out := &openAPIOperation{OperationID: r.ID, Summary: summary, Description: r.Description, Permission: r.Permission,
		Tags: []string{tag}, Parameters: slices.Clone(r.Params)}
	for _, m := range pathParamPattern.FindAllStringSubmatch(r.Path, -1) {
		if !slices.ContainsFunc(r.Params, func(p *openAPIParameter) bool { return p.In == "path" && p.Name == m[1] }) {
			panic(fmt.Sprintf("openapi: %s: path parameter %s is not documented", where, m[1]))
		}
	}
	if r.Handler.Request != nil {
		out.RequestBody = &openAPIRequestBody{Required: true,
			Content: map[string]openAPIMedia{echo.MIMEApplicationJSON: {Schema: b.schemaOf(reflect.TypeOf(r.Handler.Request), asInput, where)}}}
		if r.Handler.Form != nil {
			out.RequestBody.Content[echo.MIMEMultipartForm] = openAPIMedia{Schema: b.schemaOf(reflect.TypeOf(r.Handler.Form), asInput, where)}
		}
	}
	switch r.Security {
	case noToken:
		out.Security = &[]map[string][]string{}
	case gatewayToken:
		out.Security = &gatewaySecurity
	}
	if _, tagged := r.Handler.Response.(etagged); r.Conditional != tagged {
		panic(fmt.Sprintf("openapi: %s: Conditional is %v but %T has no ETag method", where, r.Conditional, r.Handler.Response))
	}
	if r.Conditional {
		out.Parameters = append(out.Parameters, &openAPIParameter{Name: "If-None-Match", In: "header",
			Description: "The ETag of the copy the client holds.", Schema: &schema{Type: "string"}})
	}
	out.Responses = r.responses(b, where)
	return out
}

// responses documents the 200 body, the 304 of a conditional route, and the
// errors: the route's own, 401 and 403 where a token is needed, 400 and 413
// where a body is read, and 500 everywhere.
func (r apiRoute) responses(b *schemaBuilder, where string) map[string]*openAPIResponse {
	out := map[string]*openAPIResponse{"200": {Description: "Success."}}
	if file, ok := r.Handler.Response.(download); ok {
		// A download: the body is the file, in one of these types.
		out["200"].Description = "The file, as an attachment (Content-Disposition names it)."
		out["200"].Content = map[string]openAPIMedia{}
		for _, t := range file.contentTypes() {
			out["200"].Content[t] = openAPIMedia{Schema: &schema{Type: "string", Format: "binary"}}
		}
	} else {
		out["200"].Content = map[string]openAPIMedia{echo.MIMEApplicationJSON: {Schema: b.schemaOf(reflect.TypeOf(r.Handler.Response), asOutput, where)}}
	}
	if r.Conditional {
		etag := map[string]*openAPIHeader{"ETag": {Description: "Identifies this content; send it back in If-None-Match.",
			Required: true, Schema: &schema{Type: "string"}}}
		out["200"].Headers = etag
		out["304"] = &openAPIResponse{Description: "Not modified: the If-None-Match ETag is still current. No body.", Headers: etag}
	}
	statuses := slices.Concat(r.Errors, []int{http.StatusInternalServerError})
	if r.Security != noToken {
		statuses = append(statuses, http.StatusUnauthorized, http.StatusForbidden)
	}
	if r.Handler.Request != nil {
		statuses = append(statuses, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	}
	for _, status := range statuses {
		name := errorResponseNames[status]
		if name == "" {
			panic(fmt.Sprintf("openapi: %s: no error response for status %d", where, status))
		}
		out[strconv.Itoa(status)] = &openAPIResponse{Ref: "#/components/responses/" + name}
	}
	return out
}

// errorResponseNames names the shared error response of each status.
var errorResponseNames = map[int]string{
	http.StatusBadRequest:            "BadRequest",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Forbidden",
	http.StatusNotFound:              "NotFound",
	http.StatusConflict:              "Conflict",
	http.StatusRequestEntityTooLarge: "BodyTooLarge",
	http.StatusTooManyRequests:       "TooManyRequests",
	http.StatusInternalServerError:   "InternalError",
	http.StatusServiceUnavailable:    "Unavailable",
}

func errorResponses() map[string]*openAPIResponse {
	resp := func(desc, code, example string) *openAPIResponse {
		return &openAPIResponse{Description: desc, Content: map[string]openAPIMedia{echo.MIMEApplicationJSON: {
			Schema: ref("Error"), Example: map[string]string{"error": code, "error_description": example}}}}
	}
	unauthorized := resp("The token is missing, malformed, unknown, expired or revoked, or its user is disabled.",
		"unauthorized_client", "The access token is expired.")
	unauthorized.Headers = map[string]*openAPIHeader{"WWW-Authenticate": {Description: "Always Bearer.", Required: true,
		Schema: &schema{Type: "string", Pattern: "^Bearer"}}}
	return map[string]*openAPIResponse{
		"BadRequest":   resp("The request is not valid (a field, a duplicate, a conflict); nothing was changed.", "bad_request", `A project named "payments" already exists.`),
		"Unauthorized": unauthorized,
		"Forbidden":    resp("The token's user lacks the permission this needs.", "access_denied", `You need the SECRETS:MANAGE permission in project "payments".`),
		"NotFound":     resp("The project, environment or other object named in the path does not exist.", "not_found", `Project "payments" does not exist.`),
		"Conflict": resp("The action is not allowed from the object's current status (the description names it); nothing was changed.", "conflict",
			`The key set is REVOKED: only an ACTIVE key set can be suspended.`),
		"BodyTooLarge":  resp("The request body is larger than the server accepts (1 MiB by default); nothing was changed.", "bad_request", "The request body is too large."),
		"InternalError": resp("An unexpected error; the description quotes a request id for the administrator.", "server_error", "Internal error. Quote request id 3f2a... to your administrator."),
		"TooManyRequests": resp("Too many failed attempts (PINs, sign-ins): locked for a while; the description says until when.", "too_many_requests",
			"Too many wrong PINs: deleting signing keys is locked until 16:05 UTC."),
		"Unavailable": resp("The HSM does not answer; nothing was changed.", "unavailable", "The HSM is unavailable: ..."),
	}
}

func pathParam(name, desc string, s *schema) *openAPIParameter {
	return &openAPIParameter{Name: name, In: "path", Description: desc, Required: true, Schema: s}
}

func queryParam(name, desc string, s *schema) *openAPIParameter {
	return &openAPIParameter{Name: name, In: "query", Description: desc, Schema: s}
}

// pageParams are the paging query parameters of a list.
func pageParams(defSize, maxSize int) []*openAPIParameter {
	return []*openAPIParameter{
		queryParam("page", "The page to return, from 1.", between(&schema{Type: "integer"}, 1, 1_000_000, 1)),
		queryParam("size", "Entries per page.", between(&schema{Type: "integer"}, 1, maxSize, defSize)),
	}
}
