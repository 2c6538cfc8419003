package views

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/keyward/keyward/internal/keysets"
)

// The "Key Sets" area (seed 003): the Keys list (the seed's Workspace >
// Keys) and each key set's details with its lifecycle actions, the API
// Catalog with Subscribe, and the pages for organizations, applications
// and policy templates. The pages show the service's read models as they
// are; credential values appear only on the answer that issued or
// retrieved them.

// KeySetTabs is the area's tab bar; Active is "keys", "apis",
// "applications", "organizations" or "policies".
type KeySetTabs struct {
	Project, Active string
}

// KeySetListPage is the Keys list: filters on the server, paged.
type KeySetListPage struct {
	Base
	Project string
	Tabs    KeySetTabs
	Filter  Form // the filters as given, with the message beside a bad one
	Items   []keysets.ListItem
	Pager
	Statuses, AuthTypes                             []string
	APIs, Environments, Organizations, Applications []string
	Groups                                          []string // every group name of the project's organizations
}

func (KeySetListPage) Template() string { return "key_sets" }

// Filtered reports whether any filter is set (the empty list says so).
func (p KeySetListPage) Filtered() bool {
	for k, v := range p.Filter.Values {
		if v != "" && k != "page" && k != "size" {
			return true
		}
	}
	return false
}

// KeySetPage is a key set's details: status, authorized APIs and the
// subscriptions behind them, policy, timeline, the keys of the chain, and
// the actions that apply.
type KeySetPage struct {
	Base
	Project   string
	Tabs      KeySetTabs
	KeySet    keysets.Details
	CanManage bool // Retrieve Credentials: KEY_SETS:MANAGE
	CanAct    bool // the lifecycle actions: KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY
	// Shown once: the values retrieved, or the new key's after Regenerate.
	Retrieved   []keysets.KeyCredentials
	Regenerated *keysets.Credentials
	// A refused action: the message, and the revocation's typed name
	// refused (the dialog opens again with it).
	ActionError  string
	ConfirmError string
}

func (KeySetPage) Template() string { return "key_set" }

// Offered are the actions the user may take now, in the seed's order.
func (p KeySetPage) Offered() []keysets.Action {
	var out []keysets.Action
	if !p.CanAct {
		return nil
	}
	for _, a := range p.KeySet.Actions {
		if a.Allowed {
			out = append(out, a)
		}
	}
	return out
}

// Unavailable are the actions that do not apply now, with why, leaving
// out the obvious: Suspend when the key set is not ACTIVE, and Activate
// unless it is PENDING or SUSPENDED (then what stops it is worth saying:
// its application is suspended).
func (p KeySetPage) Unavailable() []keysets.Action {
	var out []keysets.Action
	for _, a := range p.KeySet.Actions {
		switch {
		case a.Allowed, a.Name == keysets.ActionSuspend,
			a.Name == keysets.ActionActivate && p.KeySet.Status != keysets.Pending && p.KeySet.Status != keysets.Suspended:
			continue
		}
		out = append(out, a)
	}
	return out
}

// LatestSeq is the LATEST key's number, the one Regenerate replaces.
func (p KeySetPage) LatestSeq() int64 {
	if len(p.KeySet.Keys) == 0 {
		return 0
	}
	return p.KeySet.Keys[0].Seq
}

// RevokeDialog asks for the key set's name before revoking it.
func (p KeySetPage) RevokeDialog() ConfirmDialog {
	d := ConfirmDialog{ID: "key-set-revoke", Title: "Revoke key set " + p.KeySet.Name, Noun: "key set", Name: p.KeySet.Name,
		Action: "/projects/" + p.Project + "/key-sets/" + p.KeySet.Name + "/revoke", CSRF: p.CSRF,
		Warning: "Revoking disables every key of the set for good: calls with them fail at once, and it cannot be undone.",
		Error:   p.ConfirmError, Open: p.ConfirmError != "",
		Submit: DialogSubmit{ID: "key-set-revoke-confirm", Label: "Revoke Key", Class: "contrast"}}
	for _, a := range p.KeySet.AuthorizedAPIs {
		d.Affected = append(d.Affected, "API "+a+" in "+p.KeySet.Environment)
	}
	if len(d.Affected) > 0 {
		d.AffectedTitle = "Calls it authorizes today:"
	}
	return d
}

