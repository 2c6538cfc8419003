package handlers

import (
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/truststore"
	"github.com/labstack/echo/v4"
)

var truststoreAPI = apiResource{
	Tag: openAPITag{Name: "Truststore", Description: "Each environment's truststore: Mozilla's built-in roots (read-only; an " +
		"environment can leave them out) and the CA certificates the team adds. Changing it is a deploy: the revision grows, " +
		"the history and the webhook say so, and the bundle carries it."},
	Schemas: []apiComponent{
		{Name: "TrustedCA", Type: trustedCADTO{}, Docs: map[string]*schema{
			"sha256": {Pattern: "^[0-9a-f]{64}$", Description: "SHA-256 of the DER: the CA's identity in the truststore."}}},
		{Name: "TruststoreAdd", Type: truststoreAddDTO{}, Required: []string{"content"}, Docs: map[string]*schema{
			"content": {Format: "byte", Description: "A CA certificate, base64 of PEM or DER (or of a PKCS#7/PKCS#12 file with fileName)."}}},
		{Name: "BuiltInRootsPut", Type: builtInRootsDTO{}, Required: []string{"include"}},
	},
	Routes: truststoreRoutes(),
}

// truststoreFile is a truststore export.
type truststoreFile struct{ fileResponse }

func (truststoreFile) contentTypes() []string {
	return []string{"application/x-pem-file", "application/x-java-keystore", "application/x-pkcs12"}
}

func truststoreRoutes() []apiRoute {
	env := []*openAPIParameter{environmentNameParam}
	bad, missing := http.StatusBadRequest, http.StatusNotFound
	return []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/environments/{environmentName}/truststore/", Handler: handle((*Server).handleAPITruststoreList),
			Permission: "any user", ID: "listTruststore", Summary: "List an environment's truststore",
			Description: "The added CAs, then the built-in roots (builtIn: true), each with sha256, subjectDn and endDate.",
			Params:      append(env[:1:1], queryParam("search", "Only built-in roots whose subject contains this.", &schema{Type: "string"})),
			Errors:      []int{missing}},
		{Method: http.MethodPost, Path: "/apiops/environments/{environmentName}/truststore/", Handler: handleBody((*Server).handleAPITruststoreAdd),
			Permission: "admins", ID: "addTrustedCA", Summary: "Add a CA certificate to an environment's truststore (a deploy)",
			Params: env, Errors: []int{bad, missing}},
		{Method: http.MethodDelete, Path: "/apiops/environments/{environmentName}/truststore/{sha256}/", Handler: handle((*Server).handleAPITruststoreRemove),
			Permission: "admins", ID: "removeTrustedCA", Summary: "Remove an added CA from an environment's truststore (a deploy)",
			Params: append(env[:1:1], pathParam("sha256", "The CA's SHA-256, as listed.", &schema{Type: "string"})), Errors: []int{bad, missing}},
		{Method: http.MethodPut, Path: "/apiops/environments/{environmentName}/truststore/builtInRoots/", Handler: handleBody((*Server).handleAPITruststoreBuiltIn),
			Permission: "admins", ID: "setBuiltInRoots", Summary: "Include the built-in roots in an environment's truststore, or leave them out",
			Params: env, Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: "/apiops/environments/{environmentName}/truststore/export", Handler: handle((*Server).handleAPITruststoreExport),
			Permission: "any user", ID: "exportTruststore", Summary: "Export an environment's truststore",
			Description: "PEM bundle, JKS or PKCS#12 truststore (with password; \"changeit\" is the usual one) of what the environment trusts. Audited.",
			Params: append(env[:1:1],
				queryParam("format", "pem (default), jks or p12.", &schema{Type: "string", Enum: []any{truststore.FormatPEM, truststore.FormatJKS, truststore.FormatPKCS12}}),
				queryParam("password", "The JKS or PKCS#12 password.", &schema{Type: "string"})),
			Errors: []int{bad, missing}},
	}
}

// trustedCADTO is one CA of a truststore.
type trustedCADTO struct {
	SHA256    string        `json:"sha256"`
	Alias     string        `json:"alias"`
	SubjectDN string        `json:"subjectDn"`
	EndDate   time.Time     `json:"endDate"`
	BuiltIn   bool          `json:"builtIn"`
	Source    string        `json:"source,omitempty"`
	AddedBy   string        `json:"addedBy,omitempty"`
	Details   certs.Details `json:"details"`
}

