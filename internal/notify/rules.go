package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
)

// DefaultThresholds are a rule's thresholds when none are given: 30, 14, 7
// and 1 days before the end date, and on it (0).
var DefaultThresholds = []int{30, 14, 7, 1, 0}

// MaxThreshold bounds a threshold, in days.
const MaxThreshold = 3650

// Rule is a notification rule.
type Rule struct {
	ID         int64
	Name       string
	Types      []string // expiry types; empty = every type
	Thresholds []int    // days before the end date, largest first
	Channels   []string // channel names
	Enabled    bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// RuleInput is what a user gives to create or change a rule.
type RuleInput struct {
	Name       string
	Types      []string
	Thresholds []int // empty: DefaultThresholds
	Channels   []string
	Enabled    bool
}

// validate checks and normalises in: types known to internal/expiry (a new
// type there is accepted here as it is), thresholds deduplicated largest
// first.
func (in *RuleInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if err := names.Validate("name", "Rule", in.Name); err != nil {
		return err
	}
	var types []string
	for i, t := range in.Types {
		t = strings.TrimSpace(t)
		if !expiry.ValidType(expiry.Type(t)) {
			known := make([]string, len(expiry.Types))
			for j, k := range expiry.Types {
				known[j] = string(k)
			}
			return errs.FieldErrorf(fmt.Sprintf("objectTypes[%d]", i), "Object type %q is not one of %s.", t, strings.Join(known, ", "))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	in.Types = types
	if len(in.Thresholds) == 0 {
		in.Thresholds = slices.Clone(DefaultThresholds)
	}
	var ts []int
	for i, t := range in.Thresholds {
		if t < 0 || t > MaxThreshold {
			return errs.FieldErrorf(fmt.Sprintf("thresholds[%d]", i), "Threshold %d must be a whole number of days from 0 (on expiry) to %d.", t, MaxThreshold)
		}
		if !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	slices.SortFunc(ts, func(a, b int) int { return b - a })
	in.Thresholds = ts
	if len(in.Channels) == 0 {
		return errs.FieldErrorf("channels", "A rule needs at least one channel to send to.")
	}
	return nil
}

func encodeInts(ts []int) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = strconv.Itoa(t)
	}
	return strings.Join(s, ",")
}

func decodeInts(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(p); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func decodeTypes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func toRule(ctx context.Context, q *queries.Queries, r queries.NotificationRule) (Rule, error) {
	chans, err := q.ListNotificationRuleChannels(ctx, r.ID)
	out := Rule{ID: r.ID, Name: r.Name, Types: decodeTypes(r.Types), Thresholds: decodeInts(r.Thresholds), Channels: []string{},
		Enabled: r.Enabled, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, c := range chans {
		out.Channels = append(out.Channels, c.Name)
	}
	return out, err
}

func loadRule(ctx context.Context, q *queries.Queries, pr queries.Project, id int64) (queries.NotificationRule, error) {
	r, err := q.GetNotificationRule(ctx, queries.GetNotificationRuleParams{ProjectID: pr.ID, ID: id})
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.Errorf(errs.NotFound, "Project %q has no notification rule %d.", pr.Name, id)
	}
	return r, err
}

// ListRules returns the project's rules by name.
func (s *Service) ListRules(ctx context.Context, p access.Principal, project string) ([]Rule, error) {
	out := []Rule{}
	err := s.read(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		rows, err := q.ListNotificationRules(ctx, pr.ID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			rule, err := toRule(ctx, q, r)
			if err != nil {
				return err
			}
			out = append(out, rule)
		}
		return nil
	})
	return out, err
}

// GetRule returns one rule.
func (s *Service) GetRule(ctx context.Context, p access.Principal, project string, id int64) (Rule, error) {
	var out Rule
	err := s.read(ctx, p, project, func(q *queries.Queries, pr queries.Project) error {
		r, err := loadRule(ctx, q, pr, id)
		if err != nil {
			return err
		}
		out, err = toRule(ctx, q, r)
		return err
	})
	return out, err
}

// setChannels links rule to the named channels of pr.
func setChannels(ctx context.Context, q *queries.Queries, pr queries.Project, rule int64, channels []string) error {
	if err := q.ClearNotificationRuleChannels(ctx, rule); err != nil {
		return err
	}
	var seen []int64
	for i, name := range channels {
		c, err := q.GetNotificationChannelByName(ctx, queries.GetNotificationChannelByNameParams{ProjectID: pr.ID, Name: strings.TrimSpace(name)})
		if errors.Is(err, sql.ErrNoRows) {
			return errs.FieldErrorf(fmt.Sprintf("channels[%d]", i), "Channel %q does not exist in project %q.", name, pr.Name)
		}
		if err != nil {
			return err
		}
		if slices.Contains(seen, c.ID) {
			continue
		}
		seen = append(seen, c.ID)
		if err := q.AddNotificationRuleChannel(ctx, queries.AddNotificationRuleChannelParams{RuleID: rule, ChannelID: c.ID}); err != nil {
			return err
		}
	}
	return nil
}

func ruleDetail(in RuleInput) string {
	types := "every type"
	if len(in.Types) > 0 {
		types = strings.Join(in.Types, ", ")
	}
	return fmt.Sprintf("%s; thresholds %s days; channels %s", types, encodeInts(in.Thresholds), strings.Join(in.Channels, ", "))
}

// CreateRule creates a rule.
func (s *Service) CreateRule(ctx context.Context, p access.Principal, project string, in RuleInput) (Rule, error) {
	var out Rule
	err := s.write(ctx, p, project, "notification_rule.create", ruleObject(in.Name), func(q *queries.Queries, pr queries.Project) error {
		if err := in.validate(); err != nil {
			return err
		}
		if _, err := q.GetNotificationRuleByName(ctx, queries.GetNotificationRuleByNameParams{ProjectID: pr.ID, Name: in.Name}); err == nil {
			return errs.FieldErrorf("name", "A notification rule named %q already exists in project %q.", in.Name, project)
		}
		now := s.clock.Now()
		r, err := q.CreateNotificationRule(ctx, queries.CreateNotificationRuleParams{ProjectID: pr.ID, Name: in.Name,
			Types: strings.Join(in.Types, ","), Thresholds: encodeInts(in.Thresholds), Enabled: in.Enabled, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		if err := setChannels(ctx, q, pr, r.ID, in.Channels); err != nil {
			return err
		}
		if out, err = toRule(ctx, q, r); err != nil {
			return err
		}
		return s.audit.Append(ctx, q, entry(p, "notification_rule.create", project, ruleObject(in.Name), ruleDetail(in)))
	})
	return out, err
}

// UpdateRule changes a rule. Alerts already sent stay sent; a threshold
// added later is sent when it is the smallest one an object crossed.
func (s *Service) UpdateRule(ctx context.Context, p access.Principal, project string, id int64, in RuleInput) (Rule, error) {
	var out Rule
	err := s.write(ctx, p, project, "notification_rule.update", ruleObject(in.Name), func(q *queries.Queries, pr queries.Project) error {
		r, err := loadRule(ctx, q, pr, id)
		if err != nil {
			return err
		}
		if err := in.validate(); err != nil {
			return err
		}
		if other, err := q.GetNotificationRuleByName(ctx, queries.GetNotificationRuleByNameParams{ProjectID: pr.ID, Name: in.Name}); err == nil && other.ID != r.ID {
			return errs.FieldErrorf("name", "A notification rule named %q already exists in project %q.", in.Name, project)
		}
		r.Name, r.Types, r.Thresholds, r.Enabled = in.Name, strings.Join(in.Types, ","), encodeInts(in.Thresholds), in.Enabled
		if err := q.UpdateNotificationRule(ctx, queries.UpdateNotificationRuleParams{Name: r.Name, Types: r.Types, Thresholds: r.Thresholds,
			Enabled: r.Enabled, UpdatedAt: s.clock.Now(), ID: r.ID}); err != nil {
			return err
		}
		if err := setChannels(ctx, q, pr, r.ID, in.Channels); err != nil {
			return err
		}
		if out, err = toRule(ctx, q, r); err != nil {
			return err
		}
		return s.audit.Append(ctx, q, entry(p, "notification_rule.update", project, ruleObject(in.Name), ruleDetail(in)))
	})
	return out, err
}

// DeleteRule deletes a rule and its memory of sent alerts; the delivery
// history keeps its name.
func (s *Service) DeleteRule(ctx context.Context, p access.Principal, project string, id int64) error {
	return s.write(ctx, p, project, "notification_rule.delete", fmt.Sprintf("notification_rule/%d", id), func(q *queries.Queries, pr queries.Project) error {
		r, err := loadRule(ctx, q, pr, id)
		if err != nil {
			return err
		}
		if err := q.DeleteNotificationRule(ctx, r.ID); err != nil {
			return err
		}
		return s.audit.Append(ctx, q, entry(p, "notification_rule.delete", project, ruleObject(r.Name), ""))
	})
}
