package handlers

// Request and response types of the key sets API, and their conversions.

import (
	"database/sql"
	"time"

	"github.com/keyward/keyward/internal/keysets"
)

type organizationCreateDTO struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type organizationUpdateDTO struct {
	Description string `json:"description"`
}

type organizationDTO struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Groups      []string  `json:"groups"`
	CreatedAt   time.Time `json:"createdAt"`
}

func toOrganizationDTO(o keysets.Organization) organizationDTO {
	return organizationDTO{Name: o.Name, Description: o.Description, Groups: nonNil(o.Groups), CreatedAt: o.CreatedAt}
}

type organizationResponse struct {
	apiOK
	Organization organizationDTO `json:"organization"`
}

type groupCreateDTO struct {
	Name string `json:"name"`
}

type groupDTO struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

type groupResponse struct {
	apiOK
	Group groupDTO `json:"group"`
}

type applicationCreateDTO struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	Organization string `json:"organization" doc:"The organization it belongs to."`
	Group        string `json:"group" doc:"Optional: one of the organization's groups."`
}

type applicationDTO struct {
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Organization string    `json:"organization"`
	Group        string    `json:"group,omitempty"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"createdAt"`
}

func toApplicationDTO(a keysets.Application) applicationDTO {
	return applicationDTO{Name: a.Name, Description: a.Description, Organization: a.OrganizationName, Group: a.GroupName, Status: a.Status, CreatedAt: a.CreatedAt}
}

type applicationResponse struct {
	apiOK
	Application applicationDTO `json:"application"`
}

type policyTemplateCreateDTO struct {
	Name               string `json:"name"`
	Description        string `json:"description"`
	Expiration         string `json:"expiration"`
	Rotation           string `json:"rotation"`
	ManualRegeneration bool   `json:"manualRegeneration" doc:"Whether users may regenerate the LATEST key by hand."`
	GracePeriod        string `json:"gracePeriod"`
	ActivationRequired bool   `json:"activationRequired" doc:"New key sets start PENDING until activated (otherwise ACTIVE at once)."`
}

func (d policyTemplateCreateDTO) input() keysets.PolicyInput {
	return keysets.PolicyInput{Name: d.Name, Description: d.Description, Expiration: d.Expiration, Rotation: d.Rotation,
		ManualRegeneration: d.ManualRegeneration, GracePeriod: d.GracePeriod, ActivationRequired: d.ActivationRequired}
}

type policyTemplateDTO struct {
	Name               string    `json:"name"`
	Description        string    `json:"description"`
	Expiration         string    `json:"expiration,omitempty"`
	Rotation           string    `json:"rotation,omitempty"`
	ManualRegeneration bool      `json:"manualRegeneration"`
	GracePeriod        string    `json:"gracePeriod,omitempty"`
	ActivationRequired bool      `json:"activationRequired"`
	CreatedAt          time.Time `json:"createdAt"`
}

func toPolicyDTO(p keysets.Policy) policyTemplateDTO {
	d := policyTemplateDTO{Name: p.Name, Description: p.Description, ManualRegeneration: p.ManualRegeneration, ActivationRequired: p.ActivationRequired, CreatedAt: p.CreatedAt}
	if p.ExpirationSeconds.Valid {
		d.Expiration = keysets.FormatDuration(p.ExpirationSeconds.Int64)
	}
	if p.RotationSeconds.Valid {
		d.Rotation = keysets.FormatDuration(p.RotationSeconds.Int64)
	}
	if p.GracePeriodSeconds.Valid {
		d.GracePeriod = keysets.FormatDuration(p.GracePeriodSeconds.Int64)
	}
	return d
}

type policyTemplateResponse struct {
	apiOK
	PolicyTemplate policyTemplateDTO `json:"policyTemplate"`
}

type apiCreateDTO struct {
	Name           string               `json:"name"`
	Description    string               `json:"description"`
	Environments   requiredList[string] `json:"environments" doc:"The environments the API runs in."`
	AuthTypes      requiredList[string] `json:"authTypes"`
	PolicyTemplate string               `json:"policyTemplate" doc:"The policy template its key sets follow."`
}

func (d apiCreateDTO) input() keysets.APIInput {
	return keysets.APIInput{Name: d.Name, Description: d.Description, Environments: d.Environments.Items, AuthTypes: d.AuthTypes.Items, PolicyTemplate: d.PolicyTemplate}
}

type apiDTO struct {
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	Environments   []string          `json:"environments"`
	AuthTypes      []string          `json:"authTypes"`
	PolicyTemplate string            `json:"policyTemplate"`
	Subscriptions  []subscriptionDTO `json:"subscriptions"`
}

