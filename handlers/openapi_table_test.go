package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestRouteTableInconsistenciesFailAtStartUp: the document is built when the
// package loads, and a route table that cannot be documented truthfully
// panics there instead of serving a wrong document.
func TestRouteTableInconsistenciesFailAtStartUp(t *testing.T) {
	list := handle(func(*Server, echo.Context) (listResponse[projectDTO], error) { return listOf[projectDTO](nil), nil })
	create := handleBody(func(*Server, echo.Context, projectCreateDTO) (projectResponse, error) { return projectResponse{}, nil })
	echoBody := handleBody(func(*Server, echo.Context, projectDTO) (projectResponse, error) { return projectResponse{}, nil })
	route := func(r apiRoute) []apiResource {
		r.Method, r.ID = http.MethodGet, "x"
		if r.Path == "" {
			r.Path = "/apiops/x/"
		}
		return []apiResource{{Tag: openAPITag{Name: "X"}, Routes: []apiRoute{r}, Schemas: projectsAPI.Schemas}}
	}
	for _, c := range []struct {
		name      string
		resources []apiResource
		says      string
	}{
		{"an undocumented path parameter", route(apiRoute{Path: "/apiops/x/{name}/", Handler: list}), "path parameter name"},
		{"a conditional route without an ETag", route(apiRoute{Handler: list, Conditional: true}), "no ETag method"},
		{"an error status without a response", route(apiRoute{Handler: list, Errors: []int{http.StatusTeapot}}), "status 418"},
		{"one type as request and response", route(apiRoute{Handler: echoBody}), "is used in a"},
		{"a schema no route uses", route(apiRoute{Handler: create}), "no route uses it"},
		{"the same route twice", append(route(apiRoute{Handler: list}), route(apiRoute{Handler: list})...), "twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, c.says) {
					t.Errorf("panic %q, want one saying %q", r, c.says)
				}
			}()
			buildOpenAPI(c.resources)
		})
	}
}
