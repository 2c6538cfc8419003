package handlers

// The key sets area in the REST API (seed 003): organizations and groups,
// applications, policy templates, the API catalog, subscriptions, key sets
// and their lifecycle, and the gateways' credential verification.

import (
	"net/http"

	"github.com/keyward/keyward/internal/keysets"
)

var keySetsAPI = apiResource{
	Tag: openAPITag{Name: "Key Sets", Description: "API credentials (seed 003): organizations and their groups own consumer applications; " +
		"the API catalog lists APIs with their environments, authentication types (API_KEY, CLIENT_CREDENTIALS) and policy template; " +
		"an application's subscription to an API in an environment gets or reuses a key set per authentication type. Key sets hold a chain of keys " +
		"(LATEST is the newest) and move through PENDING, ACTIVE, SUSPENDED, REVOKED and EXPIRED, by hand or on schedule. Durations are Go durations " +
		"plus d for days (90d, 12h); absent or null means none. Values are shown once when issued, then only through Retrieve Credentials (KEY_SETS:MANAGE, audited)."},
	Schemas: []apiComponent{
		{Name: "OrganizationCreate", Type: organizationCreateDTO{}, Required: []string{"name"}},
		{Name: "OrganizationUpdate", Type: organizationUpdateDTO{}},
		{Name: "Organization", Type: organizationDTO{}},
		{Name: "GroupCreate", Type: groupCreateDTO{}, Required: []string{"name"}},
		{Name: "Group", Type: groupDTO{}},
		{Name: "ApplicationCreate", Type: applicationCreateDTO{}, Required: []string{"name", "organization"}},
		{Name: "Application", Type: applicationDTO{}, Docs: map[string]*schema{"status": {Enum: []any{keysets.AppActive, keysets.AppSuspended}}}},
		{Name: "PolicyTemplateCreate", Type: policyTemplateCreateDTO{}, Required: []string{"name"}, Docs: policyDocs},
		{Name: "PolicyTemplate", Type: policyTemplateDTO{}, Docs: policyDocs},
		{Name: "APICreate", Type: apiCreateDTO{}, Required: []string{"name", "environments", "authTypes", "policyTemplate"}, Docs: map[string]*schema{
			"authTypes": arrayOf(&schema{Type: "string", Enum: enumOf(keysets.AuthTypes...)})}},
		{Name: "API", Type: apiDTO{}, Docs: map[string]*schema{"authTypes": arrayOf(&schema{Type: "string", Enum: enumOf(keysets.AuthTypes...)})}},
		{Name: "SubscriptionCreate", Type: subscribeDTO{}, Required: []string{"api", "environment"}},
		{Name: "Subscription", Type: subscriptionDTO{}},
		{Name: "SubscribedKeySet", Type: subscribedKeySetDTO{}, Docs: map[string]*schema{"status": statusDoc, "authType": authTypeDoc}},
		{Name: "Credentials", Type: credentialsDTO{}, Docs: map[string]*schema{
			"key":          {Pattern: "^kw_ak_", Description: "API_KEY: the key."},
			"clientId":     {Pattern: "^kw_ci_", Description: "CLIENT_CREDENTIALS: the client id."},
			"clientSecret": {Pattern: "^kw_cs_", Description: "CLIENT_CREDENTIALS: the client secret."}}},
		{Name: "KeySetSummary", Type: keySetItemDTO{}, Docs: map[string]*schema{"status": statusDoc, "authType": authTypeDoc}},
		{Name: "KeySet", Type: keySetDTO{}, Docs: map[string]*schema{"status": statusDoc, "authType": authTypeDoc}},
		{Name: "KeySetKey", Type: keySetKeyDTO{}},
		{Name: "KeySetEvent", Type: keySetEventDTO{}, Docs: map[string]*schema{
			"type":  {Enum: []any{keysets.EventCreated, keysets.EventProvisioned, keysets.EventActivated, keysets.EventSuspended, keysets.EventRevoked, keysets.EventRegenerated, keysets.EventRotation, keysets.EventExpiration, keysets.EventKeyRetired}},
			"state": {Enum: []any{keysets.StateScheduled, keysets.StateDone, keysets.StateCancelled}}}},
		{Name: "KeySetAction", Type: keySetActionDTO{}, Docs: map[string]*schema{
			"name": {Enum: []any{keysets.ActionActivate, keysets.ActionSuspend, keysets.ActionRegenerate, keysets.ActionRevoke}}}},
		{Name: "KeyCredentials", Type: keyCredentialsDTO{}},
		{Name: "KeySetRevoke", Type: revokeDTO{}, Required: []string{"confirm"}},
		{Name: "CredentialVerify", Type: verifyDTO{}},
		{Name: "CredentialVerdict", Type: verifyResponse{}, Docs: map[string]*schema{"code": {Enum: enumOf(keysets.VerifyCodes...)}}},
	},
	Routes: keySetRoutes(),
}

