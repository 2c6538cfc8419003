package handlers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/labstack/echo/v4"
)

var certificatesAPI = apiResource{
	Tag: openAPITag{Name: "Certificates", Description: "X.509 certificates configured per environment and deployed to it (seed 001): " +
		"imported from a file (PEM, DER, PKCS#7, PKCS#12), pasted, or fetched from an https://, ldaps:// or ldap:// (StartTLS) server; " +
		"parsed, analysed against the environment's truststore, exported, and the source of JWKs with x5c."},
	Schemas: certificateSchemas(),
	Routes:  certificateRoutes(),
}

// certificateFile is a certificate export.
type certificateFile struct{ fileResponse }

func (certificateFile) contentTypes() []string {
	return []string{"application/zip", "application/x-pem-file", "application/pkix-cert", "application/x-pkcs7-certificates"}
}

func certificateRoutes() []apiRoute {
	bad, missing := http.StatusBadRequest, http.StatusNotFound
	cert := []*openAPIParameter{projectNameParam, pathParam("certificateName", "The certificate's name.", &schema{Type: "string", Pattern: namePattern})}
	certEnv := append(cert[:2:2], environmentNameParam)
	return []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/certificates/", Handler: handle((*Server).handleAPICertificateList),
			Permission: "SECRETS:VIEW", ID: "listCertificates", Summary: "List a project's certificates",
			Description: "Each with its certificate per environment (subject, validity, thumbprints), never the file content.",
			Params: append([]*openAPIParameter{projectNameParam,
				queryParam("search", "Only certificates whose name, description, subject or issuer contains this (case-insensitive).", &schema{Type: "string"}),
				queryParam("environment", "Only certificates configured in this environment.", &schema{Type: "string"}),
				queryParam("expiresWithin", "Only certificates that expire within this long (in the environment, when given): 30d, 12h, 90m.", &schema{Type: "string", Pattern: `^[0-9]+[dhm]$`}),
				queryParam("expired", "Only certificates already expired (true).", &schema{Type: "boolean"}),
			}, pageParams(50, 200)...),
			Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/certificates/",
			Handler:    handleBodyOrForm[certificateCreateDTO, certificateFormDTO]((*Server).handleAPICertificateCreate, certificateFromForm),
			Permission: deployPermission, ID: "createCertificate", Summary: "Create a certificate and deploy it",
			Description: "JSON (certificateEnvironmentList, content base64 of the file) or, as the seed product takes it, " +
				"multipart/form-data with certificateName, alias, certificateDescription, environmentList (comma-separated) and " +
				"pemEncodedFile. Bad input is refused as a whole, naming the field; nothing is written.",
			Params: cert[:1], Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/certificates/{certificateName}/", Handler: handle((*Server).handleAPICertificateGet),
			Permission: "SECRETS:VIEW", ID: "getCertificate", Summary: "Get a certificate",
			Description: "Every environment's certificate parsed, its chain, and the chain analysis against that environment's truststore.",
			Params:      cert, Errors: []int{missing}},
		{Method: http.MethodPut, Path: "/apiops/projects/{projectName}/certificates/{certificateName}/", Handler: handleBody((*Server).handleAPICertificateUpdate),
			Permission: deployPermission, ID: "updateCertificate", Summary: "Update a certificate and deploy it",
			Params: append(cert[:2:2], queryParam("jwkUpdateAction", "What happens to the JWKs made from the certificate: UPDATE rebuilds "+
				"them and redeploys them where they were deployed; NULLIFY disconnects them.",
				&schema{Type: "string", Enum: []any{secrets.JWKUpdate, secrets.JWKNullify}, Default: secrets.JWKNullify})),
			Errors: []int{bad, missing}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/certificates/{certificateName}/", Handler: handle((*Server).handleAPICertificateDelete),
			Permission: deployPermission, ID: "deleteCertificate", Summary: "Delete a certificate", Description: "Undeploys it from every environment first.",
			Params: append(cert[:2:2], queryParam("jwkDeleteAction", "What happens to the JWKs made from the certificate: DELETE deletes and "+
				"undeploys them; NULLIFY keeps them and disconnects them.",
				&schema{Type: "string", Enum: []any{secrets.JWKDelete, secrets.JWKNullify}, Default: secrets.JWKNullify})),
			Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/certificates/{certificateName}/environments/{environmentName}/",
			Handler: handle((*Server).handleAPICertificateDeploy), Permission: deployPermission, ID: "deployCertificate",
			Summary: "Deploy a certificate's configuration to one environment", Params: certEnv, Errors: []int{bad, missing}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/certificates/{certificateName}/environments/{environmentName}/",
			Handler: handle((*Server).handleAPICertificateDeploy), Permission: deployPermission, ID: "undeployCertificate",
			Summary: "Undeploy a certificate from one environment", Params: certEnv, Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/certificates/{certificateName}/export/",
			Handler: handle((*Server).handleAPICertificateExport), Permission: "SECRETS:VIEW", ID: "exportCertificate",
			Summary:     "Export a certificate",
			Description: "Without environment: a ZIP of every environment's certificate as DER ({certificateName}-{environmentName}.cer). With environment: one file as pem, der (.cer) or p7b (PKCS#7 with the chain). Audited.",
			Params: append(cert[:2:2],
				queryParam("environment", "One environment's certificate instead of the ZIP.", &schema{Type: "string"}),
				queryParam("format", "With environment: pem (default), der or p7b.", &schema{Type: "string", Enum: []any{secrets.FormatPEM, secrets.FormatDER, secrets.FormatPKCS7}})),
			Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/certificates/fetch", Handler: handleBody((*Server).handleAPICertificateFetch),
			Permission: "SECRETS:MANAGE in some project", ID: "fetchCertificates", Summary: "Fetch the certificate chain a TLS server presents",
			Description: "Connects to an https://, ldaps:// or ldap:// (StartTLS) address, makes only the TLS handshake (10 s limit), " +
				"and answers the chain leaf first, parsed and analysed against the environment's truststore (the built-in roots " +
				"without one). Stores nothing. Loopback, link-local and other internal addresses are refused unless the administrator allowed them.",
			Errors: []int{bad, missing}},
	}
}

