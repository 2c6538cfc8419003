package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/queries"
)

// Delivery is one message to one channel, with its attempts.
type Delivery struct {
	ID          int64
	Test        bool
	Channel     string
	Rule        string
	ObjectType  string
	ObjectName  string
	Environment string
	Threshold   int
	Status      string
	Attempts    int
	StatusCode  int
	Error       string
	CreatedAt   time.Time
	LastAttempt time.Time // zero before the first attempt
	NextAttempt time.Time // zero unless pending
	DeliveredAt time.Time // zero unless delivered
	Summary     string    // the message in one line
}

func toDelivery(d queries.NotificationDelivery) Delivery {
	out := Delivery{ID: d.ID, Test: !d.AlertID.Valid && d.RuleName == "", Channel: d.ChannelName, Rule: d.RuleName, ObjectType: d.ObjectType,
		ObjectName: d.ObjectName, Environment: d.Environment, Threshold: int(d.Threshold.Int64), Status: d.Status,
		Attempts: int(d.Attempts), StatusCode: int(d.StatusCode), Error: d.Error, CreatedAt: d.CreatedAt,
		LastAttempt: d.LastAttemptAt.Time, NextAttempt: d.NextAttemptAt.Time, DeliveredAt: d.DeliveredAt.Time}
	var p Payload
	if json.Unmarshal([]byte(d.Payload), &p) == nil {
		out.Summary = p.Summary()
	}
	return out
}

// DeliveryPage is one page of a project's delivery history, newest first.
type DeliveryPage struct {
	Items      []Delivery
	Total      int64
	Page, Size int
}

// MaxPageSize bounds a page of the history.
const MaxPageSize = 200

// ListDeliveries returns one page of the project's deliveries, newest first.
func (s *Service) ListDeliveries(ctx context.Context, p access.Principal, project string, page, size int) (DeliveryPage, error) {
	if page < 1 {
		page = 1
	}
	if size < 1 || size > MaxPageSize {
		size = 25
	}
	out := DeliveryPage{Items: []Delivery{}, Page: page, Size: size}
	err := s.read(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		var err error
		if out.Total, err = q.CountNotificationDeliveries(ctx, pr.ID); err != nil {
			return err
		}
		rows, err := q.ListNotificationDeliveries(ctx, queries.ListNotificationDeliveriesParams{ProjectID: pr.ID, Limit: int64(size), Offset: int64((page - 1) * size)})
		for _, d := range rows {
			out.Items = append(out.Items, toDelivery(d))
		}
		return err
	})
	return out, err
}

// SendTest sends a sample alert to the channel now, once, and returns the
// recorded delivery: delivered, or failed with the status code or error.
// A test is not retried.
func (s *Service) SendTest(ctx context.Context, p access.Principal, project string, id int64) (Delivery, error) {
	var d queries.NotificationDelivery
	err := s.write(ctx, p, project, "notification_channel.test", "notification_channel/"+itoa(id), func(q *queries.Queries, pr queries.Project) error {
		c, err := loadChannel(ctx, q, pr, id)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		sample := s.samplePayload(pr.Name, now)
		body, err := json.Marshal(sample)
		if err != nil {
			return err
		}
		d, err = q.CreateNotificationDelivery(ctx, queries.CreateNotificationDeliveryParams{ProjectID: pr.ID, ChannelID: sql.NullInt64{Int64: c.ID, Valid: true},
			ChannelName: c.Name, ObjectType: sample.Type, ObjectName: sample.Name, Environment: sample.Environment,
			Threshold: sql.NullInt64{Int64: int64(sample.Threshold), Valid: true}, Payload: string(body), Status: Pending, CreatedAt: now})
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, q, entry(p, "notification_channel.test", pr.Name, channelObject(c.Name), ""))
	})
	if err != nil {
		return Delivery{}, err
	}
	d, err = s.attempt(ctx, d, false)
	return toDelivery(d), err
}
