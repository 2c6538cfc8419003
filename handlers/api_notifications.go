package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/notify"
	"github.com/labstack/echo/v4"
)

const (
	notifyView   = "any VIEW permission in the project (SECRETS, SIGNING_KEYS, KEY_SETS or AUDIT)"
	notifyManage = "any MANAGE permission in the project (SECRETS, SIGNING_KEYS or KEY_SETS)"
)

var notificationsAPI = apiResource{
	Tag: openAPITag{Name: "Notifications", Description: "Expiry alerts: a project's channels (a signed JSON webhook or a Slack-compatible " +
		"incoming webhook), its rules (object types, thresholds in days, channels) and the history of every delivery. Each alert is " +
		"sent once per rule, object, end date and threshold; failed deliveries are retried after 1, 5 and 30 minutes."},
	Schemas: []apiComponent{
		{Name: "NotificationChannelInput", Type: channelInputDTO{}, Required: []string{"name", "kind"}, Docs: map[string]*schema{
			"kind":         {Enum: []any{notify.Webhook, notify.Slack}, Description: "WEBHOOK: the alert as signed JSON (X-Keyward-Signature). SLACK: a Slack incoming-webhook message."},
			"url":          {Description: "An absolute http:// or https:// URL; required on creation; on a change, absent keeps the stored one."},
			"enabled":      {Description: "Default true."},
			"rotateSecret": {Description: "On a change of a WEBHOOK channel: generate a new signing secret (returned once)."}}},
		{Name: "NotificationChannel", Type: channelDTO{}, Docs: map[string]*schema{
			"kind":      {Enum: []any{notify.Webhook, notify.Slack}},
			"url":       {Description: "The URL; a SLACK channel's shows only its scheme and host, since the URL is its credential."},
			"hasSecret": {Description: "A WEBHOOK channel signs with a secret, shown once."}}},
		{Name: "NotificationRuleInput", Type: ruleInputDTO{}, Required: []string{"name", "channels"}, Docs: map[string]*schema{
			"objectTypes": {Items: &schema{Type: "string", Enum: expiryTypes()}, Description: "The object types it watches; empty for every type. Truststore CAs, gateway tokens and personal tokens belong to no project, so a project's rule never matches them."},
			"thresholds":  {Description: "Days before the end date; 0 is on expiry. Empty: 30, 14, 7, 1, 0."},
			"channels":    {Description: "The names of the project's channels it sends to (at least one)."},
			"enabled":     {Description: "Default true."}}},
		{Name: "NotificationRule", Type: ruleDTO{}, Docs: map[string]*schema{
			"objectTypes": {Items: &schema{Type: "string", Enum: expiryTypes()}},
			"thresholds":  {Description: "Days before the end date, largest first; 0 is on expiry."}}},
		{Name: "NotificationDelivery", Type: deliveryDTO{}, Docs: map[string]*schema{
			"status":  {Enum: []any{notify.Pending, notify.Delivered, notify.Failed}, Description: "pending: waiting for its next attempt; delivered; failed: gave up."},
			"test":    {Description: "A \"Send test notification\" delivery."},
			"summary": {Description: "The message in one line."}}},
	},
	Routes: notificationRoutes(),
}

