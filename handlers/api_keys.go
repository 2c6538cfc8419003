package handlers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/labstack/echo/v4"
)

var keysAPI = apiResource{
	Tag: openAPITag{Name: "Keys", Description: "Secret, private and public keys, configured per environment and deployed " +
		"to it (seeds 000 and 002). Material is sent base64-encoded and never answered back."},
	Schemas: keySchemas(),
	Routes:  keyRoutes(),
}

const deployPermission = "SECRETS:MANAGE and SECRETS:DEPLOY_UNDEPLOY"

func keyRoutes() []apiRoute {
	bad, missing := http.StatusBadRequest, http.StatusNotFound
	key := []*openAPIParameter{projectNameParam, pathParam("keyName", "The key's name.", &schema{Type: "string", Pattern: namePattern})}
	keyEnv := append(key[:2:2], environmentNameParam)
	return []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/keys/", Handler: handle((*Server).handleAPIKeyList),
			Permission: "SECRETS:VIEW", ID: "listKeys", Summary: "List a project's keys", Description: "Metadata only: never any material.",
			Params: append([]*openAPIParameter{projectNameParam,
				queryParam("search", "Only keys whose name or description contains this (case-insensitive).", &schema{Type: "string"}),
				queryParam("keyType", "Only keys of this type.", &schema{Type: "string", Enum: keyTypeEnum}),
				queryParam("algorithm", "Only keys of this algorithm.", &schema{Type: "string", Enum: algorithmEnum}),
				queryParam("environment", "Only keys configured in this environment.", &schema{Type: "string"}),
			}, pageParams(50, 200)...),
			Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/keys/", Handler: handleBody((*Server).handleAPIKeyCreate),
			Permission: deployPermission, ID: "createKey", Summary: "Create a key and deploy it",
			Description: "Validates the material against the type and algorithm, seals it, and deploys each configuration to its " +
				"environment. Bad input is refused as a whole with bad_request naming the field " +
				"(cryptoKeyInfoEnvironmentList[1].content); nothing is written.",
			Params: key[:1], Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/keys/{keyName}/", Handler: handle((*Server).handleAPIKeyGet),
			Permission: "SECRETS:VIEW", ID: "getKey", Summary: "Get a key",
			Description: "Metadata, configurations, deployment state and related JWKs; never material.",
			Params:      key, Errors: []int{missing}},
		{Method: http.MethodPut, Path: "/apiops/projects/{projectName}/keys/{keyName}/", Handler: handleBody((*Server).handleAPIKeyUpdate),
			Permission: deployPermission, ID: "updateKey", Summary: "Update a key and deploy it",
			Params: append(key[:2:2], queryParam("jwkUpdateAction", "What happens to the JWKs made from the key: UPDATE rebuilds them from "+
				"the new material and redeploys them where they were deployed; NULLIFY disconnects them, keeping their material.",
				&schema{Type: "string", Enum: []any{secrets.JWKUpdate, secrets.JWKNullify}, Default: secrets.JWKNullify})),
			Errors: []int{bad, missing}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/keys/{keyName}/", Handler: handle((*Server).handleAPIKeyDelete),
			Permission: deployPermission, ID: "deleteKey", Summary: "Delete a key", Description: "Undeploys it from every environment first.",
			Params: append(key[:2:2], queryParam("jwkDeleteAction", "What happens to the JWKs made from the key: DELETE deletes and "+
				"undeploys them; NULLIFY keeps them (still deployed) and disconnects them.",
				&schema{Type: "string", Enum: []any{secrets.JWKDelete, secrets.JWKNullify}, Default: secrets.JWKNullify})),
			Errors: []int{bad, missing}},
		{Method: http.MethodPost, Path: "/apiops/projects/{projectName}/keys/{keyName}/environments/{environmentName}/",
			Handler: handle((*Server).handleAPIKeyDeploy), Permission: deployPermission, ID: "deployKey",
			Summary: "Deploy a key's configuration to one environment", Params: keyEnv, Errors: []int{bad, missing}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/keys/{keyName}/environments/{environmentName}/",
			Handler: handle((*Server).handleAPIKeyDeploy), Permission: deployPermission, ID: "undeployKey",
			Summary: "Undeploy a key from one environment", Description: "The configuration stays; bad_request when the key is not deployed there.",
			Params: keyEnv, Errors: []int{bad, missing}},
	}
}