func toTrustedCA(c truststore.CA) trustedCADTO {
	return trustedCADTO{SHA256: c.SHA256, Alias: c.Alias, SubjectDN: c.Subject, EndDate: c.NotAfter, BuiltIn: c.BuiltIn,
		Source: c.Source, AddedBy: c.AddedBy, Details: c.Details}
}

// truststoreListResponse is an environment's truststore.
type truststoreListResponse struct {
	listResponse[trustedCADTO]
	BuiltInRoots bool  `json:"builtInRoots" doc:"Whether the built-in roots are part of the truststore (they are listed either way)."`
	Revision     int64 `json:"revision"`
}

func (s *Server) handleAPITruststoreList(c echo.Context) (truststoreListResponse, error) {
	t, err := s.Truststores.Get(c.Request().Context(), principal(c), c.Param("environmentName"), c.QueryParam("search"))
	if err != nil {
		return truststoreListResponse{}, err
	}
	out := []trustedCADTO{}
	for _, ca := range t.Added {
		out = append(out, toTrustedCA(ca))
	}
	for _, ca := range t.BuiltIn {
		out = append(out, toTrustedCA(ca))
	}
	return truststoreListResponse{listResponse: listOf(out), BuiltInRoots: t.BuiltinRoots, Revision: t.Revision}, nil
}

// truststoreAddDTO is the body of POST .../truststore/.
type truststoreAddDTO struct {
	Content  string `json:"content"`
	Alias    string `json:"alias"`
	FileName string `json:"fileName"`
	Password string `json:"password"`
	Pick     int    `json:"pick" doc:"Which certificate of the content, from 0."`
}

// trustedCAResponse answers an addition.
type trustedCAResponse struct {
	apiOK
	CA               trustedCADTO              `json:"ca"`
	DeploymentResult *secrets.DeploymentResult `json:"deploymentResult"`
}

func (s *Server) handleAPITruststoreAdd(c echo.Context, dto truststoreAddDTO) (trustedCAResponse, error) {
	raw, err := keymaterial.DecodeBase64(dto.Content)
	if err != nil || dto.Content == "" {
		return trustedCAResponse{}, errs.FieldErrorf("content", "The content must be a CA certificate, base64-encoded.")
	}
	name := dto.FileName
	if name == "" {
		name = "ca.crt"
	}
	ca, res, err := s.Truststores.Add(c.Request().Context(), principal(c), c.Param("environmentName"), truststore.AddInput{
		Cert: certs.Input{Field: "content", FileName: name, Content: raw, Password: dto.Password}, Pick: dto.Pick, Alias: dto.Alias, Source: secrets.SourceAPI})
	if err != nil {
		return trustedCAResponse{}, err
	}
	return trustedCAResponse{CA: toTrustedCA(ca), DeploymentResult: res}, nil
}

func (s *Server) handleAPITruststoreRemove(c echo.Context) (deployedResponse, error) {
	res, err := s.Truststores.Remove(c.Request().Context(), principal(c), c.Param("environmentName"), c.Param("sha256"))
	return deployedResponse{DeploymentResult: res}, err
}

// builtInRootsDTO is the body of PUT .../truststore/builtInRoots/.
type builtInRootsDTO struct {
	Include *bool `json:"include" doc:"true to include the built-in roots, false to leave them out."`
}

func (s *Server) handleAPITruststoreBuiltIn(c echo.Context, dto builtInRootsDTO) (deployedResponse, error) {
	if dto.Include == nil {
		return deployedResponse{}, errs.FieldErrorf("include", "include is required: true or false.")
	}
	res, err := s.Truststores.SetBuiltinRoots(c.Request().Context(), principal(c), c.Param("environmentName"), *dto.Include)
	return deployedResponse{DeploymentResult: res}, err
}

func (s *Server) handleAPITruststoreExport(c echo.Context) (truststoreFile, error) {
	ex, err := s.Truststores.Export(c.Request().Context(), principal(c), c.Param("environmentName"), c.QueryParam("format"), c.QueryParam("password"))
	if err != nil {
		return truststoreFile{}, err
	}
	return truststoreFile{fileResponse{FileName: ex.FileName, ContentType: ex.ContentType, Body: ex.Body}}, nil
}
