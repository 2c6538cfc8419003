package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/queries"
)

// Alert statuses.
const (
	AlertSent    = "sent"
	AlertSkipped = "skipped"
)

// Delivery statuses.
const (
	Pending   = "pending" // waiting for its next attempt
	Delivered = "delivered"
	Failed    = "failed" // gave up
)

// Schedule runs RunDue now and then every minute of the clock until ctx
// ends (the app cancels it on Close; an attempt under way ends then and its
// delivery stays pending for the next start).
func (s *Service) Schedule(ctx context.Context, log func(error)) {
	for {
		if err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			log(err)
		}
		if !s.clock.Sleep(ctx, time.Minute) {
			return
		}
	}
}

// RunDue records the alerts every enabled rule's objects are due for, then
// makes the delivery attempts that are due (new alerts' first attempts and
// failed ones' retries).
func (s *Service) RunDue(ctx context.Context) error {
	now := s.clock.Now()
	rules, err := s.db.Queries().ListEnabledNotificationRules(ctx)
	if err != nil {
		return fmt.Errorf("notification rules: %w", err)
	}
	var problems []error
	for _, r := range rules {
		if err := s.evaluate(ctx, r, now); err != nil {
			problems = append(problems, fmt.Errorf("notification rule %q of project %q: %w", r.Name, r.ProjectName, err))
		}
	}
	if err := s.deliverDue(ctx); err != nil {
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

// evaluate records, in one transaction, the alerts rule r owes: for every
// object of its project and types, the thresholds it crossed (the end date
// is at most that many days away) that were not yet recorded for this end
// date. Only the smallest threshold crossed is sent; larger ones crossed at
// the same time are recorded as skipped, so that a new rule sends one alert
// per object, not one per threshold.
func (s *Service) evaluate(ctx context.Context, r queries.ListEnabledNotificationRulesRow, now time.Time) error {
	thresholds := decodeInts(r.Thresholds)
	if len(thresholds) == 0 {
		return nil
	}
	var types []expiry.Type
	for _, t := range decodeTypes(r.Types) {
		types = append(types, expiry.Type(t))
	}
	items, err := s.expiry.Due(ctx, r.ProjectID, types, now.Add(time.Duration(slices.Max(thresholds))*24*time.Hour), now)
	if err != nil || len(items) == 0 {
		return err
	}
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		all, err := q.ListNotificationRuleChannels(ctx, r.ID)
		if err != nil {
			return err
		}
		var channels []queries.NotificationChannel
		for _, c := range all {
			if c.Enabled {
				channels = append(channels, c)
			}
		}
		if len(channels) == 0 {
			return nil // nothing to send to: the alerts wait for a channel
		}
		for _, it := range items {
			if err := s.alert(ctx, q, r, channels, thresholds, it, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// alert records it's alerts for rule r and queues the sent one's deliveries.
func (s *Service) alert(ctx context.Context, q *queries.Queries, r queries.ListEnabledNotificationRulesRow, channels []queries.NotificationChannel,
	thresholds []int, it expiry.Item, now time.Time) error {
	rows, err := q.ListNotificationAlertsForObject(ctx, queries.ListNotificationAlertsForObjectParams{RuleID: r.ID, ObjectType: string(it.Type), SourceID: it.ID})
	if err != nil {
		return err
	}
	recorded := map[int]bool{}
	for _, row := range rows {
		if row.ObjectAt.Equal(it.At) {
			recorded[int(row.Threshold)] = true
		}
	}
	var crossed []int
	for _, t := range thresholds {
		if it.At.Sub(now) <= time.Duration(t)*24*time.Hour {
			crossed = append(crossed, t)
		}
	}
	if len(crossed) == 0 {
		return nil
	}
	smallest := slices.Min(crossed)
	for _, t := range crossed {
		if recorded[t] {
			continue
		}
		status := AlertSkipped
		if t == smallest {
			status = AlertSent
		}
		id, err := q.CreateNotificationAlert(ctx, queries.CreateNotificationAlertParams{RuleID: r.ID, ObjectType: string(it.Type),
			SourceID: it.ID, ObjectAt: it.At, Threshold: int64(t), Status: status, CreatedAt: now})
		if err != nil {
			return fmt.Errorf("record alert: %w", err)
		}
		if status != AlertSent {
			continue
		}
		body, err := json.Marshal(s.payloadOf(EventAlert, r.ProjectName, r.Name, it, t, now))
		if err != nil {
			return err
		}
		for _, c := range channels {
			if _, err := q.CreateNotificationDelivery(ctx, queries.CreateNotificationDeliveryParams{ProjectID: r.ProjectID,
				AlertID: sql.NullInt64{Int64: id, Valid: true}, ChannelID: sql.NullInt64{Int64: c.ID, Valid: true}, ChannelName: c.Name,
				RuleName: r.Name, ObjectType: string(it.Type), ObjectName: it.Name, Environment: it.Environment,
				Threshold: sql.NullInt64{Int64: int64(t), Valid: true}, Payload: string(body), Status: Pending, CreatedAt: now,
				NextAttemptAt: sql.NullTime{Time: now, Valid: true}}); err != nil {
				return fmt.Errorf("queue delivery: %w", err)
			}
		}
	}
	return nil
}

// deliverDue makes every due attempt, one after the other.
func (s *Service) deliverDue(ctx context.Context) error {
	due, err := s.db.Queries().ListDueNotificationDeliveries(ctx, sql.NullTime{Time: s.clock.Now(), Valid: true})
	if err != nil {
		return fmt.Errorf("due deliveries: %w", err)
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return nil
		}
		if _, err := s.attempt(ctx, d, true); err != nil {
			return fmt.Errorf("delivery %d: %w", d.ID, err)
		}
	}
	return nil
}

// attempt sends d once and records the attempt: delivered on a 2xx answer;
// otherwise, when retry allows and attempts remain, pending again after the
// next backoff, else failed. An attempt cut short by ctx (Keyward closing)
// is not counted and leaves d pending.
func (s *Service) attempt(ctx context.Context, d queries.NotificationDelivery, retry bool) (queries.NotificationDelivery, error) {
	code, sendErr := s.send(ctx, d)
	if ctx.Err() != nil {
		return d, nil
	}
	now := s.clock.Now()
	d.Attempts++
	d.StatusCode, d.Error, d.LastAttemptAt = int64(code), "", sql.NullTime{Time: now, Valid: true}
	switch {
	case sendErr == nil && code >= 200 && code < 300:
		d.Status, d.NextAttemptAt, d.DeliveredAt = Delivered, sql.NullTime{}, sql.NullTime{Time: now, Valid: true}
	default:
		d.Error = fmt.Sprintf("answered %d", code)
		if sendErr != nil {
			d.Error = sendErr.Error()
		}
		if retry && int(d.Attempts) <= len(s.Backoff) {
			d.Status, d.NextAttemptAt = Pending, sql.NullTime{Time: now.Add(s.Backoff[d.Attempts-1]), Valid: true}
		} else {
			d.Status, d.NextAttemptAt = Failed, sql.NullTime{}
			s.log.Warn("notification failed", "channel", d.ChannelName, "delivery", d.ID, "attempts", d.Attempts, "error", d.Error)
		}
	}
	wctx := context.WithoutCancel(ctx)
	err := s.db.InTx(wctx, func(q *queries.Queries) error {
		if err := q.AddNotificationAttempt(wctx, queries.AddNotificationAttemptParams{DeliveryID: d.ID, At: now, StatusCode: d.StatusCode, Error: d.Error}); err != nil {
			return err
		}
		return q.RecordNotificationAttempt(wctx, queries.RecordNotificationAttemptParams{Status: d.Status, StatusCode: d.StatusCode, Error: d.Error,
			LastAttemptAt: d.LastAttemptAt, NextAttemptAt: d.NextAttemptAt, DeliveredAt: d.DeliveredAt, ID: d.ID})
	})
	return d, err
}

// errNoChannel is a delivery whose channel was deleted or disabled.
var errNoChannel = errors.New("the channel was deleted or disabled")

// send posts d's payload to its channel: the JSON signed with the channel's
// secret (WEBHOOK), or the Slack message (SLACK).
func (s *Service) send(ctx context.Context, d queries.NotificationDelivery) (int, error) {
	if !d.ChannelID.Valid {
		return 0, errNoChannel
	}
	c, err := s.db.Queries().GetNotificationChannel(ctx, queries.GetNotificationChannelParams{ProjectID: d.ProjectID, ID: d.ChannelID.Int64})
	if errors.Is(err, sql.ErrNoRows) || err == nil && !c.Enabled && d.AlertID.Valid {
		return 0, errNoChannel
	}
	if err != nil {
		return 0, err
	}
	body := []byte(d.Payload)
	var secret []byte
	switch c.Kind {
	case Webhook:
		if secret, err = s.sealer.Open(secretAAD(c.ID), c.Secret); err != nil {
			return 0, errors.New("the channel's signing secret cannot be opened")
		}
	case Slack:
		var p Payload
		if err := json.Unmarshal(body, &p); err != nil {
			return 0, err
		}
		body = slackBody(p)
	}
	code, err := deploy.PostJSON(ctx, s.client, c.Url, body, secret, s.clock.Now())
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err // without the URL, which a Slack channel's credential is part of
	}
	return code, err
}