func keySchemas() []apiComponent {
	keyType := &schema{Enum: keyTypeEnum, Description: "SECRET_KEY (AES, DES, DESede), PRIVATE_KEY or PUBLIC_KEY (RSA, EC)."}
	algorithm := &schema{Enum: algorithmEnum, Description: "Optional: inferred from the material when absent; a 24-byte secret is AES " +
		"unless DESede is given. Never changes after creation."}
	content := fmt.Sprintf("The key material, base64-encoded (line breaks allowed): the raw bytes of a secret key (AES 16, 24 "+
		"or 32 bytes, DES 8, DESede 16 or 24); an RSA or EC key as PKCS#1, PKCS#8, SEC1 or PKIX, PEM or DER; or a certificate "+
		"for a public key. At most %d bytes once decoded.", keymaterial.MaxContent)
	env := &schema{Pattern: namePattern, Description: "The environment (by name) the configuration is for."}
	return []apiComponent{
		{Name: "KeyCreateDTO", Type: keyCreateDTO{}, Required: []string{"name", "keyType"},
			Docs: map[string]*schema{"name": nameDoc("The key"), "description": {MaxLength: names.MaxDescription}, "keyType": keyType,
				"algorithm": algorithm, "cryptoKeyInfoEnvironmentList": {Description: "One configuration per environment, " +
					"each environment at most once. The key is deployed to every one of them."}}},
		{Name: "KeyUpdate", Type: keyUpdateDTO{}, Docs: map[string]*schema{
			"name":        {Description: "Optional; when given, it must be the key's name (keys are never renamed)."},
			"description": {MaxLength: names.MaxDescription}, "keyType": {Enum: keyTypeEnum, Description: "Optional; it cannot change."},
			"algorithm": {Enum: algorithmEnum, Description: "Optional; it cannot change."},
			"cryptoKeyInfoEnvironmentList": {Description: "The key's configurations after the update: an entry without content " +
				"keeps that environment's material; an environment left out loses its configuration and is undeployed. Every " +
				"listed configuration is deployed."}}},
		{Name: "KeyEnvironmentConfig", Type: keyEnvironmentDTO{}, Required: []string{"environmentName", "content"},
			Docs: map[string]*schema{"environmentName": env, "content": {Format: "byte", Description: content}, "alias": {MaxLength: 200}}},
		{Name: "KeyEnvironmentUpdate", Type: keyEnvironmentUpdateDTO{}, Required: []string{"environmentName"},
			Docs: map[string]*schema{"environmentName": env, "alias": {MaxLength: 200},
				"content": {Format: "byte", Description: content + " Left out, the environment keeps its material."}}},
		{Name: "Key", Type: keyDTO{}, Docs: map[string]*schema{
			"keyType": {Enum: keyTypeEnum}, "algorithm": {Enum: algorithmEnum},
			"jwks": {Description: "The JWKs made from this key (when one key is read)."}}},
		{Name: "KeyEnvironmentState", Type: keyEnvironmentOut{}, Docs: map[string]*schema{
			"source":             {Enum: []any{secrets.SourceAPI, secrets.SourceFile, secrets.SourceClipboard}, Description: "Where the material came from."},
			"format":             {Example: "PKCS#8 PEM"},
			"fingerprint":        {Description: "Hex. For RSA and EC the SHA-256 of the public key (PKIX DER), so a key pair shares it; for a secret key an HMAC-SHA256 under a key derived from this instance's master key, the same in every environment, so that it cannot be used to test guesses.", Pattern: "^[0-9a-f]{64}$"},
			"warning":            {Description: "A weakness worth knowing (DES, RSA below 2048 bits)."},
			"deployedRevision":   {Description: "The environment's revision when this configuration was last deployed."},
			"changedSinceDeploy": {Description: "Deployed, but the configuration changed since."}}},
	}
}

// keyEnvironmentDTO is one entry of KeyCreateDTO.cryptoKeyInfoEnvironmentList.
type keyEnvironmentDTO struct {
	EnvironmentName string  `json:"environmentName"`
	Content         *string `json:"content"`
	Alias           string  `json:"alias"`
}

