package handlers

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/signing"
	"github.com/labstack/echo/v4"
)

var signingKeysAPI = apiResource{
	Tag: openAPITag{Name: "Signing Keys", Description: "JWT signing keys kept in the HSM (PKCS#11) or the built-in software token " +
		"(seed 004): generated inside the token or imported from PEM, never extractable; published in environments' JWKS; " +
		"used to sign JWTs with SIGNING_KEYS:SIGN; deleted with the token's user PIN."},
	Schemas: []apiComponent{
		{Name: "SigningKeyCreate", Type: signingKeyCreateDTO{}, Required: []string{"label", "algorithm"}, Docs: map[string]*schema{
			"algorithm":      {Enum: []any{"RSA", "ECDSA"}},
			"keyLength":      {Description: "RSA only: 2048 or 4096."},
			"curve":          {Description: "ECDSA only: P-256 (prime256v1)."},
			"generationType": {Enum: []any{signing.GenerateAuto, signing.GenerateImport}, Description: "AUTO (default): generated inside the token, never extractable. IMPORT: privateKeyPem is stored in the token."},
			"privateKeyPem":  {Description: "IMPORT only: a PKCS#1, PKCS#8 or SEC1 private key in PEM (not encrypted)."}}},
		{Name: "SigningKey", Type: signingKeyDTO{}, Docs: map[string]*schema{
			"ckaId":          {Pattern: "^[0-9a-f]+$", Description: "The key's CKA_ID, hex: what tells apart keys sharing a label."},
			"algorithm":      {Enum: []any{"RSA", "ECDSA"}},
			"generationType": {Enum: []any{signing.GenerateAuto, signing.GenerateImport}},
			"jwk":            ref("PublicJWK")}},
		{Name: "SigningKeyDelete", Type: signingKeyDeleteDTO{}, Required: []string{"pin"}},
		{Name: "SignRequest", Type: signRequestDTO{}, Required: []string{"claims"}, Docs: map[string]*schema{
			"claims": {Type: "object", Description: "The JWT claims, a JSON object."},
			"header": {Type: "object", Description: "Optional extra protected header members (not alg or kid)."},
			"alg":    {Description: "RS256 (default for RSA), RS384, RS512, PS256, PS384, PS512; ES256 for ECDSA."}}},
		{Name: "TokenBackend", Type: backendDTO{}},
		{Name: "SoftTokenPIN", Type: softPINDTO{}, Required: []string{"pin"}},
		{Name: "SignerCreate", Type: signerCreateDTO{}, Required: []string{"name", "activeKey", "environments"}},
		{Name: "SignerRotate", Type: signerRotateDTO{}, Required: []string{"nextKey"}},
		{Name: "Signer", Type: signerDTO{}},
		{Name: "SignerStep", Type: signerStepDTO{}, Docs: map[string]*schema{"kind": {Enum: []any{signing.StepPublish, signing.StepActivate, signing.StepRetire}}}},
	},
	Routes: signingKeyRoutes(),
}

