package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
)

// apiDocument is the served OpenAPI document, loaded once per test binary
// from the first Env that needs it (every Env serves the same document).
type apiDocument struct {
	doc    *openapi3.T
	router routers.Router
	err    error
}

var (
	apiDocOnce sync.Once
	apiDoc     apiDocument
)

// loadAPIDocument fetches /apiops/openapi.json from e (through the handler,
// not the network), checks that it is a valid OpenAPI document, and builds a
// router over it.
func loadAPIDocument(e *echo.Echo) apiDocument {
	apiDocOnce.Do(func() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/apiops/openapi.json", nil))
		if rec.Code != http.StatusOK {
			apiDoc.err = fmt.Errorf("GET /apiops/openapi.json: status %d", rec.Code)
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(rec.Body.Bytes())
		if err != nil {
			apiDoc.err = fmt.Errorf("load openapi.json: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			apiDoc.err = fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			apiDoc.err = fmt.Errorf("route openapi.json: %w", err)
			return
		}
		apiDoc = apiDocument{doc: doc, router: router}
	})
	return apiDoc
}

// CheckAPIResponse reports how an answer of the REST API to req disagrees
// with the served OpenAPI document, or nil when it agrees: the operation
// must document the status, and the body must match its schema (types,
// required fields, enums, formats, no undocumented field where the schema
// is closed). A 304 must have no body. An address the document does not
// know (every path also answers without its trailing slash) must answer
// 401, 403 or 404 with an Error body. Addresses outside /apiops/ (the public
// JWKS, web pages) are not the API's and pass unchecked.
// Downloads (certificate and truststore exports) are documented as binary
// strings in their own content types; kin-openapi reads them as files.
func init() {
	for _, t := range []string{"application/zip", "application/x-pem-file", "application/pkix-cert",
		"application/x-pkcs7-certificates", "application/x-java-keystore", "application/x-pkcs12"} {
		openapi3filter.RegisterBodyDecoder(t, openapi3filter.FileBodyDecoder)
	}
}

func (e *Env) CheckAPIResponse(req *http.Request, status int, header http.Header, body []byte) error {
	if !strings.HasPrefix(req.URL.Path, "/apiops/") {
		return nil
	}
	d := loadAPIDocument(e.Echo)
	if d.err != nil {
		return d.err
	}
	route, params, err := d.findRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		if status != http.StatusUnauthorized && status != http.StatusForbidden && status != http.StatusNotFound {
			return fmt.Errorf("an undocumented address answered %d", status)
		}
		return d.checkError(body)
	}
	if err != nil {
		return err
	}
	if route.Operation.Responses.Status(status) == nil {
		return fmt.Errorf("status %d is not documented for %s %s", status, route.Method, route.Path)
	}
	if status == http.StatusNotModified {
		if len(body) != 0 {
			return fmt.Errorf("a 304 with a body: %q", body)
		}
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()}},
	}
	return openapi3filter.ValidateResponse(req.Context(), in)
}

// findRoute finds the documented operation of req, trying the path with a
// trailing slash when it has none.
func (d apiDocument) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := d.router.FindRoute(req)
	if err == nil || strings.HasSuffix(req.URL.Path, "/") {
		return route, params, err
	}
	slashed := req.Clone(req.Context())
	u := *req.URL
	u.Path += "/"
	if u.RawPath != "" {
		u.RawPath += "/"
	}
	slashed.URL = &u
	if route, params, err2 := d.router.FindRoute(slashed); err2 == nil {
		return route, params, nil
	}
	return route, params, err
}

// checkError validates body against the Error schema.
func (d apiDocument) checkError(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("an error answer that is not JSON: %q", body)
	}
	ref := d.doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		return errors.New("the document has no Error schema")
	}
	if err := ref.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("the error body does not match the Error schema: %w", err)
	}
	return nil
}