// ActionLabel is an action's button, as the seed names it.
func ActionLabel(name string) string {
	switch name {
	case keysets.ActionActivate:
		return "Activate"
	case keysets.ActionSuspend:
		return "Suspend"
	case keysets.ActionRegenerate:
		return "Regenerate Key"
	case keysets.ActionRevoke:
		return "Revoke Key"
	}
	return name
}

// StatusClass is the badge class of a key set or key status.
func StatusClass(status string) string {
	switch status {
	case keysets.Active:
		return "ok"
	case keysets.Suspended, keysets.Pending:
		return "warn"
	case keysets.Revoked, keysets.Expired:
		return "bad"
	}
	return ""
}

// EventTitle names a timeline milestone, in the past tense once done.
func EventTitle(e keysets.Event) string {
	done := e.State == keysets.StateDone
	switch e.Type {
	case keysets.EventCreated:
		return "Created"
	case keysets.EventProvisioned:
		return "Provisioned"
	case keysets.EventActivated:
		return "Activated"
	case keysets.EventSuspended:
		return "Suspended"
	case keysets.EventRevoked:
		return "Revoked"
	case keysets.EventRegenerated:
		return "Regenerated"
	case keysets.EventKeyRetired:
		return "Key retired"
	case keysets.EventRotation:
		if done {
			return "Rotated"
		}
		return "Rotation"
	case keysets.EventExpiration:
		if done {
			return "Expired"
		}
		return "Expiration"
	}
	return e.Type
}

// EventDelay says how a scheduled milestone ran against its date: "on
// time", "3m20s late", or "" for one not scheduled or not run.
func EventDelay(e keysets.Event) string {
	if e.ScheduledAt == nil || e.ActualAt == nil {
		return ""
	}
	if e.Delay < time.Second && e.Delay > -time.Second {
		return "on time"
	}
	if e.Delay < 0 {
		return (-e.Delay).Round(time.Second).String() + " early"
	}
	return e.Delay.Round(time.Second).String() + " late"
}

// PolicyDuration writes a policy duration (seconds, or none).
func PolicyDuration(n sql.NullInt64) string {
	if !n.Valid {
		return "none"
	}
	return keysets.FormatDuration(n.Int64)
}

// DurationValue is a policy duration as its form field holds it ("" for
// none).
func DurationValue(n sql.NullInt64) string {
	if !n.Valid {
		return ""
	}
	return keysets.FormatDuration(n.Int64)
}

// YesNo writes a policy switch.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// SubscriptionAnchor is where a subscription is shown: on its
// application's page.
func SubscriptionAnchor(project string, s keysets.Subscription) string {
	return fmt.Sprintf("/projects/%s/applications/%s#subscription-%d", project, s.Application, s.ID)
}

// APICatalogPage is the API Catalog: the project's APIs, and Create API
// for a manager.
type APICatalogPage struct {
	Base
	Project      string
	Tabs         KeySetTabs
	APIs         []keysets.API
	CanManage    bool
	Form         Form
	Policies     []string
	Environments []string
	AuthTypes    []string
}

func (APICatalogPage) Template() string { return "api_catalog" }

// APIPage is an API's catalog page: authentication types, policy,
// environments and subscribers, Subscribe for an application, and edit
// and delete for a manager.
type APIPage struct {
	Base
	Project      string
	Tabs         KeySetTabs
	API          keysets.API
	Policy       keysets.Policy
	CanManage    bool
	CanSubscribe bool // KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY
	Form         Form // edit
	Policies     []string
	Environments []string
	AuthTypes    []string
	Applications []string
	Subscribe    Form
	Subscribed   *keysets.SubscribeResult // shown once, values included
	DeleteError  string
}

func (APIPage) Template() string { return "api" }

// DeleteDialog asks for the API's name before deleting it.
func (p APIPage) DeleteDialog() ConfirmDialog {
	d := DeleteDialog("api-delete", "API", p.API.Name, "/projects/"+p.Project+"/api-catalog/"+p.API.Name+"/delete", p.CSRF,
		"Deleting removes the API from the catalog; an API with subscriptions cannot be deleted.")
	d.Error, d.Open = p.DeleteError, p.DeleteError != ""
	return d
}