func signingKeyRoutes() []apiRoute {
	bad, missing := http.StatusBadRequest, http.StatusNotFound
	project := []*openAPIParameter{projectNameParam}
	key := []*openAPIParameter{projectNameParam, pathParam("ckaId", "The key's CKA_ID (hex).", &schema{Type: "string"})}
	keyEnv := append(key[:2:2], environmentNameParam)
	signer := []*openAPIParameter{projectNameParam, pathParam("signerName", "The signer alias's name.", &schema{Type: "string", Pattern: namePattern})}
	const deploy = "SIGNING_KEYS:MANAGE and SIGNING_KEYS:DEPLOY_UNDEPLOY"
	return []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/hsm/", Handler: handle((*Server).handleAPIBackend), Permission: "any user", ID: "getBackend",
			Summary: "The key manager signing keys live in (the HSM or the built-in software token)"},
		{Method: http.MethodPut, Path: "/apiops/hsm/pin/", Handler: handleBody((*Server).handleAPISetSoftPIN), Permission: "admins", ID: "setSoftTokenPIN",
			Summary:     "Set the built-in software token's user PIN (once)",
			Description: "Deleting a signing key asks for this PIN. A PKCS#11 HSM has its own PIN, set with its tools: this answers bad_request there.",
			Errors:      []int{bad}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/signingKeys/", Handler: handle((*Server).handleAPISigningKeyList),
			Permission: "SIGNING_KEYS:VIEW", ID: "listSigningKeys", Summary: "List a project's signing keys",
			Params: append(append(project[:1:1], queryParam("search", "Only keys whose label or CKA_ID contains this.", &schema{Type: "string"})), pageParams(50, 200)...),
			Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/signingKeys/", Handler: handleBody((*Server).handleAPISigningKeyCreate),
			Permission: "SIGNING_KEYS:MANAGE", ID: "createSigningKey", Summary: "Create a signing key (generate in the token, or import a PEM private key)",
			Params: project, Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/signingKeys/{ckaId}/", Handler: handle((*Server).handleAPISigningKeyGet),
			Permission: "SIGNING_KEYS:VIEW", ID: "getSigningKey", Summary: "Get a signing key: its public key as PEM and JWK",
			Params: key, Errors: []int{missing}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/signingKeys/{ckaId}/", Handler: handleBody((*Server).handleAPISigningKeyDelete),
			Permission: deploy, ID: "deleteSigningKey", Summary: "Delete a signing key with the token's user PIN",
			Description: "A wrong PIN deletes nothing; after 5 wrong PINs (per user and per token) deleting is locked for 15 minutes. " +
				"The key is unpublished from every JWKS. Every attempt is audited.",
			Params: key, Errors: []int{bad, missing, http.StatusTooManyRequests}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/signingKeys/{ckaId}/environments/{environmentName}/",
			Handler: handle((*Server).handleAPISigningKeyPublish), Permission: deploy, ID: "publishSigningKey",
			Summary: "Publish a signing key's public JWK in an environment's JWKS (a deploy)", Params: keyEnv, Errors: []int{bad, missing}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/signingKeys/{ckaId}/environments/{environmentName}/",
			Handler: handle((*Server).handleAPISigningKeyPublish), Permission: deploy, ID: "unpublishSigningKey",
			Summary: "Take a signing key's JWK out of an environment's JWKS (a deploy)", Params: keyEnv, Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/signingKeys/signers/", Handler: handleBody((*Server).handleAPISignerCreate),
			Permission: deploy, ID: "createSigner", Summary: "Create a signer alias that signs with its active key",
			Description: "The active key is published in the alias's environments at once (deploys).", Params: project, Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/signingKeys/signers/", Handler: handle((*Server).handleAPISignerList),
			Permission: "SIGNING_KEYS:VIEW", ID: "listSigners", Summary: "List a project's signer aliases", Params: project, Errors: []int{missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/signingKeys/signers/{signerName}/", Handler: handle((*Server).handleAPISignerGet),
			Permission: "SIGNING_KEYS:VIEW", ID: "getSigner", Summary: "Get a signer alias with its timeline (published, activated, retired: scheduled and done)",
			Params: signer, Errors: []int{missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/signingKeys/signers/{signerName}/rotate", Handler: handleBody((*Server).handleAPISignerRotate),
			Permission: deploy, ID: "rotateSigner", Summary: "Schedule a staged rotation of a signer alias to its next key",
			Description: "The next key is published leadTime before activateAt, the alias signs with it from activateAt, and the old key is unpublished " +
				"retention after that. Steps run on schedule, and at start for those a stopped server missed.",
			Params: signer, Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/signingKeys/signers/{signerName}/sign", Handler: handleBody((*Server).handleAPISignerSign),
			Permission: "SIGNING_KEYS:SIGN", ID: "signWithSigner", Summary: "Sign a JWT with a signer alias's active key", Params: signer, Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/signingKeys/{ckaId}/sign", Handler: handleBody((*Server).handleAPISign),
			Permission: "SIGNING_KEYS:SIGN", ID: "signJWT", Summary: "Sign a JWT with a signing key",
			Description: "Answers a compact JWS whose header names the key's kid; iat and exp are added when expiresIn is given. Audited.",
			Params:      key, Errors: []int{bad, missing}},
	}
}

