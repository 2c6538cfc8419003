package handlers

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/labstack/echo/v4"
)

// bearerAuth authenticates /apiops/ requests with a Personal API Access
// Token; a missing, unknown, expired or revoked token is a 401. A gateway
// token only reaches the routes the table marks gatewayToken.
func (s *Server) bearerAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(h, " ")
		if h != "" && !strings.EqualFold(scheme, "Bearer") {
			return errs.Errorf(errs.Unauthorized, "The Authorization header must be \"Bearer <token>\".")
		}
		tok = strings.TrimSpace(tok)
		if strings.HasPrefix(tok, environments.GatewayTokenPrefix) {
			p, err := s.Environments.AuthenticateGateway(c.Request().Context(), tok, c.RealIP())
			if err != nil {
				return err
			}
			if !gatewayPaths[c.Path()] {
				return errs.Errorf(errs.Forbidden, "A gateway token can only read its environment's bundle and verify its credentials.")
			}
			c.Set(ctxPrincipal, p)
			return next(c)
		}
		p, err := s.Auth.AuthenticateToken(c.Request().Context(), tok, c.RealIP())
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		return next(c)
	}
}

// bindJSON decodes a JSON body, answering 400 with what is wrong.
func bindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") {
		return errs.Errorf(errs.Invalid, "Send a JSON body with Content-Type: application/json.")
	}
	if err := (&echo.DefaultBinder{}).BindBody(c, v); err != nil {
		if he, ok := err.(*echo.HTTPError); ok {
			return errs.Errorf(errs.Invalid, "The request body is not valid JSON: %v", he.Message)
		}
		return errs.Errorf(errs.Invalid, "The request body is not valid JSON.")
	}
	return nil
}

// bindRequest decodes a request body (a pointer to a struct) and refuses it
// when one of its requiredList fields is absent or null.
func bindRequest(c echo.Context, v any) error {
	if err := bindJSON(c, v); err != nil {
		return err
	}
	rv := reflect.ValueOf(v).Elem()
	for _, f := range reflect.VisibleFields(rv.Type()) {
		if !f.IsExported() {
			continue
		}
		l, isList := rv.FieldByIndex(f.Index).Interface().(listField)
		name, _, ok := jsonField(f)
		switch {
		case !isList || !ok || l.sent():
		case l.null():
			return errs.FieldErrorf(name, "%s must be a list ([] for an empty one), not null.", name)
		default:
			return errs.FieldErrorf(name, "%s is required: a list ([] for an empty one).", name)
		}
	}
	return nil
}

// listField is implemented by requiredList.
type listField interface {
	itemType() reflect.Type
	sent() bool
	null() bool
}

// requiredList is a list a request body must send. A Go slice cannot tell
// [] from null or from a missing field, and for some lists the difference
// matters: an empty permission list removes a member, so a null one must not.
type requiredList[T any] struct {
	Items   []T
	wasSent bool
	wasNull bool
}

// UnmarshalJSON records whether the list was sent, and as null.
func (l *requiredList[T]) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		l.Items, l.wasSent, l.wasNull = nil, false, true
		return nil
	}
	var items []T
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	if items == nil {
		items = []T{}
	}
	l.Items, l.wasSent, l.wasNull = items, true, false
	return nil
}

func (l requiredList[T]) itemType() reflect.Type { return reflect.TypeFor[T]() }
func (l requiredList[T]) sent() bool             { return l.wasSent }
func (l requiredList[T]) null() bool             { return l.wasNull }

// apiOK is embedded in every 200 body of the API: "success": true.
type apiOK struct {
	Success alwaysTrue `json:"success"`
}

// alwaysTrue encodes as true, so that no answer can forget it.
type alwaysTrue struct{}

func (alwaysTrue) MarshalJSON() ([]byte, error) { return []byte("true"), nil }

// listResponse is a whole list, as the seed product answers lists.
type listResponse[T any] struct {
	apiOK
	ResultList  []T `json:"resultList"`
	ResultCount int `json:"resultCount" doc:"How many there are: the length of resultList."`
}

func listOf[T any](items []T) listResponse[T] {
	if items == nil {
		items = []T{}
	}
	return listResponse[T]{ResultList: items, ResultCount: len(items)}
}

// pagedListResponse is one page of a list; resultCount counts every match.
type pagedListResponse[T any] struct {
	apiOK
	ResultList  []T   `json:"resultList"`
	ResultCount int64 `json:"resultCount" doc:"How many match the filters, on every page together."`
	Page        int   `json:"page" doc:"This page's number, from 1."`
	Size        int   `json:"size" doc:"Entries per page."`
}

func pageOf[T any](items []T, total int64, page, size int) pagedListResponse[T] {
	if items == nil {
		items = []T{}
	}
	return pagedListResponse[T]{ResultList: items, ResultCount: total, Page: page, Size: size}
}

// nonNil returns s, or an empty slice for nil, so that a list answers [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