func certificateSchemas() []apiComponent {
	env := &schema{Pattern: namePattern, Description: "The environment (by name) the certificate is for."}
	content := fmt.Sprintf("The certificate file, base64-encoded: PEM, DER, PKCS#7 (.p7b) or PKCS#12 (give fileName and password). At most %d bytes once decoded.", certs.MaxInput)
	config := map[string]*schema{
		"environmentName": env, "content": {Format: "byte", Description: content}, "alias": {MaxLength: 200,
			Description: "Unique per environment within the project."},
		"fileName": {Description: "Optional: the file's name, whose extension tells the format (server.p12)."},
		"password": {Description: "The PKCS#12 file's password."},
		"pick":     {Description: "Which certificate of the file to store, from 0 (the first; a chain's leaf)."},
		"url":      {Description: "Optional: the https/ldaps/ldap address the chain was fetched from (for the hostname check)."}}
	return []apiComponent{
		{Name: "CertificateCreateDTO", Type: certificateCreateDTO{}, Required: []string{"name"},
			Docs: map[string]*schema{"name": nameDoc("The certificate"), "description": {MaxLength: names.MaxDescription}}},
		{Name: "CertificateForm", Type: certificateFormDTO{}, Required: []string{"certificateName", "environmentList", "pemEncodedFile"},
			Docs: map[string]*schema{"pemEncodedFile": {Format: "binary"}, "environmentList": {Description: "Comma-separated environment names."}}},
		{Name: "CertificateUpdate", Type: certificateUpdateDTO{}, Docs: map[string]*schema{
			"name": {Description: "Optional; when given, it must be the certificate's name."}}},
		{Name: "CertificateEnvironmentConfig", Type: certificateEnvironmentDTO{}, Required: []string{"environmentName", "content"}, Docs: config},
		{Name: "CertificateEnvironmentUpdate", Type: certificateEnvironmentUpdateDTO{}, Required: []string{"environmentName"}, Docs: config},
		{Name: "Certificate", Type: certificateDTO{}},
		{Name: "CertificateEnvironment", Type: certificateEnvironmentOut{}, Docs: map[string]*schema{
			"source": {Enum: []any{secrets.SourceAPI, secrets.SourceFile, secrets.SourceClipboard, secrets.SourceURL}}}},
		{Name: "CertificateDetails", Type: certs.Details{}},
		{Name: "ChainAnalysis", Type: certs.Analysis{}},
		{Name: "ChainFinding", Type: certs.Finding{}, Docs: map[string]*schema{"severity": {Enum: []any{"error", "warning"}}}},
		{Name: "CertificateFetch", Type: certificateFetchDTO{}, Required: []string{"url"}},
	}
}