// backendDTO is the key manager's description.
type backendDTO struct {
	Backend      string   `json:"backend"`
	Label        string   `json:"label"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
	Serial       string   `json:"serial"`
	PINFlags     []string `json:"pinFlags"`
}

type backendResponse struct {
	apiOK
	Backend backendDTO `json:"backend"`
}

func toBackend(t hsm.TokenInfo) backendDTO {
	return backendDTO{Backend: t.Backend, Label: t.Label, Manufacturer: t.Manufacturer, Model: t.Model, Serial: t.Serial, PINFlags: nonNil(t.PINFlags)}
}

func (s *Server) handleAPIBackend(c echo.Context) (backendResponse, error) {
	if !principal(c).Authenticated() {
		return backendResponse{}, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	t, err := s.Signing.Backend(c.Request().Context())
	return backendResponse{Backend: toBackend(t)}, err
}

type softPINDTO struct {
	PIN string `json:"pin" doc:"4 to 128 characters."`
}

func (s *Server) handleAPISetSoftPIN(c echo.Context, dto softPINDTO) (apiOK, error) {
	return apiOK{}, s.Signing.SetSoftPIN(c.Request().Context(), principal(c), dto.PIN)
}

type signingKeyCreateDTO struct {
	Label          string `json:"label"`
	Algorithm      string `json:"algorithm"`
	KeyLength      int    `json:"keyLength"`
	Curve          string `json:"curve"`
	GenerationType string `json:"generationType"`
	PrivateKeyPEM  string `json:"privateKeyPem"`
}

// signingKeyDTO is a signing key in API answers; never any private part.
type signingKeyDTO struct {
	Label          string          `json:"label"`
	CKAID          string          `json:"ckaId"`
	Algorithm      string          `json:"algorithm"`
	KeyLength      int64           `json:"keyLength,omitempty"`
	Curve          string          `json:"curve,omitempty"`
	GenerationType string          `json:"generationType"`
	Backend        string          `json:"backend"`
	CreatedAt      time.Time       `json:"createdAt"`
	CreatedBy      string          `json:"createdBy"`
	Kid            string          `json:"kid"`
	PublicKeyPEM   string          `json:"publicKeyPem"`
	JWK            json.RawMessage `json:"jwk"`
	PublishedIn    []string        `json:"publishedIn"`
}

func toSigningKeyDTO(k signing.Key) signingKeyDTO {
	d := signingKeyDTO{Label: k.Label, CKAID: k.CkaID, Algorithm: "RSA", Curve: k.Curve, GenerationType: signing.GenerateAuto,
		Backend: k.Backend, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy, Kid: k.Kid, PublicKeyPEM: k.PublicKeyPEM, JWK: k.JWK,
		PublishedIn: nonNil(k.Published)}
	if k.SigningKey.Algorithm == string(hsm.EC) {
		d.Algorithm = "ECDSA"
	} else {
		d.KeyLength = k.Bits
	}
	if k.Origin == string(hsm.Imported) {
		d.GenerationType = signing.GenerateImport
	}
	return d
}

type signingKeyResponse struct {
	apiOK
	SigningKey signingKeyDTO `json:"signingKey"`
}

// signingKeyListResponse is a page of signing keys and the backend.
type signingKeyListResponse struct {
	pagedListResponse[signingKeyDTO]
	Backend string `json:"backend"`
}

func (s *Server) handleAPISigningKeyList(c echo.Context) (signingKeyListResponse, error) {
	page, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return signingKeyListResponse{}, err
	}
	size, err := queryInt(c, "size", 50, 200)
	if err != nil {
		return signingKeyListResponse{}, err
	}
	list, err := s.Signing.ListKeys(c.Request().Context(), principal(c), c.Param("projectName"), c.QueryParam("search"), page, size)
	if err != nil {
		return signingKeyListResponse{}, err
	}
	out := make([]signingKeyDTO, len(list.Keys))
	for i, k := range list.Keys {
		out[i] = toSigningKeyDTO(k)
	}
	b, err := s.Signing.Backend(c.Request().Context())
	return signingKeyListResponse{pagedListResponse: pageOf(out, list.Total, list.Page, list.Size), Backend: b.Backend}, err
}

func (s *Server) handleAPISigningKeyCreate(c echo.Context, dto signingKeyCreateDTO) (signingKeyResponse, error) {
	k, err := s.Signing.CreateKey(c.Request().Context(), principal(c), c.Param("projectName"), signing.CreateInput{Label: dto.Label,
		Algorithm: dto.Algorithm, KeyLength: dto.KeyLength, Curve: dto.Curve, GenerationType: dto.GenerationType, PrivateKeyPEM: dto.PrivateKeyPEM})
	return signingKeyResponse{SigningKey: toSigningKeyDTO(k)}, err
}

func (s *Server) handleAPISigningKeyGet(c echo.Context) (signingKeyResponse, error) {
	k, err := s.Signing.GetKey(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("ckaId"))
	return signingKeyResponse{SigningKey: toSigningKeyDTO(k)}, err
}

type signingKeyDeleteDTO struct {
	PIN string `json:"pin" doc:"The token's user PIN."`
}

func (s *Server) handleAPISigningKeyDelete(c echo.Context, dto signingKeyDeleteDTO) (deployedResponse, error) {
	res, err := s.Signing.DeleteKey(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("ckaId"), dto.PIN)
	return deployedResponse{DeploymentResult: (*secrets.DeploymentResult)(res)}, err
}

func (s *Server) handleAPISigningKeyPublish(c echo.Context) (deployedResponse, error) {
	res, err := s.Signing.Publish(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("ckaId"), c.Param("environmentName"),
		c.Request().Method == http.MethodDelete)
	return deployedResponse{DeploymentResult: (*secrets.DeploymentResult)(res)}, err
}

type signRequestDTO struct {
	Claims    json.RawMessage `json:"claims"`
	Header    json.RawMessage `json:"header"`
	Alg       string          `json:"alg"`
	ExpiresIn string          `json:"expiresIn" doc:"Optional lifetime such as 10m: adds iat and exp."`
}

type signResponse struct {
	apiOK
	Token string `json:"token" doc:"The compact JWS."`
	Kid   string `json:"kid"`
	Alg   string `json:"alg"`
}

func (s *Server) handleAPISign(c echo.Context, dto signRequestDTO) (signResponse, error) {
	var header map[string]any
	if len(dto.Header) > 0 && string(dto.Header) != "null" {
		if err := json.Unmarshal(dto.Header, &header); err != nil {
			return signResponse{}, errs.FieldErrorf("header", "header must be a JSON object of extra protected header members.")
		}
	}
	out, err := s.Signing.Sign(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("ckaId"),
		signing.SignInput{Claims: dto.Claims, Header: header, Alg: dto.Alg, ExpiresIn: dto.ExpiresIn})
	return signResponse{Token: out.Token, Kid: out.Kid, Alg: out.Alg}, err
}