// keyEnvironmentUpdateDTO is one entry of KeyUpdate's list, where a missing
// content keeps the environment's material.
type keyEnvironmentUpdateDTO keyEnvironmentDTO

// keyCreateDTO is the body of POST .../keys/, as seed 002 gives it, plus the
// optional algorithm.
type keyCreateDTO struct {
	Name                         string                          `json:"name"`
	Description                  string                          `json:"description"`
	KeyType                      string                          `json:"keyType"`
	Algorithm                    string                          `json:"algorithm"`
	CryptoKeyInfoEnvironmentList requiredList[keyEnvironmentDTO] `json:"cryptoKeyInfoEnvironmentList"`
}

// keyUpdateDTO is the body of PUT .../keys/{keyName}/.
type keyUpdateDTO struct {
	Name                         string                                `json:"name"`
	Description                  string                                `json:"description"`
	KeyType                      string                                `json:"keyType"`
	Algorithm                    string                                `json:"algorithm"`
	CryptoKeyInfoEnvironmentList requiredList[keyEnvironmentUpdateDTO] `json:"cryptoKeyInfoEnvironmentList"`
}

const keyListField = "cryptoKeyInfoEnvironmentList"

// keyInput decodes the configurations' base64 contents; on update a
// missing content keeps the environment's material.
func keyInput(name, description, keyType, algorithm string, configs []keyEnvironmentDTO, update bool) (secrets.KeyInput, error) {
	in := secrets.KeyInput{Name: name, Description: description, Type: keyType, Algorithm: algorithm, ListField: keyListField}
	for i, e := range configs {
		field := fmt.Sprintf("%s[%d]", keyListField, i)
		c := secrets.ConfigInput{Field: field, Environment: e.EnvironmentName, Alias: e.Alias, Source: secrets.SourceAPI}
		var err error
		if c.Content, err = entryContent(field+".content", "the key material", e.Content, update, false); err != nil {
			return in, err
		}
		in.Configs = append(in.Configs, c)
	}
	return in, nil
}

// entryContent decodes one list entry's base64 content (as is when raw:
// a multipart upload's file). On update a missing content is nil: keep
// the environment's material.
func entryContent(field, what string, content *string, update, raw bool) ([]byte, error) {
	switch {
	case content == nil && update:
		return nil, nil
	case content == nil || *content == "":
		return nil, errs.FieldErrorf(field, "The content is required (%s, base64-encoded).", what)
	case raw:
		return []byte(*content), nil
	}
	b, err := keymaterial.DecodeBase64(*content)
	if err != nil {
		return nil, errs.FieldErrorf(field, "The content is not valid base64.")
	}
	return b, nil
}

// keyDTO is a key in API answers: metadata only, never material.
type keyDTO struct {
	Name         string              `json:"name"`
	Description  string              `json:"description"`
	KeyType      string              `json:"keyType"`
	Algorithm    string              `json:"algorithm"`
	CreatedAt    time.Time           `json:"createdAt"`
	UpdatedAt    time.Time           `json:"updatedAt"`
	Environments []keyEnvironmentOut `json:"environments"`
	JWKs         []string            `json:"jwks,omitempty"`
}

type keyEnvironmentOut struct {
	EnvironmentName    string `json:"environmentName"`
	Alias              string `json:"alias"`
	Source             string `json:"source"`
	Format             string `json:"format"`
	Bits               int64  `json:"bits"`
	Curve              string `json:"curve,omitempty"`
	Fingerprint        string `json:"fingerprint"`
	Warning            string `json:"warning,omitempty"`
	Deployed           bool   `json:"deployed"`
	DeployedRevision   int64  `json:"deployedRevision,omitempty"`
	ChangedSinceDeploy bool   `json:"changedSinceDeploy"`
}