// certificateDTO is a certificate in API answers (never file content).
type certificateDTO struct {
	Name                       string                      `json:"name"`
	Description                string                      `json:"description"`
	CreatedAt                  time.Time                   `json:"createdAt"`
	UpdatedAt                  time.Time                   `json:"updatedAt"`
	CertificateEnvironmentList []certificateEnvironmentOut `json:"certificateEnvironmentList"`
	JWKs                       []string                    `json:"jwks,omitempty"`
}

type certificateEnvironmentOut struct {
	EnvironmentName    string          `json:"environmentName"`
	Alias              string          `json:"alias"`
	Source             string          `json:"source"`
	SourceURL          string          `json:"sourceUrl,omitempty"`
	SubjectDN          string          `json:"subjectDn"`
	IssuerDN           string          `json:"issuerDn"`
	SerialNumber       string          `json:"serialNumber"`
	StartDate          time.Time       `json:"startDate"`
	EndDate            time.Time       `json:"endDate"`
	DaysLeft           int             `json:"daysLeft"`
	SHA1Thumbprint     string          `json:"sha1Thumbprint"`
	SHA256Thumbprint   string          `json:"sha256Thumbprint"`
	Deployed           bool            `json:"deployed"`
	DeployedRevision   int64           `json:"deployedRevision,omitempty"`
	ChangedSinceDeploy bool            `json:"changedSinceDeploy"`
	Details            *certs.Details  `json:"details,omitempty"`
	Chain              []certs.Details `json:"chain,omitempty"`
	Analysis           *certs.Analysis `json:"analysis,omitempty"`
}

func toCertificateDTO(c secrets.CertificateSummary) certificateDTO {
	d := certificateDTO{Name: c.Name, Description: c.Description, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		CertificateEnvironmentList: []certificateEnvironmentOut{}}
	for _, e := range c.Environments {
		d.CertificateEnvironmentList = append(d.CertificateEnvironmentList, certificateEnvironmentOut{EnvironmentName: e.Environment,
			Alias: e.Alias, Source: e.Source, SourceURL: e.SourceURL, SubjectDN: e.Subject, IssuerDN: e.Issuer, SerialNumber: e.Serial,
			StartDate: e.NotBefore, EndDate: e.NotAfter, DaysLeft: e.DaysLeft, SHA1Thumbprint: e.SHA1, SHA256Thumbprint: e.SHA256,
			Deployed: e.DeployedRevision > 0, DeployedRevision: e.DeployedRevision, ChangedSinceDeploy: e.Changed,
			Details: e.Details, Chain: e.Chain, Analysis: e.Analysis})
	}
	return d
}

// certificateResponse answers GET .../certificates/{name}/.
type certificateResponse struct {
	apiOK
	Certificate certificateDTO `json:"certificate"`
}

func (s *Server) handleAPICertificateCreate(c echo.Context, dto certificateCreateDTO) (createdResponse, error) {
	in, err := certificateInput(dto.Name, dto.Description, dto.CertificateEnvironmentList.Items, false, dto.fromForm)
	if err != nil {
		return createdResponse{}, err
	}
	res, err := s.Secrets.CreateCertificate(c.Request().Context(), principal(c), c.Param("projectName"), in, true)
	if err != nil {
		return createdResponse{}, err
	}
	return createdResponse{Name: in.Name, DeploymentResult: res}, nil
}

// parseWithin reads an expiresWithin value: 30d, 12h or 90m.
func parseWithin(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute}[v[len(v)-1]]
	var n int
	if _, err := fmt.Sscanf(v[:len(v)-1], "%d", &n); err != nil || unit == 0 || n <= 0 || n > 100000 || fmt.Sprint(n) != v[:len(v)-1] {
		return 0, errs.FieldErrorf("expiresWithin", "expiresWithin %q must be a number of days, hours or minutes, such as 30d.", v)
	}
	return time.Duration(n) * unit, nil
}

