package views

import (
	"strconv"
	"strings"
	"time"
)

// NotificationsPage is a project's expiry alerts: its channels, its rules
// and the delivery history. Forms are shown to those who may change them.
type NotificationsPage struct {
	Base
	Project     string
	CanManage   bool
	Kinds       []string
	Types       []Option // the object types a rule may watch
	Channels    []ChannelRow
	Rules       []RuleRow
	NewChannel  ChannelForm
	NewRule     RuleForm
	Deliveries  []DeliveryRow
	Page, Pages int
	// NewSecret is a WEBHOOK channel's signing secret, shown once, and the
	// channel it belongs to.
	NewSecret, NewSecretFor string
}

func (NotificationsPage) Template() string { return "notifications" }

// ChannelRow is one channel with its edit form.
type ChannelRow struct {
	ID        int64
	Name      string
	Kind      string
	URL       string
	Enabled   bool
	HasSecret bool
	Edit      ChannelForm
}

// ChannelForm is the add or edit form of a channel; Open shows a refused
// edit form with its errors.
type ChannelForm struct {
	ID      int64 // 0 for the add form
	Name    string
	Kind    string
	URL     string
	Enabled bool
	Open    bool
	Form    Form
}

// Action is where the form posts.
func (f ChannelForm) Action(project string) string {
	if f.ID == 0 {
		return "/projects/" + project + "/notifications/channels"
	}
	return "/projects/" + project + "/notifications/channels/" + strconv.FormatInt(f.ID, 10)
}

// RuleRow is one rule with its edit form.
type RuleRow struct {
	ID         int64
	Name       string
	Types      []string // labels; empty = every type
	Thresholds string
	Channels   []string
	Enabled    bool
	Edit       RuleForm
}

// RuleForm is the add or edit form of a rule.
type RuleForm struct {
	ID         int64
	Name       string
	Types      []string // values
	Thresholds string   // "30, 14, 7, 1, 0"
	Channels   []string
	Enabled    bool
	Open       bool
	Form       Form
}

// Action is where the form posts.
func (f RuleForm) Action(project string) string {
	if f.ID == 0 {
		return "/projects/" + project + "/notifications/rules"
	}
	return "/projects/" + project + "/notifications/rules/" + strconv.FormatInt(f.ID, 10)
}

// FormID is the form's element id.
func (f RuleForm) FormID() string {
	if f.ID == 0 {
		return "rule-create"
	}
	return "rule-edit-" + strconv.FormatInt(f.ID, 10)
}

// FormID is the form's element id.
func (f ChannelForm) FormID() string {
	if f.ID == 0 {
		return "channel-create"
	}
	return "channel-edit-" + strconv.FormatInt(f.ID, 10)
}

// ThresholdText formats thresholds for the form.
func ThresholdText(ts []int) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = strconv.Itoa(t)
	}
	return strings.Join(s, ", ")
}

// ChannelDeleteDialog asks for the channel's name before deleting it.
func (p NotificationsPage) ChannelDeleteDialog(c ChannelRow) ConfirmDialog {
	return DeleteDialog("channel-delete-"+strconv.FormatInt(c.ID, 10), "channel", c.Name,
		"/projects/"+p.Project+"/notifications/channels/"+strconv.FormatInt(c.ID, 10)+"/delete", p.CSRF,
		"Rules stop sending to "+c.Name+"; the delivery history keeps its deliveries.")
}

// RuleDeleteDialog asks for the rule's name before deleting it.
func (p NotificationsPage) RuleDeleteDialog(r RuleRow) ConfirmDialog {
	return DeleteDialog("rule-delete-"+strconv.FormatInt(r.ID, 10), "rule", r.Name,
		"/projects/"+p.Project+"/notifications/rules/"+strconv.FormatInt(r.ID, 10)+"/delete", p.CSRF,
		"The rule forgets which alerts it sent; the delivery history keeps them.")
}

// DeliveryRow is one entry of the delivery history.
type DeliveryRow struct {
	At          time.Time
	Channel     string
	Rule        string // "" for a test
	Summary     string
	Threshold   int
	Status      string
	Attempts    int
	StatusCode  int
	Error       string
	NextAttempt time.Time
}

// StatusClass is the badge colour of a delivery status.
func (d DeliveryRow) StatusClass() string {
	switch d.Status {
	case "delivered":
		return "ok"
	case "failed":
		return "bad"
	}
	return "warn"
}

// NotificationTestPage is the result of "Send test notification", swapped
// in beside the channel's button.
type NotificationTestPage struct {
	Base
	Delivery DeliveryRow
}

func (NotificationTestPage) Template() string { return "notification_test_result" }
