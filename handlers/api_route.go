package handlers

import (
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
)

// apiResource is one part of the REST API: its tag in the document, the
// schemas of its types, and its routes.
type apiResource struct {
	Tag     openAPITag
	Schemas []apiComponent
	Routes  []apiRoute
}

// apiRoute is one entry of the REST API's route table. The same entry
// registers the route (New) and documents it (buildOpenAPI), so a route
// cannot be served undocumented, nor documented with types other than the
// ones its handler decodes and returns.
type apiRoute struct {
	Method string
	// Path as documented: /apiops/..., {param}, and the trailing slash where
	// the API has one. The route answers without the slash too.
	Path string
	// Handler is built by handle or handleBody, which take the request and
	// response types from the handler's signature.
	Handler apiHandler
	// Permission is what the caller needs, for the docs ("admins",
	// "SECRETS:VIEW"); the service enforces it.
	Permission  string
	ID, Summary string
	Description string
	Params      []*openAPIParameter
	Errors      []int // the route's own error statuses; see apiRoute.responses for the rest
	Security    apiSecurity
	Conditional bool // answers with an ETag, and 304 on a matching If-None-Match
}

// apiSecurity is the credential a route takes.
type apiSecurity int

const (
	personalToken apiSecurity = iota // bearerAuth, the document's default
	gatewayToken                     // an environment's gateway token
	noToken                          // public
)

// apiHandler serves a route and knows its request and response types.
type apiHandler struct {
	Request  any // zero value of the JSON body type; nil for no body
	Form     any // zero value of the multipart/form-data body type, when the route takes one too
	Response any // zero value of the 200 body type (a fileResponse for a download)
	serve    func(s *Server, c echo.Context) (any, error)
}

// handleBodyOrForm adapts a handler whose body is JSON (Req) or, as the seed
// product's certificate upload is, multipart/form-data: fromForm reads the
// form into a Req. form is a zero value of the struct documenting the form's
// fields.
func handleBodyOrForm[Req, Form, Resp any](h func(*Server, echo.Context, Req) (Resp, error), fromForm func(echo.Context) (Req, error)) apiHandler {
	var req Req
	var form Form
	var resp Resp
	return apiHandler{Request: req, Form: form, Response: resp, serve: func(s *Server, c echo.Context) (any, error) {
		var in Req
		if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
			var err error
			if in, err = fromForm(c); err != nil {
				return nil, err
			}
		} else if err := bindRequest(c, &in); err != nil {
			return nil, err
		}
		return h(s, c, in)
	}}
}

// download is a route's 200 that is a file: its content types (for the
// document) and how it is sent.
type download interface {
	contentTypes() []string
	send(c echo.Context) error
}

// fileResponse is a file to send as an attachment; each download route has
// a type that embeds it and lists its content types.
type fileResponse struct {
	FileName    string
	ContentType string
	Body        []byte
}

func (f fileResponse) send(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": f.FileName}))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, f.ContentType, f.Body)
}

// handle adapts a handler that takes no body.
func handle[Resp any](h func(*Server, echo.Context) (Resp, error)) apiHandler {
	var resp Resp
	return apiHandler{Response: resp, serve: func(s *Server, c echo.Context) (any, error) { return h(s, c) }}
}

// handleBody adapts a handler that takes a JSON body of type Req, decoded
// (and its required lists checked) before the handler runs.
func handleBody[Req, Resp any](h func(*Server, echo.Context, Req) (Resp, error)) apiHandler {
	var req Req
	var resp Resp
	return apiHandler{Request: req, Response: resp, serve: func(s *Server, c echo.Context) (any, error) {
		var in Req
		if err := bindRequest(c, &in); err != nil {
			return nil, err
		}
		return h(s, c, in)
	}}
}

// etagged is a response a Conditional route answers with an ETag.
type etagged interface{ ETag() string }

// echoHandler runs the route's handler and writes its answer as JSON, or a
// 304 for a conditional route whose ETag the client already holds.
func (r apiRoute) echoHandler(s *Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := r.Handler.serve(s, c)
		if err != nil {
			return err
		}
		if r.Conditional {
			tag := resp.(etagged).ETag()
			c.Response().Header().Set("ETag", tag)
			if etagMatches(c.Request().Header.Get("If-None-Match"), tag) {
				return c.NoContent(http.StatusNotModified)
			}
		}
		if f, ok := resp.(download); ok {
			return f.send(c)
		}
		return c.JSON(http.StatusOK, resp)
	}
}

var echoParam = regexp.MustCompile(`\{([^}]+)\}`)

// echoPaths are the Echo paths of a documented path: {x} becomes :x, and a
// path with a trailing slash is also served without it.
func echoPaths(path string) []string {
	p := echoParam.ReplaceAllString(path, ":$1")
	if short := strings.TrimSuffix(p, "/"); short != p {
		return []string{p, short}
	}
	return []string{p}
}

// registerAPI adds every route of the table: public ones on e, the others
// on api, the group behind bearerAuth.
func (s *Server) registerAPI(e *echo.Echo, api *echo.Group) {
	for _, res := range apiResources {
		for _, r := range res.Routes {
			h := r.echoHandler(s)
			for _, p := range echoPaths(r.Path) {
				if r.Security == noToken {
					e.Add(r.Method, p, h)
				} else {
					api.Add(r.Method, strings.TrimPrefix(p, "/apiops"), h)
				}
			}
		}
	}
}

// gatewayPaths are the Echo paths a gateway token may call.
var gatewayPaths = func() map[string]bool {
	out := map[string]bool{}
	for _, res := range apiResources {
		for _, r := range res.Routes {
			if r.Security != gatewayToken {
				continue
			}
			for _, p := range echoPaths(r.Path) {
				out[p] = true
			}
		}
	}
	return out
}()