func toAPIDTO(a keysets.API) apiDTO {
	d := apiDTO{Name: a.Name, Description: a.Description, Environments: nonNil(a.Environments), AuthTypes: nonNil(a.AuthTypes), PolicyTemplate: a.PolicyTemplate,
		Subscriptions: []subscriptionDTO{}}
	for _, sb := range a.Subscriptions {
		d.Subscriptions = append(d.Subscriptions, toSubscriptionDTO(sb))
	}
	return d
}

type apiResponse struct {
	apiOK
	API apiDTO `json:"api"`
}

type subscribeDTO struct {
	API         string `json:"api" doc:"The API's name."`
	Environment string `json:"environment" doc:"An environment the API runs in."`
}

type subscriptionDTO struct {
	ID          int64     `json:"id"`
	Application string    `json:"application"`
	API         string    `json:"api"`
	Environment string    `json:"environment"`
	CreatedBy   string    `json:"createdBy"`
	CreatedAt   time.Time `json:"createdAt"`
	KeySets     []string  `json:"keySets"`
}

func toSubscriptionDTO(s keysets.Subscription) subscriptionDTO {
	return subscriptionDTO{ID: s.ID, Application: s.Application, API: s.API, Environment: s.Environment, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, KeySets: nonNil(s.KeySets)}
}

type subscriptionResponse struct {
	apiOK
	Subscription subscriptionDTO `json:"subscription"`
}

type credentialsDTO struct {
	Key          string `json:"key,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
}

type subscribedKeySetDTO struct {
	Name        string          `json:"name"`
	AuthType    string          `json:"authType"`
	Status      string          `json:"status"`
	Reused      bool            `json:"reused" doc:"An existing key set was reused: its values are not repeated (Retrieve Credentials shows them)."`
	Credentials *credentialsDTO `json:"credentials,omitempty" doc:"Only for a key set created now: shown this once."`
}

type subscribeResponse struct {
	apiOK
	Subscription subscriptionDTO       `json:"subscription"`
	KeySets      []subscribedKeySetDTO `json:"keySets"`
}

type keySetItemDTO struct {
	Name           string     `json:"name"`
	Status         string     `json:"status"`
	AuthType       string     `json:"authType"`
	Environment    string     `json:"environment"`
	Application    string     `json:"application"`
	Organization   string     `json:"organization"`
	Group          string     `json:"group,omitempty"`
	PolicyTemplate string     `json:"policyTemplate"`
	LatestKey      string     `json:"latestKey" doc:"The LATEST key's prefix and last four characters (a client id's and secret's for CLIENT_CREDENTIALS)."`
	CreatedAt      time.Time  `json:"createdAt"`
	ExpiresAt      *time.Time `json:"expiresAt,omitempty"`
	NextRotationAt *time.Time `json:"nextRotationAt,omitempty"`
	LastRotatedAt  *time.Time `json:"lastRotatedAt,omitempty"`
}

type keySetKeyDTO struct {
	Seq         int64      `json:"seq" doc:"The key's number in the chain, from 1."`
	Latest      bool       `json:"latest" doc:"LATEST: the most recently generated key."`
	Display     string     `json:"display" doc:"Prefix and last four characters: never the value."`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"createdAt"`
	ActivatedAt *time.Time `json:"activatedAt,omitempty"`
	RotatedAt   *time.Time `json:"rotatedAt,omitempty"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
	RevokedAt   *time.Time `json:"revokedAt,omitempty" doc:"When it stopped (or stops, at the end of a grace period) verifying."`
	GraceUntil  *time.Time `json:"graceUntil,omitempty"`
	LastUsedAt  *time.Time `json:"lastUsedAt,omitempty"`
}

type keySetEventDTO struct {
	Type        string     `json:"type"`
	State       string     `json:"state"`
	KeySeq      int64      `json:"keySeq"`
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
	ActualAt    *time.Time `json:"actualAt,omitempty"`
	Delay       string     `json:"delay,omitempty" doc:"How late a scheduled event ran."`
	Actor       string     `json:"actor,omitempty"`
	Detail      string     `json:"detail"`
}

type keySetActionDTO struct {
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty" doc:"Why it does not apply now."`
}

type keySetDTO struct {
	keySetItemDTO
	ApplicationStatus      string            `json:"applicationStatus"`
	SuspendedByApplication bool              `json:"suspendedByApplication"`
	Policy                 policyTemplateDTO `json:"policy"`
	Keys                   []keySetKeyDTO    `json:"keys"`
	Timeline               []keySetEventDTO  `json:"timeline"`
	AuthorizedAPIs         []string          `json:"authorizedApis"`
	Subscriptions          []subscriptionDTO `json:"subscriptions"`
	Actions                []keySetActionDTO `json:"actions"`
}

