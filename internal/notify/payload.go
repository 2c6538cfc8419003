package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/expiry"
)

// Events a payload announces.
const (
	EventAlert = "expiry.alert"
	EventTest  = "expiry.test"
)

// Payload is the JSON body a WEBHOOK channel receives (and what a SLACK
// message says). It names the object and its end date, never a secret.
type Payload struct {
	Event       string    `json:"event"`
	Project     string    `json:"project"`
	Rule        string    `json:"rule"`
	Type        string    `json:"type"`
	TypeLabel   string    `json:"typeLabel"`
	Name        string    `json:"name"`
	Environment string    `json:"environment"`
	Detail      string    `json:"detail"`
	Date        time.Time `json:"date"`
	DaysLeft    int       `json:"daysLeft"`
	Threshold   int       `json:"threshold"`
	Status      string    `json:"status"`
	Link        string    `json:"link"`
	Next        string    `json:"next"`
	SentAt      time.Time `json:"sentAt"`
}

// payloadOf builds the alert for it, crossed at threshold, as of now.
func (s *Service) payloadOf(event, project, rule string, it expiry.Item, threshold int, now time.Time) Payload {
	return Payload{Event: event, Project: project, Rule: rule, Type: string(it.Type), TypeLabel: it.Type.Label(), Name: it.Name,
		Environment: it.Environment, Detail: it.Detail, Date: it.At, DaysLeft: it.DaysLeft, Threshold: threshold, Status: it.Status,
		Link: s.baseURL + it.Link, Next: it.Next, SentAt: now}
}

// samplePayload is what "Send test notification" sends: a made-up
// certificate ending in 7 days.
func (s *Service) samplePayload(project string, now time.Time) Payload {
	it := expiry.Describe(expiry.Item{Type: expiry.Certificate, Project: project, Environment: "production", Name: "example-certificate",
		Detail: "CN=example.com", At: now.Add(7*24*time.Hour + time.Minute)}, now)
	p := s.payloadOf(EventTest, project, "", it, 7, now)
	p.Link = s.baseURL + "/projects/" + project + "/notifications"
	p.Next = "This is a test notification from Keyward: nothing expires. " + it.Next
	return p
}

// slackMessage is a Slack-compatible incoming-webhook body.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackEscape escapes the characters Slack's mrkdwn gives a meaning to.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Summary is the payload in one line, as Slack shows it.
func (p Payload) Summary() string {
	where := p.Project
	if p.Environment != "" {
		where += " / " + p.Environment
	}
	when := fmt.Sprintf("%s left", days(p.DaysLeft))
	if p.Status == expiry.Expired {
		when = "ended"
		if p.DaysLeft < -1 {
			when = fmt.Sprintf("ended %s ago", days(-p.DaysLeft-1))
		}
	}
	prefix := ""
	if p.Event == EventTest {
		prefix = "[test] "
	}
	return fmt.Sprintf("%s%s %s (%s): %s, on %s", prefix, p.TypeLabel, p.Name, where, when, p.Date.UTC().Format("2006-01-02 15:04 UTC"))
}

// slackBody renders p for a SLACK channel.
func slackBody(p Payload) []byte {
	icon := ":warning:"
	if p.Status == expiry.Expired {
		icon = ":rotating_light:"
	}
	text := icon + " " + slackEscape.Replace(p.Summary())
	threshold := "on expiry"
	if p.Threshold > 0 {
		threshold = days(p.Threshold) + " before"
	}
	detail := fmt.Sprintf("%s *%s* %s\n%s\nAlert: %s (rule %s). <%s|Open in Keyward>", icon, slackEscape.Replace(p.TypeLabel),
		slackEscape.Replace(p.Name), slackEscape.Replace(strings.TrimPrefix(p.Summary(), "[test] ")), threshold, slackEscape.Replace(p.Rule), p.Link)
	detail += "\n" + slackEscape.Replace(p.Next)
	b, _ := json.Marshal(slackMessage{Text: text, Blocks: []slackBlock{{Type: "section", Text: slackText{Type: "mrkdwn", Text: detail}}}})
	return b
}