// Checked reports whether a multiple-choice field of the edit form holds v.
func (p APIPage) Checked(field, v string) bool { return formHas(p.Form, field, v) }

// Checked reports whether a multiple-choice field of the create form holds v.
func (p APICatalogPage) Checked(field, v string) bool { return formHas(p.Form, field, v) }

// formHas reports whether a field posted several times (stored joined by
// commas) holds v.
func formHas(f Form, field, v string) bool {
	for _, x := range splitComma(f.Values[field]) {
		if x == v {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// PolicyListPage lists the policy templates, with Create for a manager.
type PolicyListPage struct {
	Base
	Project   string
	Tabs      KeySetTabs
	Policies  []keysets.Policy
	CanManage bool
	Form      Form
}

func (PolicyListPage) Template() string { return "policy_templates" }

// PolicyPage is a policy template: its rules, edit and delete.
type PolicyPage struct {
	Base
	Project     string
	Tabs        KeySetTabs
	Policy      keysets.Policy
	UsedBy      []string // the APIs assigned it
	CanManage   bool
	Form        Form
	DeleteError string
}

func (PolicyPage) Template() string { return "policy_template" }

// DeleteDialog asks for the policy's name before deleting it.
func (p PolicyPage) DeleteDialog() ConfirmDialog {
	d := DeleteDialog("policy-delete", "policy template", p.Policy.Name, "/projects/"+p.Project+"/policy-templates/"+p.Policy.Name+"/delete", p.CSRF,
		"A policy template used by an API or a key set cannot be deleted.")
	d.Error, d.Open = p.DeleteError, p.DeleteError != ""
	return d
}

// OrganizationListPage lists the organizations with their groups.
type OrganizationListPage struct {
	Base
	Project       string
	Tabs          KeySetTabs
	Organizations []keysets.Organization
	CanManage     bool
	Form          Form
}

func (OrganizationListPage) Template() string { return "organizations" }

// OrganizationPage is an organization: its description, groups and
// applications.
type OrganizationPage struct {
	Base
	Project      string
	Tabs         KeySetTabs
	Organization keysets.Organization
	Applications []keysets.Application
	CanManage    bool
	Form         Form // description
	GroupForm    Form
	Error        string // a refused delete (of the organization or a group)
}

func (OrganizationPage) Template() string { return "organization" }

// DeleteDialog asks for the organization's name before deleting it.
func (p OrganizationPage) DeleteDialog() ConfirmDialog {
	return DeleteDialog("organization-delete", "organization", p.Organization.Name, "/projects/"+p.Project+"/organizations/"+p.Organization.Name+"/delete", p.CSRF,
		"Deleting removes the organization and its groups; one that owns applications cannot be deleted.")
}

// ApplicationListPage lists the consumer applications.
type ApplicationListPage struct {
	Base
	Project       string
	Tabs          KeySetTabs
	Applications  []keysets.Application
	CanManage     bool
	Form          Form
	Organizations []keysets.Organization
}

func (ApplicationListPage) Template() string { return "applications" }

// ApplicationPage is an application: owner, status with Suspend or
// Reactivate, its subscriptions (each with its key sets) and key sets.
type ApplicationPage struct {
	Base
	Project       string
	Tabs          KeySetTabs
	Application   keysets.Application
	Subscriptions []keysets.Subscription
	KeySets       []keysets.ListItem
	CanManage     bool
	CanDeploy     bool // suspend, reactivate, unsubscribe, delete
	Form          Form
	Organizations []keysets.Organization
	Error         string // a refused action
}

func (ApplicationPage) Template() string { return "application" }

// DeleteDialog asks for the application's name before deleting it.
func (p ApplicationPage) DeleteDialog() ConfirmDialog {
	return DeleteDialog("application-delete", "application", p.Application.Name, "/projects/"+p.Project+"/applications/"+p.Application.Name+"/delete", p.CSRF,
		"Deleting removes the application and its revoked key sets; one with subscriptions cannot be deleted.")
}