func toKeySetItemDTO(it keysets.ListItem) keySetItemDTO {
	return keySetItemDTO{Name: it.Name, Status: it.Status, AuthType: it.AuthType, Environment: it.Environment, Application: it.Application,
		Organization: it.Organization, Group: it.Group, PolicyTemplate: it.Policy, LatestKey: it.LatestKey, CreatedAt: it.CreatedAt,
		ExpiresAt: it.ExpiresAt, NextRotationAt: it.NextRotationAt, LastRotatedAt: it.LastRotatedAt}
}

func nullTimePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

func toKeySetDTO(d keysets.Details) keySetDTO {
	out := keySetDTO{ApplicationStatus: d.Application.Status, SuspendedByApplication: d.SuspendedByApplication, Policy: toPolicyDTO(d.Policy),
		Keys: []keySetKeyDTO{}, Timeline: []keySetEventDTO{}, AuthorizedAPIs: nonNil(d.AuthorizedAPIs), Subscriptions: []subscriptionDTO{}, Actions: []keySetActionDTO{}}
	out.keySetItemDTO = keySetItemDTO{Name: d.Name, Status: d.Status, AuthType: d.AuthType, Environment: d.Environment, Application: d.Application.Name,
		Organization: d.Application.OrganizationName, Group: d.Application.GroupName, PolicyTemplate: d.Policy.Name, CreatedAt: d.CreatedAt,
		ExpiresAt: nullTimePtr(d.ExpiresAt), NextRotationAt: nullTimePtr(d.NextRotationAt), LastRotatedAt: nullTimePtr(d.LastRotatedAt)}
	for _, k := range d.Keys {
		if k.Latest {
			out.LatestKey = k.Display
		}
		out.Keys = append(out.Keys, keySetKeyDTO{Seq: k.Seq, Latest: k.Latest, Display: k.Display, Status: k.Status, CreatedAt: k.CreatedAt,
			ActivatedAt: k.ActivatedAt, RotatedAt: k.RotatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, GraceUntil: k.GraceUntil, LastUsedAt: k.LastUsedAt})
	}
	for _, e := range d.Timeline {
		ev := keySetEventDTO{Type: e.Type, State: e.State, KeySeq: e.KeySeq, ScheduledAt: e.ScheduledAt, ActualAt: e.ActualAt, Actor: e.Actor, Detail: e.Detail}
		if e.Delay >= time.Second {
			ev.Delay = e.Delay.Round(time.Second).String()
		}
		out.Timeline = append(out.Timeline, ev)
	}
	for _, sb := range d.Subscriptions {
		out.Subscriptions = append(out.Subscriptions, toSubscriptionDTO(sb))
	}
	for _, a := range d.Actions {
		out.Actions = append(out.Actions, keySetActionDTO{Name: a.Name, Allowed: a.Allowed, Reason: a.Reason})
	}
	return out
}

type keySetResponse struct {
	apiOK
	KeySet keySetDTO `json:"keySet"`
}

type regenerateResponse struct {
	apiOK
	KeySet      keySetDTO      `json:"keySet"`
	Credentials credentialsDTO `json:"credentials" doc:"The new key's values, shown this once."`
}

type keyCredentialsDTO struct {
	Seq          int64  `json:"seq"`
	Latest       bool   `json:"latest"`
	Status       string `json:"status"`
	Key          string `json:"key,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
}

type keySetCredentialsResponse struct {
	apiOK
	KeySet   string              `json:"keySet"`
	AuthType string              `json:"authType"`
	Keys     []keyCredentialsDTO `json:"keys"`
}

type revokeDTO struct {
	Confirm string `json:"confirm" doc:"The key set's name, typed: revocation cannot be undone."`
}

type verifyDTO struct {
	Key          string `json:"key" doc:"An API key (kw_ak_...)."`
	ClientID     string `json:"clientId" doc:"A client id (kw_ci_...), with clientSecret."`
	ClientSecret string `json:"clientSecret" doc:"A client secret (kw_cs_...)."`
	API          string `json:"api" doc:"Optional: the API the credential was shown for; a key set not subscribed to it is NOT_SUBSCRIBED."`
}

type verifyResponse struct {
	apiOK
	Valid        bool       `json:"valid"`
	Code         string     `json:"code"`
	Message      string     `json:"message,omitempty" doc:"For MALFORMED: what is wrong, naming the field."`
	KeySet       string     `json:"keySet,omitempty"`
	Application  string     `json:"application,omitempty"`
	Organization string     `json:"organization,omitempty"`
	APIs         []string   `json:"apis" doc:"The APIs the key set authorizes."`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
}
