package views

import (
	"strings"
	"time"
)

// Signer aliases: a named signer (payments-token) that signs with its
// active key and is rotated in stages. The Signing Keys list shows them in
// their own section; each has a page with its timeline and the Rotate form.

// SignerKey names a signing key the way the alias pages show it.
type SignerKey struct {
	Label string
	CkaID string
}

// SignerStep is one step of an alias's timeline: a key published in its
// environments' JWKS, the alias switched to it, or a key retired from the
// JWKS. A step not done yet is scheduled.
type SignerStep struct {
	Kind   string // "publish", "activate" or "retire"
	Key    SignerKey
	DueAt  time.Time
	DoneAt time.Time // zero while scheduled
	Detail string
}

// Done reports whether the step has run.
func (s SignerStep) Done() bool { return !s.DoneAt.IsZero() }

// Late reports whether the step ran more than a minute after its time
// (the server was stopped, say); its detail says by how much.
func (s SignerStep) Late() bool { return s.Done() && s.DoneAt.Sub(s.DueAt) > time.Minute }

// Title is what the step does, in the past tense once done.
func (s SignerStep) Title() string {
	done := s.Done()
	switch s.Kind {
	case "publish":
		if done {
			return "Published"
		}
		return "Publish"
	case "activate":
		if done {
			return "Activated"
		}
		return "Activate"
	case "retire":
		if done {
			return "Retired"
		}
		return "Retire"
	}
	return s.Kind
}

// Sentence says what the step does for verifiers and signers, in the past
// tense once done; the first step of an alias is its creation.
func (s SignerStep) Sentence() string {
	done := s.Done()
	switch {
	case s.Kind == "activate" && strings.HasPrefix(s.Detail, "created with"):
		return "the alias was created signing with it"
	case s.Kind == "publish" && done:
		return "entered the JWKS: verifiers can fetch it"
	case s.Kind == "publish":
		return "enters the JWKS, so verifiers can fetch it before the switch"
	case s.Kind == "activate" && done:
		return "the alias switched to it: it signs the alias's tokens from then on"
	case s.Kind == "activate":
		return "the alias switches to it: it signs the alias's tokens from then on"
	case s.Kind == "retire" && done:
		return "left the JWKS"
	case s.Kind == "retire":
		return "leaves the JWKS, once the tokens it signed have expired"
	}
	return s.Detail
}

// Lateness is how long after its time a late step ran, as the forms write
// durations (15m20s).
func (s SignerStep) Lateness() string { return Duration(s.DoneAt.Sub(s.DueAt).Round(time.Second)) }

// SignerRow is an alias in the list and at the top of its page.
type SignerRow struct {
	Name         string
	ActiveKey    SignerKey
	Environments []string
	LeadTime     time.Duration
	Retention    time.Duration
	Next         *SignerStep // the next step of a pending rotation
}

// Lead is the lead time as the forms write it.
func (r SignerRow) Lead() string { return Duration(r.LeadTime) }

// Keep is the retention as the forms write it.
func (r SignerRow) Keep() string { return Duration(r.Retention) }

// Duration writes d as the forms take it: 24h, 90m, 1h30m, 0s.
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// SignerFormPage is Create signer alias: its name, the key it signs with,
// the environments whose JWKS carry its keys, the lead time and the
// retention.
type SignerFormPage struct {
	Base
	Project      string
	Form         Form
	Keys         []SignerKey
	Environments []string
	Chosen       []string // the environments ticked
}

func (SignerFormPage) Template() string { return "signer_form" }

// Ticked reports whether the environment's box is ticked.
func (p SignerFormPage) Ticked(env string) bool {
	for _, e := range p.Chosen {
		if e == env {
			return true
		}
	}
	return false
}

// DatetimeLocal is the layout of a datetime-local input, read as UTC.
const DatetimeLocal = "2006-01-02T15:04"

// RotationPlan is when a rotation's steps happen if the alias switches at
// ActivateAt: the next key is published LeadTime before (at once when that
// is already past), the old key leaves the JWKS Retention after. Without a
// time the alias switches lead time from when the rotation is scheduled;
// the plan shows that time as of Now, the server's clock when the page was
// made.
type RotationPlan struct {
	Project    string
	Signer     string
	Now        time.Time
	ActivateAt time.Time // zero: lead time from now
	LeadTime   time.Duration
	Retention  time.Duration
	Error      string // the time given could not be read
}

// Lead and Keep are the lead time and the retention as the forms write them.
func (p RotationPlan) Lead() string { return Duration(p.LeadTime) }

// Keep is the retention as the forms write it.
func (p RotationPlan) Keep() string { return Duration(p.Retention) }

// DefaultActivateAt is when the alias switches if the time is left empty
// and the rotation is scheduled now: as soon as the lead time allows.
func (p RotationPlan) DefaultActivateAt() time.Time { return p.Now.Add(p.LeadTime) }

// At is the switch: the time chosen, or else DefaultActivateAt.
func (p RotationPlan) At() time.Time {
	if p.ActivateAt.IsZero() {
		return p.DefaultActivateAt()
	}
	return p.ActivateAt
}

// Past reports whether the time chosen is before Now: Rotate refuses it.
func (p RotationPlan) Past() bool { return !p.ActivateAt.IsZero() && p.ActivateAt.Before(p.Now) }

// PublishAt is when the next key enters the JWKS: lead time before the
// switch, or at once when that is past.
func (p RotationPlan) PublishAt() time.Time {
	if at := p.At().Add(-p.LeadTime); at.After(p.Now) {
		return at
	}
	return p.Now
}

// PublishesAtOnce reports whether the next key enters the JWKS as soon as
// the rotation is scheduled.
func (p RotationPlan) PublishesAtOnce() bool { return !p.At().Add(-p.LeadTime).After(p.Now) }

// Short reports whether the time chosen leaves verifiers less than the lead
// time to fetch the next key.
func (p RotationPlan) Short() bool { return !p.ActivateAt.IsZero() && p.At().Sub(p.Now) < p.LeadTime }

// RetireAt is when the old key leaves the JWKS.
func (p RotationPlan) RetireAt() time.Time { return p.At().Add(p.Retention) }

// SignerPage is an alias: its active key, environments and timeline, the
// Rotate form and how to sign with it.
type SignerPage struct {
	Base
	Project   string
	Signer    SignerRow
	CreatedAt time.Time
	Steps     []SignerStep
	CanDeploy bool        // rotate: MANAGE and DEPLOY_UNDEPLOY
	NextKeys  []SignerKey // the project's other keys, for Rotate
	Rotate    Form
	Plan      RotationPlan
	SignURL   string
}

func (SignerPage) Template() string { return "signer" }

// Rotating reports whether a rotation is under way: Rotate waits for it.
func (p SignerPage) Rotating() bool { return p.Signer.Next != nil }

// SignExample is the API call that signs a JWT with the alias's active key.
func (p SignerPage) SignExample() string {
	return "curl -X POST " + p.SignURL + " \\\n" +
		"  -H \"Authorization: Bearer $KEYWARD_TOKEN\" -H 'Content-Type: application/json' \\\n" +
		`  -d '{"claims": {"sub": "client-42", "aud": "payments"}, "expiresIn": "10m"}'`
}

// RotationPlanPage is the Rotate form's plan answered alone, for htmx to
// swap in as the time is chosen.
type RotationPlanPage struct {
	Base
	Plan RotationPlan
}

func (RotationPlanPage) Template() string { return "signer_plan" }
