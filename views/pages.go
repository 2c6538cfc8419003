package views

import "time"

// ErrorPage shows a failed request: not found, forbidden, internal error.
type ErrorPage struct {
	Base
	Status  int
	Heading string
	Message string
}

func (ErrorPage) Template() string { return "error" }

// SetupPage is the first-admin form behind the one-time setup link.
type SetupPage struct {
	Base
	Token string
	Form  Form
}

func (SetupPage) Template() string { return "setup" }

// LoginPage is the sign-in form.
type LoginPage struct {
	Base
	Next       string
	Form       Form
	NeedsSetup bool // no user exists yet: point to the setup link
}

func (LoginPage) Template() string { return "login" }

// ProjectListPage lists the projects the user can see; admins get the
// create form.
type ProjectListPage struct {
	Base
	Projects []ProjectRow
	Form     Form
}

func (ProjectListPage) Template() string { return "projects" }

// ProjectRow is one project in a list.
type ProjectRow struct {
	Name        string
	Description string
	Permissions []string
	CreatedAt   time.Time
}

// ProjectPage shows one project: description, members and the admin forms.
type ProjectPage struct {
	Base
	Name           string
	Description    string
	CreatedAt      time.Time
	MyPermissions  []string
	Members        []MemberRow
	AllPermissions []string
	Presets        []string
	Users          []string // for the add-member form (admins)
	Form           Form     // the member form
	DescForm       Form
	DeleteForm     Form
}

func (ProjectPage) Template() string { return "project" }

// MemberRow is one project member.
type MemberRow struct {
	Username    string
	Permissions []string
}

// EnvironmentListPage lists environments; admins get the create form and,
// right after creating one with a webhook, its secret once.
type EnvironmentListPage struct {
	Base
	Environments []EnvironmentRow
	Form         Form
}

func (EnvironmentListPage) Template() string { return "environments" }

// EnvironmentRow is one environment in a list.
type EnvironmentRow struct {
	Name        string
	Description string
	Revision    int64
	WebhookURL  string
	UpdatedAt   time.Time
}

// EnvironmentPage shows an environment, its revision and deployment history.
type EnvironmentPage struct {
	Base
	Env         EnvironmentRow
	HasWebhook  bool
	NewSecret   string // shown once after creation or rotation
	Deployments []DeploymentRow
	Page, Pages int
	Form        Form
	// Gateway tokens (admins): the list, a token just created (shown once)
	// and the create form.
	GatewayTokens []TokenRow
	NewGatewayTok string
	GatewayForm   Form
	BundleURL     string
}

func (EnvironmentPage) Template() string { return "environment" }

// DeploymentRow is one entry of an environment's history.
type DeploymentRow struct {
	Revision      int64
	At            time.Time
	Actor         string
	Action        string
	Project       string
	Object        string
	Success       bool
	Message       string
	WebhookStatus string
}

// UserListPage is the admin's user list with the create form.
type UserListPage struct {
	Base
	Users []UserRow
	Form  Form
}

func (UserListPage) Template() string { return "users" }

// UserRow is one user.
type UserRow struct {
	Username  string
	Admin     bool
	Disabled  bool
	CreatedAt time.Time
}

// UserPage lets an admin disable, reset the password of, or promote a user.
type UserPage struct {
	Base
	User UserRow
	Self bool
	Form Form // the reset-password form
}

func (UserPage) Template() string { return "user" }

// AccountPage is the signed-in user's own page: password and API tokens.
type AccountPage struct {
	Base
	Tokens       []TokenRow
	NewToken     string // the value of a token just created, shown once
	NewTokenName string
	TokenForm    Form
	PasswordForm Form
	APIBase      string
}

func (AccountPage) Template() string { return "account" }

// TokenRow is one Personal API Access Token (never its value).
type TokenRow struct {
	ID        int64
	Name      string
	Prefix    string
	CreatedAt time.Time
	ExpiresAt time.Time
	LastUsed  time.Time
	Revoked   bool
	Expired   bool
}