func notificationRoutes() []apiRoute {
	bad, missing := http.StatusBadRequest, http.StatusNotFound
	project := []*openAPIParameter{projectNameParam}
	channel := []*openAPIParameter{projectNameParam, pathParam("channelId", "The channel's id.", &schema{Type: "integer"})}
	rule := []*openAPIParameter{projectNameParam, pathParam("ruleId", "The rule's id.", &schema{Type: "integer"})}
	const channels, rules = "/apiops/projects/{projectName}/notificationChannels/", "/apiops/projects/{projectName}/notificationRules/"
	return []apiRoute{
		{Method: http.MethodGet, Path: channels, Handler: handle((*Server).handleAPIChannelList), Permission: notifyView,
			ID: "listNotificationChannels", Summary: "List a project's notification channels", Params: project, Errors: []int{missing}},
		{Method: http.MethodPost, Path: channels, Handler: handleBody((*Server).handleAPIChannelCreate), Permission: notifyManage,
			ID: "createNotificationChannel", Summary: "Create a notification channel",
			Description: "A WEBHOOK channel gets a signing secret, returned once as secret: each POST carries X-Keyward-Signature: " +
				"t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">, as environment webhooks do.",
			Params: project, Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: channels + "{channelId}/", Handler: handle((*Server).handleAPIChannelGet), Permission: notifyView,
			ID: "getNotificationChannel", Summary: "Get a notification channel", Params: channel, Errors: []int{missing}},
		{Method: http.MethodPut, Path: channels + "{channelId}/", Handler: handleBody((*Server).handleAPIChannelUpdate), Permission: notifyManage,
			ID: "updateNotificationChannel", Summary: "Change a notification channel", Params: channel, Errors: []int{bad, missing}},
		{Method: http.MethodDelete, Path: channels + "{channelId}/", Handler: handle((*Server).handleAPIChannelDelete), Permission: notifyManage,
			ID: "deleteNotificationChannel", Summary: "Delete a notification channel (rules stop sending to it)", Params: channel, Errors: []int{missing}},
		{Method: http.MethodPost, Path: channels + "{channelId}/test", Handler: handle((*Server).handleAPIChannelTest), Permission: notifyManage,
			ID: "testNotificationChannel", Summary: "Send a test notification now",
			Description: "Sends a sample alert (a made-up certificate ending in 7 days) once, without retries, and answers with the " +
				"recorded delivery: delivered, or failed with the status code or error.",
			Params: channel, Errors: []int{missing}},
		{Method: http.MethodGet, Path: rules, Handler: handle((*Server).handleAPIRuleList), Permission: notifyView,
			ID: "listNotificationRules", Summary: "List a project's notification rules", Params: project, Errors: []int{missing}},
		{Method: http.MethodPost, Path: rules, Handler: handleBody((*Server).handleAPIRuleCreate), Permission: notifyManage,
			ID: "createNotificationRule", Summary: "Create a notification rule",
			Description: "When several thresholds are crossed at once (a new rule, a certificate added late), only the smallest is sent.",
			Params:      project, Errors: []int{bad, missing}},
		{Method: http.MethodGet, Path: rules + "{ruleId}/", Handler: handle((*Server).handleAPIRuleGet), Permission: notifyView,
			ID: "getNotificationRule", Summary: "Get a notification rule", Params: rule, Errors: []int{missing}},
		{Method: http.MethodPut, Path: rules + "{ruleId}/", Handler: handleBody((*Server).handleAPIRuleUpdate), Permission: notifyManage,
			ID: "updateNotificationRule", Summary: "Change a notification rule", Params: rule, Errors: []int{bad, missing}},
		{Method: http.MethodDelete, Path: rules + "{ruleId}/", Handler: handle((*Server).handleAPIRuleDelete), Permission: notifyManage,
			ID: "deleteNotificationRule", Summary: "Delete a notification rule", Params: rule, Errors: []int{missing}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/notificationDeliveries/", Handler: handle((*Server).handleAPIDeliveryList),
			Permission: notifyView, ID: "listNotificationDeliveries", Summary: "The project's delivery history, newest first",
			Params: append(project[:1:1], pageParams(25, notify.MaxPageSize)...), Errors: []int{bad, missing}},
	}
}

type channelInputDTO struct {
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	URL          string `json:"url"`
	Enabled      *bool  `json:"enabled"`
	RotateSecret bool   `json:"rotateSecret"`
}

type channelDTO struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	URL       string    `json:"url"`
	Enabled   bool      `json:"enabled"`
	HasSecret bool      `json:"hasSecret"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type channelResponse struct {
	apiOK
	Channel channelDTO `json:"channel"`
	Secret  string     `json:"secret,omitempty" doc:"A WEBHOOK channel's new signing secret, shown once (on creation or rotation)."`
}

type ruleInputDTO struct {
	Name        string   `json:"name"`
	ObjectTypes []string `json:"objectTypes"`
	Thresholds  []int    `json:"thresholds"`
	Channels    []string `json:"channels"`
	Enabled     *bool    `json:"enabled"`
}

type ruleDTO struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	ObjectTypes []string  `json:"objectTypes"`
	Thresholds  []int     `json:"thresholds"`
	Channels    []string  `json:"channels"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