var (
	statusDoc   = &schema{Enum: enumOf(keysets.Statuses...)}
	authTypeDoc = &schema{Enum: enumOf(keysets.AuthTypes...)}
	durationDoc = func(what string) *schema {
		return &schema{Pattern: `^[0-9]+d([0-9]+h)?([0-9]+m)?$|^[0-9hms.]+$`, Description: what + " A Go duration or days (90d, 12h); absent or null: none.", Example: "90d"}
	}
	policyDocs = map[string]*schema{
		"expiration":  durationDoc("How long a key lives."),
		"rotation":    durationDoc("How often a key is replaced automatically; no longer than the expiration."),
		"gracePeriod": durationDoc("How long the previous key still verifies after a rotation or regeneration; shorter than the rotation."),
	}
)

const (
	ksView   = "KEY_SETS:VIEW"
	ksManage = "KEY_SETS:MANAGE"
	ksDeploy = "KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY"
)

func keySetRoutes() []apiRoute {
	bad, missing, conflict := http.StatusBadRequest, http.StatusNotFound, http.StatusConflict
	name := func(n, desc string) *openAPIParameter {
		return pathParam(n, desc, &schema{Type: "string", Pattern: namePattern})
	}
	project := []*openAPIParameter{projectNameParam}
	org := append(project[:1:1], name("organizationName", "The organization's name."))
	group := append(org[:2:2], name("groupName", "The group's name."))
	app := append(project[:1:1], name("applicationName", "The application's name."))
	sub := append(app[:2:2], pathParam("subscriptionId", "The subscription's id.", &schema{Type: "integer", Format: "int64"}))
	policy := append(project[:1:1], name("policyTemplateName", "The policy template's name."))
	api := append(project[:1:1], name("apiName", "The API's name."))
	ks := append(project[:1:1], name("keySetName", "The key set's name."))
	base := "/apiops/projects/{projectName}"
	r := func(method, path string, h apiHandler, perm, id, summary string, params []*openAPIParameter, errors ...int) apiRoute {
		return apiRoute{Method: method, Path: base + path, Handler: h, Permission: perm, ID: id, Summary: summary, Params: params, Errors: errors}
	}
	listFilters := append(project[:1:1],
		queryParam("status", "Only key sets in this status.", statusDoc.with(&schema{Type: "string"})),
		queryParam("authType", "Only key sets of this authentication type.", authTypeDoc.with(&schema{Type: "string"})),
		queryParam("api", "Only key sets a subscription to this API uses.", &schema{Type: "string"}),
		queryParam("environment", "Only key sets of this environment.", &schema{Type: "string"}),
		queryParam("organization", "Only key sets of this organization's applications.", &schema{Type: "string"}),
		queryParam("group", "Only key sets of applications in this group.", &schema{Type: "string"}),
		queryParam("application", "Only key sets of this application.", &schema{Type: "string"}),
		queryParam("search", "Only key sets whose name or application's name contains this.", &schema{Type: "string"}),
		queryParam("expiresFrom", "Expiring at or after this time (RFC 3339 or a date).", &schema{Type: "string"}),
		queryParam("expiresTo", "Expiring before this time; a date includes that day.", &schema{Type: "string"}),
		queryParam("createdFrom", "Created at or after this time.", &schema{Type: "string"}),
		queryParam("createdTo", "Created before this time; a date includes that day.", &schema{Type: "string"}),
		queryParam("rotatedFrom", "Last rotated or regenerated at or after this time.", &schema{Type: "string"}),
		queryParam("rotatedTo", "Last rotated or regenerated before this time; a date includes that day.", &schema{Type: "string"}))
	listFilters = append(listFilters, pageParams(50, keysets.MaxPageSize)...)
	return []apiRoute{
		r(http.MethodGet, "/organizations/", handle((*Server).handleAPIOrganizationList), ksView, "listOrganizations", "List a project's organizations", project, missing),
		r(http.MethodPost, "/organizations/", handleBody((*Server).handleAPIOrganizationCreate), ksManage, "createOrganization", "Create an organization", project, bad, missing),
		r(http.MethodGet, "/organizations/{organizationName}/", handle((*Server).handleAPIOrganizationGet), ksView, "getOrganization", "Get an organization", org, missing),
		r(http.MethodPut, "/organizations/{organizationName}/", handleBody((*Server).handleAPIOrganizationUpdate), ksManage, "updateOrganization", "Change an organization's description", org, bad, missing),
		r(http.MethodDelete, "/organizations/{organizationName}/", handle((*Server).handleAPIOrganizationDelete), ksManage, "deleteOrganization",
			"Delete an organization that owns no application (with its groups)", org, bad, missing),
		r(http.MethodGet, "/organizations/{organizationName}/groups/", handle((*Server).handleAPIGroupList), ksView, "listGroups", "List an organization's groups", org, missing),
		r(http.MethodPost, "/organizations/{organizationName}/groups/", handleBody((*Server).handleAPIGroupCreate), ksManage, "createGroup", "Add a group to an organization", org, bad, missing),
		r(http.MethodDelete, "/organizations/{organizationName}/groups/{groupName}/", handle((*Server).handleAPIGroupDelete), ksManage, "deleteGroup",
			"Delete a group no application belongs to", group, bad, missing),
		r(http.MethodGet, "/applications/", handle((*Server).handleAPIApplicationList), ksView, "listApplications", "List a project's applications", project, missing),
		r(http.MethodPost, "/applications/", handleBody((*Server).handleAPIApplicationCreate), ksManage, "createApplication", "Create an application", project, bad, missing),
		r(http.MethodGet, "/applications/{applicationName}/", handle((*Server).handleAPIApplicationGet), ksView, "getApplication", "Get an application", app, missing),
		r(http.MethodPut, "/applications/{applicationName}/", handleBody((*Server).handleAPIApplicationUpdate), ksManage, "updateApplication",
			"Change an application's description, organization and group", app, bad, missing),
		r(http.MethodDelete, "/applications/{applicationName}/", handle((*Server).handleAPIApplicationDelete), ksDeploy, "deleteApplication",
			"Delete an application with no subscription; its (revoked) key sets are withdrawn and deleted", app, bad, missing),
		r(http.MethodPost, "/applications/{applicationName}/suspend", handle((*Server).handleAPIApplicationSuspend), ksDeploy, "suspendApplication",
			"Suspend an application and its active key sets", app, missing, conflict),
		r(http.MethodPost, "/applications/{applicationName}/reactivate", handle((*Server).handleAPIApplicationReactivate), ksDeploy, "reactivateApplication",
			"Reactivate an application and the key sets its suspension suspended (not those suspended on their own)", app, missing, conflict),
		r(http.MethodGet, "/applications/{applicationName}/subscriptions/", handle((*Server).handleAPISubscriptionList), ksView, "listSubscriptions",
			"List an application's subscriptions", app, missing),
		withDescription(r(http.MethodPost, "/applications/{applicationName}/subscriptions/", handleBody((*Server).handleAPISubscribe), ksDeploy, "subscribe",
			"Subscribe an application to an API in an environment", app, bad, missing, conflict),
			"For each of the API's authentication types, a key set of the application in that environment, of that type and under the API's policy, "+
				"still valid (not revoked nor expired), is reused; otherwise one is created, named {authType}-{applicationName} (with a suffix when taken). "+
				"The credentials of a created key set are answered this once."),
		r(http.MethodGet, "/applications/{applicationName}/subscriptions/{subscriptionId}/", handle((*Server).handleAPISubscriptionGet), ksView, "getSubscription",
			"Get one subscription of an application", sub, missing),
		withDescription(r(http.MethodDelete, "/applications/{applicationName}/subscriptions/{subscriptionId}/", handle((*Server).handleAPIUnsubscribe), ksDeploy, "unsubscribe",
			"Unsubscribe", sub, missing), "Its key sets lose the API; one that no other subscription uses is revoked (kept, with its timeline). A key set another subscription uses stays as it is."),
		r(http.MethodGet, "/policyTemplates/", handle((*Server).handleAPIPolicyList), ksView, "listPolicyTemplates", "List a project's policy templates", project, missing),
		r(http.MethodPost, "/policyTemplates/", handleBody((*Server).handleAPIPolicyCreate), ksManage, "createPolicyTemplate", "Create a policy template", project, bad, missing),
		r(http.MethodGet, "/policyTemplates/{policyTemplateName}/", handle((*Server).handleAPIPolicyGet), ksView, "getPolicyTemplate", "Get a policy template", policy, missing),
		withDescription(r(http.MethodPut, "/policyTemplates/{policyTemplateName}/", handleBody((*Server).handleAPIPolicyUpdate), ksManage, "updatePolicyTemplate",
			"Replace a policy template's rules", policy, bad, missing), "Keys issued from now on follow the new rules; events already scheduled keep their dates."),
		r(http.MethodDelete, "/policyTemplates/{policyTemplateName}/", handle((*Server).handleAPIPolicyDelete), ksManage, "deletePolicyTemplate",
			"Delete a policy template no API and no key set uses", policy, bad, missing),
		r(http.MethodGet, "/apis/", handle((*Server).handleAPICatalogList), ksView, "listAPIs", "List the project's API catalog", project, missing),
		r(http.MethodPost, "/apis/", handleBody((*Server).handleAPICatalogCreate), ksManage, "createAPI", "Add an API to the catalog", project, bad, missing),
		r(http.MethodGet, "/apis/{apiName}/", handle((*Server).handleAPICatalogGet), ksView, "getAPI", "Get an API with its subscriptions", api, missing),
		withDescription(r(http.MethodPut, "/apis/{apiName}/", handleBody((*Server).handleAPICatalogUpdate), ksManage, "updateAPI",
			"Replace an API's description, environments, authentication types and policy template", api, bad, missing),
			"An environment or authentication type in use by subscriptions cannot be taken away; a new policy applies to key sets created from now on."),
		r(http.MethodDelete, "/apis/{apiName}/", handle((*Server).handleAPICatalogDelete), ksManage, "deleteAPI", "Delete an API no application is subscribed to", api, bad, missing),
		r(http.MethodGet, "/keySets/", handle((*Server).handleAPIKeySetList), ksView, "listKeySets", "List a project's key sets, newest first, with filters", listFilters, bad, missing),
		r(http.MethodGet, "/keySets/{keySetName}/", handle((*Server).handleAPIKeySetGet), ksView, "getKeySet",
			"Get a key set: its keys (LATEST first), timeline, authorized APIs, subscriptions, policy and the actions that apply", ks, missing),
		withDescription(r(http.MethodPost, "/keySets/{keySetName}/credentials", handle((*Server).handleAPIKeySetCredentials), ksManage, "retrieveKeySetCredentials",
			"Retrieve Credentials: the values of the LATEST key and of keys still in their grace period", ks, missing), "Audited. Viewers and auditors never see values."),
		r(http.MethodPost, "/keySets/{keySetName}/activate", handle((*Server).handleAPIKeySetActivate), ksDeploy, "activateKeySet",
			"Activate a PENDING key set, or reactivate a SUSPENDED one", ks, missing, conflict),
		r(http.MethodPost, "/keySets/{keySetName}/suspend", handle((*Server).handleAPIKeySetSuspend), ksDeploy, "suspendKeySet",
			"Suspend an ACTIVE key set: calls with its keys fail", ks, missing, conflict),
		withDescription(r(http.MethodPost, "/keySets/{keySetName}/regenerate", handle((*Server).handleAPIKeySetRegenerate), ksDeploy, "regenerateKeySet",
			"Regenerate the LATEST key, when the policy allows it", append(ks[:2:2], queryParam("key", "The key meant (its seq); it must be LATEST.", &schema{Type: "integer", Format: "int64"})), bad, missing, conflict),
			"The previous key is revoked (after the policy's grace period, if any) and a new key is issued, SUSPENDED when the key set is. Its values are answered this once."),
		r(http.MethodPost, "/keySets/{keySetName}/revoke", handleBody((*Server).handleAPIKeySetRevoke), ksDeploy, "revokeKeySet",
			"Revoke an ACTIVE or SUSPENDED key set for good, confirmed by its name", ks, bad, missing, conflict),
		{Method: http.MethodPost, Path: "/apiops/environments/{environmentName}/credentials/verify", Handler: limitBody(verifyBodyLimit, handleBody((*Server).handleAPIVerify)),
			Permission: "the environment's gateway token", Security: gatewayToken, ID: "verifyCredential", Summary: "Verify a credential a gateway was shown",
			Description: "Send {\"key\"} or {\"clientId\", \"clientSecret\"}, and optionally the \"api\" it was shown for. Answered from memory (no database read); " +
				"a mistyped value is MALFORMED before any lookup; an expired key is refused even if the scheduler is late; a replaced key verifies until the end of its grace period. " +
				"Bodies over 8 KiB are refused (413).",
			Params: []*openAPIParameter{environmentNameParam}},
	}
}

func withDescription(r apiRoute, d string) apiRoute { r.Description = d; return r }
