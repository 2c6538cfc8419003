package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/randtoken"
	"github.com/keyward/keyward/queries"
)

// Channel kinds.
const (
	// Webhook is a JSON POST of the Payload, signed with the channel's
	// secret as environment webhooks are (deploy.SignatureHeader).
	Webhook = "WEBHOOK"
	// Slack is a Slack-compatible incoming webhook: {"text": ..., "blocks": [...]}.
	Slack = "SLACK"
)

// Kinds lists the channel kinds.
var Kinds = []string{Webhook, Slack}

// Channel is a notification channel as users see it: a Slack URL is its
// credential, so only its scheme and host are shown.
type Channel struct {
	ID        int64
	Name      string
	Kind      string
	URL       string
	Enabled   bool
	HasSecret bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SavedChannel is a created or changed channel with its new signing secret,
// shown once (WEBHOOK channels, on creation or rotation).
type SavedChannel struct {
	Channel
	Secret string
}

// ChannelInput is what a user gives to create or change a channel.
type ChannelInput struct {
	Name    string
	Kind    string
	URL     string // on a change, "" keeps the stored URL
	Enabled bool
	// RotateSecret generates a new signing secret (WEBHOOK).
	RotateSecret bool
}

func toChannel(c queries.NotificationChannel) Channel {
	return Channel{ID: c.ID, Name: c.Name, Kind: c.Kind, URL: displayURL(c.Kind, c.Url), Enabled: c.Enabled,
		HasSecret: len(c.Secret) > 0, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// displayURL hides the path of a Slack incoming-webhook URL, which is the
// credential that lets anyone post to the workspace.
func displayURL(kind, raw string) string {
	if kind != Slack {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// secretAAD binds a sealed channel secret to its row.
func secretAAD(id int64) string { return fmt.Sprintf("notification-channel/%d/secret", id) }

// validate checks and normalises in; keepURL allows an empty URL (a change
// that keeps the stored one).
func (in *ChannelInput) validate(keepURL bool) error {
	in.Name, in.Kind, in.URL = strings.TrimSpace(in.Name), strings.ToUpper(strings.TrimSpace(in.Kind)), strings.TrimSpace(in.URL)
	if err := names.Validate("name", "Channel", in.Name); err != nil {
		return err
	}
	if in.Kind != Webhook && in.Kind != Slack {
		return errs.FieldErrorf("kind", "Kind %q is not one of %s.", in.Kind, strings.Join(Kinds, ", "))
	}
	if in.URL == "" && keepURL {
		return nil
	}
	if in.URL == "" {
		return errs.FieldErrorf("url", "The channel's URL is required.")
	}
	return environments.ValidateWebhookURL("url", in.URL)
}

// loadChannel returns the project's channel id, or NotFound.
func loadChannel(ctx context.Context, q *queries.Queries, pr queries.Project, id int64) (queries.NotificationChannel, error) {
	c, err := q.GetNotificationChannel(ctx, queries.GetNotificationChannelParams{ProjectID: pr.ID, ID: id})
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.Errorf(errs.NotFound, "Project %q has no notification channel %d.", pr.Name, id)
	}
	return c, err
}

// ListChannels returns the project's channels by name.
func (s *Service) ListChannels(ctx context.Context, p access.Principal, project string) ([]Channel, error) {
	out := []Channel{}
	err := s.read(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		rows, err := q.ListNotificationChannels(ctx, pr.ID)
		for _, c := range rows {
			out = append(out, toChannel(c))
		}
		return err
	})
	return out, err
}

// GetChannel returns one channel.
func (s *Service) GetChannel(ctx context.Context, p access.Principal, project string, id int64) (Channel, error) {
	var out Channel
	err := s.read(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		c, err := loadChannel(ctx, q, pr, id)
		out = toChannel(c)
		return err
	})
	return out, err
}

// CreateChannel creates a channel; a WEBHOOK channel gets a random signing
// secret, sealed, returned once.
func (s *Service) CreateChannel(ctx context.Context, p access.Principal, project string, in ChannelInput) (SavedChannel, error) {
	var out SavedChannel
	err := s.write(ctx, p, project, "notification_channel.create", channelObject(in.Name), func(q *queries.Queries, pr queries.Project) error {
		if err := in.validate(false); err != nil {
			return err
		}
		if _, err := q.GetNotificationChannelByName(ctx, queries.GetNotificationChannelByNameParams{ProjectID: pr.ID, Name: in.Name}); err == nil {
			return errs.FieldErrorf("name", "A notification channel named %q already exists in project %q.", in.Name, project)
		}
		now := s.clock.Now()
		c, err := q.CreateNotificationChannel(ctx, queries.CreateNotificationChannelParams{ProjectID: pr.ID, Name: in.Name, Kind: in.Kind,
			Url: in.URL, Enabled: in.Enabled, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		if in.Kind == Webhook {
			if c, out.Secret, err = s.newSecret(ctx, q, c); err != nil {
				return err
			}
		}
		out.Channel = toChannel(c)
		return s.audit.Append(ctx, q, entry(p, "notification_channel.create", project, channelObject(in.Name), in.Kind+" "+displayURL(in.Kind, in.URL)))
	})
	return out, err
}

// newSecret generates, seals and stores a new signing secret for c, as an
// environment's webhook secret is made.
func (s *Service) newSecret(ctx context.Context, q *queries.Queries, c queries.NotificationChannel) (queries.NotificationChannel, string, error) {
	secret := "whsec_" + randtoken.New(32)
	sealed, err := s.sealer.Seal(secretAAD(c.ID), []byte(secret))
	if err != nil {
		return c, "", err
	}
	c.Secret = sealed
	return c, secret, s.saveChannel(ctx, q, c)
}

func (s *Service) saveChannel(ctx context.Context, q *queries.Queries, c queries.NotificationChannel) error {
	return q.UpdateNotificationChannel(ctx, queries.UpdateNotificationChannelParams{Name: c.Name, Kind: c.Kind, Url: c.Url,
		Secret: c.Secret, Enabled: c.Enabled, UpdatedAt: s.clock.Now(), ID: c.ID})
}

// UpdateChannel changes a channel. A channel that becomes a WEBHOOK, or
// asks for it, gets a new secret (returned once); a SLACK channel has none.
func (s *Service) UpdateChannel(ctx context.Context, p access.Principal, project string, id int64, in ChannelInput) (SavedChannel, error) {
	var out SavedChannel
	err := s.write(ctx, p, project, "notification_channel.update", channelObject(in.Name), func(q *queries.Queries, pr queries.Project) error {
		c, err := loadChannel(ctx, q, pr, id)
		if err != nil {
			return err
		}
		if err := in.validate(true); err != nil {
			return err
		}
		if in.URL == "" && in.Kind != c.Kind {
			return errs.FieldErrorf("url", "Give the URL again when the channel's kind changes.")
		}
		if other, err := q.GetNotificationChannelByName(ctx, queries.GetNotificationChannelByNameParams{ProjectID: pr.ID, Name: in.Name}); err == nil && other.ID != c.ID {
			return errs.FieldErrorf("name", "A notification channel named %q already exists in project %q.", in.Name, project)
		}
		detail := ""
		if in.Name != c.Name {
			detail = "renamed from " + c.Name
		}
		c.Name, c.Kind, c.Enabled = in.Name, in.Kind, in.Enabled
		if in.URL != "" {
			c.Url = in.URL
		}
		if c.Kind == Slack {
			c.Secret = nil
		}
		if err := s.saveChannel(ctx, q, c); err != nil {
			return err
		}
		if c.Kind == Webhook && (in.RotateSecret || len(c.Secret) == 0) {
			if c, out.Secret, err = s.newSecret(ctx, q, c); err != nil {
				return err
			}
			detail = strings.TrimPrefix(detail+"; signing secret rotated", "; ")
		}
		out.Channel = toChannel(c)
		return s.audit.Append(ctx, q, entry(p, "notification_channel.update", project, channelObject(c.Name), detail))
	})
	return out, err
}

// DeleteChannel deletes a channel; rules stop sending to it, the delivery
// history keeps its name.
func (s *Service) DeleteChannel(ctx context.Context, p access.Principal, project string, id int64) error {
	return s.write(ctx, p, project, "notification_channel.delete", fmt.Sprintf("notification_channel/%d", id), func(q *queries.Queries, pr queries.Project) error {
		c, err := loadChannel(ctx, q, pr, id)
		if err != nil {
			return err
		}
		if err := q.DeleteNotificationChannel(ctx, c.ID); err != nil {
			return err
		}
		return s.audit.Append(ctx, q, entry(p, "notification_channel.delete", project, channelObject(c.Name), ""))
	})
}
