package handlers

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/labstack/echo/v4"
)

// verifyBodyLimit bounds a verify request: a credential is short.
const verifyBodyLimit = 8 << 10

// limitBody refuses a body over n bytes with 413 before h decodes it.
func limitBody(n int64, h apiHandler) apiHandler {
	serve := h.serve
	h.serve = func(s *Server, c echo.Context) (any, error) {
		req := c.Request()
		if req.ContentLength > n {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, n+1))
		if err != nil {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		if int64(len(body)) > n {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		return serve(s, c)
	}
	return h
}

func (s *Server) handleAPIOrganizationList(c echo.Context) (listResponse[organizationDTO], error) {
	list, err := s.KeySets.ListOrganizations(c.Request().Context(), principal(c), c.Param("projectName"))
	out := make([]organizationDTO, len(list))
	for i, o := range list {
		out[i] = toOrganizationDTO(o)
	}
	return listOf(out), err
}

func (s *Server) handleAPIOrganizationCreate(c echo.Context, dto organizationCreateDTO) (organizationResponse, error) {
	o, err := s.KeySets.CreateOrganization(c.Request().Context(), principal(c), c.Param("projectName"), dto.Name, dto.Description)
	return organizationResponse{Organization: toOrganizationDTO(o)}, err
}

func (s *Server) handleAPIOrganizationGet(c echo.Context) (organizationResponse, error) {
	o, err := s.KeySets.GetOrganization(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("organizationName"))
	return organizationResponse{Organization: toOrganizationDTO(o)}, err
}

func (s *Server) handleAPIOrganizationUpdate(c echo.Context, dto organizationUpdateDTO) (organizationResponse, error) {
	o, err := s.KeySets.UpdateOrganization(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("organizationName"), dto.Description)
	return organizationResponse{Organization: toOrganizationDTO(o)}, err
}

func (s *Server) handleAPIOrganizationDelete(c echo.Context) (apiOK, error) {
	return apiOK{}, s.KeySets.DeleteOrganization(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("organizationName"))
}

func (s *Server) handleAPIGroupList(c echo.Context) (listResponse[groupDTO], error) {
	list, err := s.KeySets.ListGroups(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("organizationName"))
	out := make([]groupDTO, len(list))
	for i, g := range list {
		out[i] = groupDTO{Name: g.Name, CreatedAt: g.CreatedAt}
	}
	return listOf(out), err
}

func (s *Server) handleAPIGroupCreate(c echo.Context, dto groupCreateDTO) (groupResponse, error) {
	g, err := s.KeySets.CreateGroup(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("organizationName"), dto.Name)
	return groupResponse{Group: groupDTO{Name: g.Name, CreatedAt: g.CreatedAt}}, err
}

func (s *Server) handleAPIGroupDelete(c echo.Context) (apiOK, error) {
	return apiOK{}, s.KeySets.DeleteGroup(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("organizationName"), c.Param("groupName"))
}

func (s *Server) handleAPIApplicationList(c echo.Context) (listResponse[applicationDTO], error) {
	list, err := s.KeySets.ListApplications(c.Request().Context(), principal(c), c.Param("projectName"))
	out := make([]applicationDTO, len(list))
	for i, a := range list {
		out[i] = toApplicationDTO(a)
	}
	return listOf(out), err
}

func (d applicationCreateDTO) input() keysets.ApplicationInput {
	return keysets.ApplicationInput{Name: d.Name, Description: d.Description, Organization: d.Organization, Group: d.Group}
}

func (s *Server) handleAPIApplicationCreate(c echo.Context, dto applicationCreateDTO) (applicationResponse, error) {
	a, err := s.KeySets.CreateApplication(c.Request().Context(), principal(c), c.Param("projectName"), dto.input())
	return applicationResponse{Application: toApplicationDTO(a)}, err
}

func (s *Server) handleAPIApplicationGet(c echo.Context) (applicationResponse, error) {
	a, err := s.KeySets.GetApplication(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"))
	return applicationResponse{Application: toApplicationDTO(a)}, err
}

func (s *Server) handleAPIApplicationUpdate(c echo.Context, dto applicationCreateDTO) (applicationResponse, error) {
	a, err := s.KeySets.UpdateApplication(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"), dto.input())
	return applicationResponse{Application: toApplicationDTO(a)}, err
}

func (s *Server) handleAPIApplicationDelete(c echo.Context) (apiOK, error) {
	return apiOK{}, s.KeySets.DeleteApplication(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"))
}

func (s *Server) handleAPIApplicationSuspend(c echo.Context) (applicationResponse, error) {
	a, err := s.KeySets.SuspendApplication(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"))
	return applicationResponse{Application: toApplicationDTO(a)}, err
}

func (s *Server) handleAPIApplicationReactivate(c echo.Context) (applicationResponse, error) {
	a, err := s.KeySets.ReactivateApplication(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"))
	return applicationResponse{Application: toApplicationDTO(a)}, err
}

func subscriptionID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("subscriptionId"), 10, 64)
	if err != nil {
		return 0, errs.Errorf(errs.NotFound, "Application %q has no subscription %q.", c.Param("applicationName"), c.Param("subscriptionId"))
	}
	return id, nil
}

func (s *Server) handleAPISubscriptionList(c echo.Context) (listResponse[subscriptionDTO], error) {
	list, err := s.KeySets.ListSubscriptions(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"))
	out := make([]subscriptionDTO, len(list))
	for i, sb := range list {
		out[i] = toSubscriptionDTO(sb)
	}
	return listOf(out), err
}

func (s *Server) handleAPISubscribe(c echo.Context, dto subscribeDTO) (subscribeResponse, error) {
	r, err := s.KeySets.Subscribe(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"),
		keysets.SubscribeInput{API: dto.API, Environment: dto.Environment})
	out := subscribeResponse{Subscription: toSubscriptionDTO(r.Subscription), KeySets: []subscribedKeySetDTO{}}
	for _, ks := range r.KeySets {
		d := subscribedKeySetDTO{Name: ks.Name, AuthType: ks.AuthType, Status: ks.Status, Reused: ks.Reused}
		if ks.Credentials != nil {
			d.Credentials = &credentialsDTO{Key: ks.Credentials.Key, ClientID: ks.Credentials.ClientID, ClientSecret: ks.Credentials.ClientSecret}
		}
		out.KeySets = append(out.KeySets, d)
	}
	return out, err
}

func (s *Server) handleAPISubscriptionGet(c echo.Context) (subscriptionResponse, error) {
	id, err := subscriptionID(c)
	if err != nil {
		return subscriptionResponse{}, err
	}
	sb, err := s.KeySets.GetSubscription(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"), id)
	return subscriptionResponse{Subscription: toSubscriptionDTO(sb)}, err
}

func (s *Server) handleAPIUnsubscribe(c echo.Context) (apiOK, error) {
	id, err := subscriptionID(c)
	if err != nil {
		return apiOK{}, err
	}
	return apiOK{}, s.KeySets.Unsubscribe(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("applicationName"), id)
}

func (s *Server) handleAPIPolicyList(c echo.Context) (listResponse[policyTemplateDTO], error) {
	list, err := s.KeySets.ListPolicies(c.Request().Context(), principal(c), c.Param("projectName"))
	out := make([]policyTemplateDTO, len(list))
	for i, p := range list {
		out[i] = toPolicyDTO(p)
	}
	return listOf(out), err
}

func (s *Server) handleAPIPolicyCreate(c echo.Context, dto policyTemplateCreateDTO) (policyTemplateResponse, error) {
	p, err := s.KeySets.CreatePolicy(c.Request().Context(), principal(c), c.Param("projectName"), dto.input())
	return policyTemplateResponse{PolicyTemplate: toPolicyDTO(p)}, err
}

func (s *Server) handleAPIPolicyGet(c echo.Context) (policyTemplateResponse, error) {
	p, err := s.KeySets.GetPolicy(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("policyTemplateName"))
	return policyTemplateResponse{PolicyTemplate: toPolicyDTO(p)}, err
}

func (s *Server) handleAPIPolicyUpdate(c echo.Context, dto policyTemplateCreateDTO) (policyTemplateResponse, error) {
	p, err := s.KeySets.UpdatePolicy(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("policyTemplateName"), dto.input())
	return policyTemplateResponse{PolicyTemplate: toPolicyDTO(p)}, err
}

func (s *Server) handleAPIPolicyDelete(c echo.Context) (apiOK, error) {
	return apiOK{}, s.KeySets.DeletePolicy(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("policyTemplateName"))
}

func (s *Server) handleAPICatalogList(c echo.Context) (listResponse[apiDTO], error) {
	list, err := s.KeySets.ListAPIs(c.Request().Context(), principal(c), c.Param("projectName"))
	out := make([]apiDTO, len(list))
	for i, a := range list {
		out[i] = toAPIDTO(a)
	}
	return listOf(out), err
}

func (s *Server) handleAPICatalogCreate(c echo.Context, dto apiCreateDTO) (apiResponse, error) {
	a, err := s.KeySets.CreateAPI(c.Request().Context(), principal(c), c.Param("projectName"), dto.input())
	return apiResponse{API: toAPIDTO(a)}, err
}

func (s *Server) handleAPICatalogGet(c echo.Context) (apiResponse, error) {
	a, err := s.KeySets.GetAPI(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("apiName"))
	return apiResponse{API: toAPIDTO(a)}, err
}

func (s *Server) handleAPICatalogUpdate(c echo.Context, dto apiCreateDTO) (apiResponse, error) {
	a, err := s.KeySets.UpdateAPI(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("apiName"), dto.input())
	return apiResponse{API: toAPIDTO(a)}, err
}

func (s *Server) handleAPICatalogDelete(c echo.Context) (apiOK, error) {
	return apiOK{}, s.KeySets.DeleteAPI(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("apiName"))
}

func (s *Server) handleAPIKeySetList(c echo.Context) (pagedListResponse[keySetItemDTO], error) {
	f, err := keysets.ParseFilter(c.QueryParams())
	if err != nil {
		return pagedListResponse[keySetItemDTO]{}, err
	}
	page, err := s.KeySets.List(c.Request().Context(), principal(c), c.Param("projectName"), f)
	if err != nil {
		return pagedListResponse[keySetItemDTO]{}, err
	}
	out := make([]keySetItemDTO, len(page.Items))
	for i, it := range page.Items {
		out[i] = toKeySetItemDTO(it)
	}
	return pageOf(out, page.Total, page.Page, page.Size), nil
}

func (s *Server) handleAPIKeySetGet(c echo.Context) (keySetResponse, error) {
	d, err := s.KeySets.Get(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keySetName"))
	return keySetResponse{KeySet: toKeySetDTO(d)}, err
}

func (s *Server) handleAPIKeySetCredentials(c echo.Context) (keySetCredentialsResponse, error) {
	ctx := c.Request().Context()
	keys, err := s.KeySets.RetrieveCredentials(ctx, principal(c), c.Param("projectName"), c.Param("keySetName"))
	if err != nil {
		return keySetCredentialsResponse{}, err
	}
	out := keySetCredentialsResponse{KeySet: c.Param("keySetName"), AuthType: keysets.APIKey, Keys: []keyCredentialsDTO{}}
	for _, k := range keys {
		if k.ClientID != "" {
			out.AuthType = keysets.ClientCredentials
		}
		out.Keys = append(out.Keys, keyCredentialsDTO{Seq: k.Seq, Latest: k.Latest, Status: k.Status, Key: k.Key, ClientID: k.ClientID, ClientSecret: k.ClientSecret})
	}
	return out, nil
}

func (s *Server) handleAPIKeySetActivate(c echo.Context) (keySetResponse, error) {
	d, err := s.KeySets.Activate(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keySetName"))
	return keySetResponse{KeySet: toKeySetDTO(d)}, err
}

func (s *Server) handleAPIKeySetSuspend(c echo.Context) (keySetResponse, error) {
	d, err := s.KeySets.Suspend(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keySetName"))
	return keySetResponse{KeySet: toKeySetDTO(d)}, err
}

func (s *Server) handleAPIKeySetRegenerate(c echo.Context) (regenerateResponse, error) {
	seq, err := queryInt(c, "key", 0, 1<<30)
	if err != nil {
		return regenerateResponse{}, err
	}
	d, creds, err := s.KeySets.Regenerate(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keySetName"), int64(seq))
	return regenerateResponse{KeySet: toKeySetDTO(d), Credentials: credentialsDTO{Key: creds.Key, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret}}, err
}

func (s *Server) handleAPIKeySetRevoke(c echo.Context, dto revokeDTO) (keySetResponse, error) {
	d, err := s.KeySets.Revoke(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keySetName"), dto.Confirm)
	return keySetResponse{KeySet: toKeySetDTO(d)}, err
}

func (s *Server) handleAPIVerify(c echo.Context, dto verifyDTO) (verifyResponse, error) {
	r, err := s.KeySets.Verify(c.Request().Context(), principal(c), c.Param("environmentName"),
		keysets.VerifyInput{Key: dto.Key, ClientID: dto.ClientID, ClientSecret: dto.ClientSecret, API: dto.API})
	return verifyResponse{Valid: r.Valid, Code: r.Code, Message: r.Message, KeySet: r.KeySet, Application: r.Application, Organization: r.Organization,
		APIs: nonNil(r.APIs), ExpiresAt: r.ExpiresAt}, err
}