func (s *Server) handleAPICertificateList(c echo.Context) (pagedListResponse[certificateDTO], error) {
	var zero pagedListResponse[certificateDTO]
	page, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return zero, err
	}
	size, err := queryInt(c, "size", 50, 200)
	if err != nil {
		return zero, err
	}
	within, err := parseWithin(c.QueryParam("expiresWithin"))
	if err != nil {
		return zero, err
	}
	expired := false
	switch c.QueryParam("expired") {
	case "", "false":
	case "true":
		expired = true
	default:
		return zero, errs.FieldErrorf("expired", "expired must be true or false.")
	}
	list, err := s.Secrets.ListCertificates(c.Request().Context(), principal(c), c.Param("projectName"), secrets.CertificateFilter{
		Search: c.QueryParam("search"), Environment: c.QueryParam("environment"), ExpiresWithin: within, Expired: expired, Page: page, Size: size})
	if err != nil {
		return zero, err
	}
	out := make([]certificateDTO, len(list.Certificates))
	for i, k := range list.Certificates {
		out[i] = toCertificateDTO(k)
	}
	return pageOf(out, list.Total, list.Page, list.Size), nil
}

func (s *Server) handleAPICertificateGet(c echo.Context) (certificateResponse, error) {
	d, err := s.Secrets.GetCertificate(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("certificateName"))
	if err != nil {
		return certificateResponse{}, err
	}
	dto := toCertificateDTO(d.CertificateSummary)
	for _, j := range d.JWKs {
		dto.JWKs = append(dto.JWKs, j.Name)
	}
	return certificateResponse{Certificate: dto}, nil
}

func (s *Server) handleAPICertificateUpdate(c echo.Context, dto certificateUpdateDTO) (createdResponse, error) {
	name := c.Param("certificateName")
	if dto.Name != "" && dto.Name != name {
		return createdResponse{}, errs.FieldErrorf("name", "A certificate cannot be renamed (the path names %q, the body %q).", name, dto.Name)
	}
	configs := make([]certificateEnvironmentDTO, len(dto.CertificateEnvironmentList.Items))
	for i, e := range dto.CertificateEnvironmentList.Items {
		configs[i] = certificateEnvironmentDTO(e)
	}
	in, err := certificateInput(name, dto.Description, configs, true, false)
	if err != nil {
		return createdResponse{}, err
	}
	res, err := s.Secrets.UpdateCertificate(c.Request().Context(), principal(c), c.Param("projectName"), name, in, true, c.QueryParam("jwkUpdateAction"))
	if err != nil {
		return createdResponse{}, err
	}
	return createdResponse{Name: name, DeploymentResult: res}, nil
}

func (s *Server) handleAPICertificateDelete(c echo.Context) (deployedResponse, error) {
	res, err := s.Secrets.DeleteCertificate(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("certificateName"), c.QueryParam("jwkDeleteAction"))
	return deployedResponse{DeploymentResult: res}, err
}

func (s *Server) handleAPICertificateDeploy(c echo.Context) (deployedResponse, error) {
	undeploy := c.Request().Method == http.MethodDelete
	res, err := s.Secrets.DeployCertificate(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("certificateName"), c.Param("environmentName"), undeploy)
	return deployedResponse{DeploymentResult: res}, err
}

func (s *Server) handleAPICertificateExport(c echo.Context) (certificateFile, error) {
	ex, err := s.Secrets.ExportCertificate(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("certificateName"),
		c.QueryParam("environment"), c.QueryParam("format"))
	if err != nil {
		return certificateFile{}, err
	}
	return certificateFile{fileResponse{FileName: ex.FileName, ContentType: ex.ContentType, Body: ex.Body}}, nil
}

// certificateFetchDTO is the body of POST /apiops/certificates/fetch.
type certificateFetchDTO struct {
	URL             string `json:"url" doc:"https://host[:port], ldaps://host[:port] or ldap://host[:port] (StartTLS)."`
	EnvironmentName string `json:"environmentName" doc:"Optional: analyse the chain against this environment's truststore."`
}

// certificateFetchResponse is the chain a server presented.
type certificateFetchResponse struct {
	apiOK
	URL      string          `json:"url"`
	Host     string          `json:"host"`
	Chain    []certs.Details `json:"chain"`
	Analysis certs.Analysis  `json:"analysis"`
	PEM      string          `json:"pem" doc:"The chain as PEM, leaf first: send it base64-encoded as a configuration's content."`
}

func (s *Server) handleAPICertificateFetch(c echo.Context, dto certificateFetchDTO) (certificateFetchResponse, error) {
	f, err := s.Secrets.FetchCertificates(c.Request().Context(), principal(c), "", dto.EnvironmentName, "url", dto.URL)
	if err != nil {
		return certificateFetchResponse{}, err
	}
	return certificateFetchResponse{URL: f.URL, Host: f.Host, Chain: nonNil(f.Chain), Analysis: f.Analysis, PEM: f.PEM}, nil
}