type ruleResponse struct {
	apiOK
	Rule ruleDTO `json:"rule"`
}

type deliveryDTO struct {
	ID            int64      `json:"id"`
	Test          bool       `json:"test"`
	Channel       string     `json:"channel"`
	Rule          string     `json:"rule"`
	ObjectType    string     `json:"objectType"`
	ObjectName    string     `json:"objectName"`
	Environment   string     `json:"environment"`
	Threshold     int        `json:"threshold"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	StatusCode    int        `json:"statusCode" doc:"The last attempt's HTTP status; 0 when none answered."`
	Error         string     `json:"error" doc:"The last attempt's error, or empty."`
	Summary       string     `json:"summary"`
	CreatedAt     time.Time  `json:"createdAt"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
}

type deliveryResponse struct {
	apiOK
	Delivery deliveryDTO `json:"delivery"`
}

func toChannelDTO(c notify.Channel) channelDTO {
	return channelDTO{ID: c.ID, Name: c.Name, Kind: c.Kind, URL: c.URL, Enabled: c.Enabled, HasSecret: c.HasSecret, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func toRuleDTO(r notify.Rule) ruleDTO {
	return ruleDTO{ID: r.ID, Name: r.Name, ObjectTypes: nonNil(r.Types), Thresholds: nonNil(r.Thresholds), Channels: nonNil(r.Channels),
		Enabled: r.Enabled, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toDeliveryDTO(d notify.Delivery) deliveryDTO {
	return deliveryDTO{ID: d.ID, Test: d.Test, Channel: d.Channel, Rule: d.Rule, ObjectType: d.ObjectType, ObjectName: d.ObjectName,
		Environment: d.Environment, Threshold: d.Threshold, Status: d.Status, Attempts: d.Attempts, StatusCode: d.StatusCode, Error: d.Error,
		Summary: d.Summary, CreatedAt: d.CreatedAt, LastAttemptAt: timeOrNil(d.LastAttempt), NextAttemptAt: timeOrNil(d.NextAttempt),
		DeliveredAt: timeOrNil(d.DeliveredAt)}
}

func enabledOr(b *bool) bool { return b == nil || *b }

// idParam reads a numeric path parameter; anything else is a 404.
func idParam(c echo.Context, name, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id < 1 {
		return 0, errs.Errorf(errs.NotFound, "No %s %q.", what, c.Param(name))
	}
	return id, nil
}

func (dto channelInputDTO) input() notify.ChannelInput {
	return notify.ChannelInput{Name: dto.Name, Kind: dto.Kind, URL: dto.URL, Enabled: enabledOr(dto.Enabled), RotateSecret: dto.RotateSecret}
}

func (dto ruleInputDTO) input() notify.RuleInput {
	return notify.RuleInput{Name: dto.Name, Types: dto.ObjectTypes, Thresholds: dto.Thresholds, Channels: dto.Channels, Enabled: enabledOr(dto.Enabled)}
}

func (s *Server) handleAPIChannelList(c echo.Context) (listResponse[channelDTO], error) {
	list, err := s.Notify.ListChannels(c.Request().Context(), principal(c), c.Param("projectName"))
	out := []channelDTO{}
	for _, ch := range list {
		out = append(out, toChannelDTO(ch))
	}
	return listOf(out), err
}

func (s *Server) handleAPIChannelCreate(c echo.Context, dto channelInputDTO) (channelResponse, error) {
	ch, err := s.Notify.CreateChannel(c.Request().Context(), principal(c), c.Param("projectName"), dto.input())
	return channelResponse{Channel: toChannelDTO(ch.Channel), Secret: ch.Secret}, err
}

func (s *Server) handleAPIChannelGet(c echo.Context) (channelResponse, error) {
	id, err := idParam(c, "channelId", "notification channel")
	if err != nil {
		return channelResponse{}, err
	}
	ch, err := s.Notify.GetChannel(c.Request().Context(), principal(c), c.Param("projectName"), id)
	return channelResponse{Channel: toChannelDTO(ch)}, err
}

func (s *Server) handleAPIChannelUpdate(c echo.Context, dto channelInputDTO) (channelResponse, error) {
	id, err := idParam(c, "channelId", "notification channel")
	if err != nil {
		return channelResponse{}, err
	}
	ch, err := s.Notify.UpdateChannel(c.Request().Context(), principal(c), c.Param("projectName"), id, dto.input())
	return channelResponse{Channel: toChannelDTO(ch.Channel), Secret: ch.Secret}, err
}

func (s *Server) handleAPIChannelDelete(c echo.Context) (apiOK, error) {
	id, err := idParam(c, "channelId", "notification channel")
	if err != nil {
		return apiOK{}, err
	}
	return apiOK{}, s.Notify.DeleteChannel(c.Request().Context(), principal(c), c.Param("projectName"), id)
}

func (s *Server) handleAPIChannelTest(c echo.Context) (deliveryResponse, error) {
	id, err := idParam(c, "channelId", "notification channel")
	if err != nil {
		return deliveryResponse{}, err
	}
	d, err := s.Notify.SendTest(c.Request().Context(), principal(c), c.Param("projectName"), id)
	return deliveryResponse{Delivery: toDeliveryDTO(d)}, err
}

func (s *Server) handleAPIRuleList(c echo.Context) (listResponse[ruleDTO], error) {
	list, err := s.Notify.ListRules(c.Request().Context(), principal(c), c.Param("projectName"))
	out := []ruleDTO{}
	for _, r := range list {
		out = append(out, toRuleDTO(r))
	}
	return listOf(out), err
}

func (s *Server) handleAPIRuleCreate(c echo.Context, dto ruleInputDTO) (ruleResponse, error) {
	r, err := s.Notify.CreateRule(c.Request().Context(), principal(c), c.Param("projectName"), dto.input())
	return ruleResponse{Rule: toRuleDTO(r)}, err
}

func (s *Server) handleAPIRuleGet(c echo.Context) (ruleResponse, error) {
	id, err := idParam(c, "ruleId", "notification rule")
	if err != nil {
		return ruleResponse{}, err
	}
	r, err := s.Notify.GetRule(c.Request().Context(), principal(c), c.Param("projectName"), id)
	return ruleResponse{Rule: toRuleDTO(r)}, err
}

func (s *Server) handleAPIRuleUpdate(c echo.Context, dto ruleInputDTO) (ruleResponse, error) {
	id, err := idParam(c, "ruleId", "notification rule")
	if err != nil {
		return ruleResponse{}, err
	}
	r, err := s.Notify.UpdateRule(c.Request().Context(), principal(c), c.Param("projectName"), id, dto.input())
	return ruleResponse{Rule: toRuleDTO(r)}, err
}

func (s *Server) handleAPIRuleDelete(c echo.Context) (apiOK, error) {
	id, err := idParam(c, "ruleId", "notification rule")
	if err != nil {
		return apiOK{}, err
	}
	return apiOK{}, s.Notify.DeleteRule(c.Request().Context(), principal(c), c.Param("projectName"), id)
}

func (s *Server) handleAPIDeliveryList(c echo.Context) (pagedListResponse[deliveryDTO], error) {
	page, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return pagedListResponse[deliveryDTO]{}, err
	}
	size, err := queryInt(c, "size", 25, notify.MaxPageSize)
	if err != nil {
		return pagedListResponse[deliveryDTO]{}, err
	}
	res, err := s.Notify.ListDeliveries(c.Request().Context(), principal(c), c.Param("projectName"), page, size)
	out := []deliveryDTO{}
	for _, d := range res.Items {
		out = append(out, toDeliveryDTO(d))
	}
	return pageOf(out, res.Total, res.Page, res.Size), err
}