func toKeyDTO(k secrets.KeySummary) keyDTO {
	d := keyDTO{Name: k.Name, Description: k.Description, KeyType: k.KeyType, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt,
		UpdatedAt: k.UpdatedAt, Environments: []keyEnvironmentOut{}}
	for _, e := range k.Environments {
		d.Environments = append(d.Environments, keyEnvironmentOut{EnvironmentName: e.Environment, Alias: e.Alias, Source: e.Source,
			Format: e.Format, Bits: e.Bits, Curve: e.Curve, Fingerprint: e.Fingerprint, Warning: e.Warning,
			Deployed: e.DeployedRevision > 0, DeployedRevision: e.DeployedRevision, ChangedSinceDeploy: e.Changed})
	}
	return d
}

// keyResponse answers GET .../keys/{keyName}/.
type keyResponse struct {
	apiOK
	Key keyDTO `json:"key"`
}

func (s *Server) handleAPIKeyCreate(c echo.Context, dto keyCreateDTO) (createdResponse, error) {
	in, err := keyInput(dto.Name, dto.Description, dto.KeyType, dto.Algorithm, dto.CryptoKeyInfoEnvironmentList.Items, false)
	if err != nil {
		return createdResponse{}, err
	}
	res, err := s.Secrets.CreateKey(c.Request().Context(), principal(c), c.Param("projectName"), in, true)
	if err != nil {
		return createdResponse{}, err
	}
	return createdResponse{Name: in.Name, DeploymentResult: res}, nil
}

func (s *Server) handleAPIKeyList(c echo.Context) (pagedListResponse[keyDTO], error) {
	page, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return pagedListResponse[keyDTO]{}, err
	}
	size, err := queryInt(c, "size", 50, 200)
	if err != nil {
		return pagedListResponse[keyDTO]{}, err
	}
	f := secrets.KeyFilter{Search: c.QueryParam("search"), Type: c.QueryParam("keyType"), Algorithm: c.QueryParam("algorithm"),
		Environment: c.QueryParam("environment"), Page: page, Size: size}
	list, err := s.Secrets.ListKeys(c.Request().Context(), principal(c), c.Param("projectName"), f)
	if err != nil {
		return pagedListResponse[keyDTO]{}, err
	}
	out := make([]keyDTO, len(list.Keys))
	for i, k := range list.Keys {
		out[i] = toKeyDTO(k)
	}
	return pageOf(out, list.Total, list.Page, list.Size), nil
}

func (s *Server) handleAPIKeyGet(c echo.Context) (keyResponse, error) {
	d, err := s.Secrets.GetKey(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keyName"))
	if err != nil {
		return keyResponse{}, err
	}
	dto := toKeyDTO(d.KeySummary)
	for _, j := range d.JWKs {
		dto.JWKs = append(dto.JWKs, j.Name)
	}
	return keyResponse{Key: dto}, nil
}

func (s *Server) handleAPIKeyUpdate(c echo.Context, dto keyUpdateDTO) (createdResponse, error) {
	name := c.Param("keyName")
	if dto.Name != "" && dto.Name != name {
		return createdResponse{}, errs.FieldErrorf("name", "A key cannot be renamed (the path names %q, the body %q).", name, dto.Name)
	}
	configs := make([]keyEnvironmentDTO, len(dto.CryptoKeyInfoEnvironmentList.Items))
	for i, e := range dto.CryptoKeyInfoEnvironmentList.Items {
		configs[i] = keyEnvironmentDTO(e)
	}
	in, err := keyInput(dto.Name, dto.Description, dto.KeyType, dto.Algorithm, configs, true)
	if err != nil {
		return createdResponse{}, err
	}
	res, err := s.Secrets.UpdateKey(c.Request().Context(), principal(c), c.Param("projectName"), name, in, true, c.QueryParam("jwkUpdateAction"))
	if err != nil {
		return createdResponse{}, err
	}
	return createdResponse{Name: name, DeploymentResult: res}, nil
}

func (s *Server) handleAPIKeyDelete(c echo.Context) (deployedResponse, error) {
	res, err := s.Secrets.DeleteKey(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keyName"), c.QueryParam("jwkDeleteAction"))
	return deployedResponse{DeploymentResult: res}, err
}

func (s *Server) handleAPIKeyDeploy(c echo.Context) (deployedResponse, error) {
	undeploy := c.Request().Method == http.MethodDelete
	res, err := s.Secrets.DeployKey(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keyName"), c.Param("environmentName"), undeploy)
	return deployedResponse{DeploymentResult: res}, err
}
