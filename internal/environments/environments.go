// Package environments manages deployment targets (development, test,
// production...). Each has a revision that grows on every deploy or undeploy,
// a deployment history, and an optional webhook whose HMAC secret is sealed.
package environments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/randtoken"
	"github.com/keyward/keyward/internal/seal"
	"github.com/keyward/keyward/queries"
)

// Service manages environments.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	clock  clock.Clock
	sealer *seal.Sealer
	// gateways caches gateway token rows by hash until the next write
	// (db.Memo): a gateway's every bundle read and verify call authenticates.
	gateways *db.Memo[string, queries.GetGatewayTokenByHashRow]
	// Changed, when set, is called after an environment is created (the
	// JWKS cache knows which environments exist).
	Changed func(context.Context)
}

// NewService returns an environments Service.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, s *seal.Sealer) *Service {
	return &Service{db: d, audit: a, clock: c, sealer: s, gateways: db.NewMemo[string, queries.GetGatewayTokenByHashRow](d, time.Second, 10000)}
}

// Input is what a user gives to create or change an environment.
type Input struct {
	Name        string
	Description string
	WebhookURL  string
}

// Load returns the environment named name or a NotFound error; other
// services use it inside their transactions.
func Load(ctx context.Context, q *queries.Queries, name string) (queries.Environment, error) {
	env, err := q.GetEnvironmentByName(ctx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return env, errs.Errorf(errs.NotFound, "Environment %q does not exist.", name)
	}
	if err != nil {
		return env, fmt.Errorf("load environment %q: %w", name, err)
	}
	return env, nil
}

// secretAAD binds a sealed webhook secret to its environment row.
func secretAAD(id int64) string { return fmt.Sprintf("environment/%d/webhook-secret", id) }

// List returns every environment; any signed-in user may read them.
func (s *Service) List(ctx context.Context, p access.Principal) ([]queries.Environment, error) {
	if !p.Authenticated() {
		return nil, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	rows, err := s.db.Queries().ListEnvironments(ctx)
	if err != nil {
		return nil, fmt.Errorf("list environments: %w", err)
	}
	return redact(rows...), nil
}

// redact drops the sealed webhook secret from rows leaving the service.
func redact(rows ...queries.Environment) []queries.Environment {
	for i := range rows {
		rows[i].WebhookSecret = nil
	}
	return rows
}

// Detail is one environment with a page of its deployment history.
type Detail struct {
	Environment    queries.Environment
	HasWebhook     bool
	Deployments    []queries.Deployment
	DeploymentsAll int64
}

// Get returns an environment and its most recent deployments.
func (s *Service) Get(ctx context.Context, p access.Principal, name string, limit, offset int64) (Detail, error) {
	if !p.Authenticated() {
		return Detail{}, errs.Errorf(errs.Unauthorized, "Please sign in.")
	}
	// One read transaction: the revision and the history agree.
	var d Detail
	err := s.db.View(ctx, func(q *queries.Queries) error {
		env, err := Load(ctx, q, name)
		if err != nil {
			return err
		}
		deps, err := q.ListDeployments(ctx, queries.ListDeploymentsParams{EnvironmentID: env.ID, Limit: limit, Offset: offset})
		if err != nil {
			return fmt.Errorf("list deployments of %q: %w", name, err)
		}
		n, err := q.CountDeployments(ctx, env.ID)
		if err != nil {
			return fmt.Errorf("count deployments of %q: %w", name, err)
		}
		d = Detail{Environment: env, HasWebhook: len(env.WebhookSecret) > 0, Deployments: deps, DeploymentsAll: n}
		d.Environment.WebhookSecret = nil
		return nil
	})
	return d, err
}

// validateWebhookURL accepts an empty string or an absolute http(s) URL.
func validateWebhookURL(raw string) error {
	if raw == "" {
		return nil
	}
	return ValidateWebhookURL("webhookUrl", raw)
}

// ValidateWebhookURL accepts an absolute http:// or https:// URL of at most
// 2000 characters, the rule for every URL Keyward posts to (environment
// webhooks, notification channels); an error names field.
func ValidateWebhookURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errs.FieldErrorf(field, "Webhook URL %q must be an absolute http:// or https:// URL.", raw)
	}
	if len(raw) > 2000 {
		return errs.FieldErrorf(field, "Webhook URL must be at most 2000 characters.")
	}
	return nil
}

// Created is a new environment with its webhook secret, shown once.
type Created struct {
	Environment   queries.Environment
	WebhookSecret string
}

// Create creates an environment (admins only). When a webhook URL is given,
// a random HMAC secret is generated, sealed, and returned once.
func (s *Service) Create(ctx context.Context, p access.Principal, in Input) (Created, error) {
	var out Created
	in.Name, in.WebhookURL = strings.TrimSpace(in.Name), strings.TrimSpace(in.WebhookURL)
	e := audit.For(p, "environment.create")
	e.Environment, e.Object = in.Name, "environment/"+in.Name
	if err := access.RequireAdmin(p); err != nil {
		return out, s.audit.Refuse(ctx, e, err)
	}
	if err := names.Validate("name", "Environment", in.Name); err != nil {
		return out, err
	}
	if err := names.ValidateDescription("description", in.Description); err != nil {
		return out, err
	}
	if err := validateWebhookURL(in.WebhookURL); err != nil {
		return out, err
	}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		if _, err := q.GetEnvironmentByName(ctx, in.Name); err == nil {
			return errs.FieldErrorf("name", "An environment named %q already exists.", in.Name)
		}
		now := s.clock.Now()
		env, err := q.CreateEnvironment(ctx, queries.CreateEnvironmentParams{
			Name: in.Name, Description: strings.TrimSpace(in.Description), WebhookUrl: in.WebhookURL, CreatedAt: now, UpdatedAt: now,
		})
		if err != nil {
			return err
		}
		if in.WebhookURL != "" {
			if out.WebhookSecret, err = s.setSecret(ctx, q, env); err != nil {
				return err
			}
		}
		out.Environment = redact(env)[0]
		return s.audit.Append(ctx, q, e)
	})
	if err != nil {
		return Created{}, fmt.Errorf("create environment %q: %w", in.Name, err)
	}
	if s.Changed != nil {
		s.Changed(ctx)
	}
	return out, nil
}

// setSecret generates, seals and stores a new webhook secret for env.
func (s *Service) setSecret(ctx context.Context, q *queries.Queries, env queries.Environment) (string, error) {
	secret := "whsec_" + randtoken.New(32)
	sealed, err := s.sealer.Seal(secretAAD(env.ID), []byte(secret))
	if err != nil {
		return "", err
	}
	err = q.UpdateEnvironment(ctx, queries.UpdateEnvironmentParams{
		Description: env.Description, WebhookUrl: env.WebhookUrl, WebhookSecret: sealed, UpdatedAt: s.clock.Now(), ID: env.ID,
	})
	return secret, err
}

// Update changes an environment's description and webhook URL (admins
// only). Setting a webhook URL where there was none, or rotate, generates a
// new secret, returned once; clearing the URL drops the secret.
func (s *Service) Update(ctx context.Context, p access.Principal, name string, in Input, rotate bool) (string, error) {
	var secret string
	in.WebhookURL = strings.TrimSpace(in.WebhookURL)
	e := audit.For(p, "environment.update")
	e.Environment, e.Object = name, "environment/"+name
	if err := access.RequireAdmin(p); err != nil {
		return "", s.audit.Refuse(ctx, e, err)
	}
	if err := names.ValidateDescription("description", in.Description); err != nil {
		return "", err
	}
	if err := validateWebhookURL(in.WebhookURL); err != nil {
		return "", err
	}
	err := s.db.InTx(ctx, func(q *queries.Queries) error {
		env, err := Load(ctx, q, name)
		if err != nil {
			return err
		}
		env.Description, env.WebhookUrl = strings.TrimSpace(in.Description), in.WebhookURL
		if in.WebhookURL == "" {
			env.WebhookSecret = nil
		}
		if err := q.UpdateEnvironment(ctx, queries.UpdateEnvironmentParams{
			Description: env.Description, WebhookUrl: env.WebhookUrl, WebhookSecret: env.WebhookSecret, UpdatedAt: s.clock.Now(), ID: env.ID,
		}); err != nil {
			return err
		}
		if in.WebhookURL != "" && (rotate || len(env.WebhookSecret) == 0) {
			if secret, err = s.setSecret(ctx, q, env); err != nil {
				return err
			}
			e.Detail = "webhook secret rotated"
		}
		return s.audit.Append(ctx, q, e)
	})
	if err != nil {
		return "", fmt.Errorf("update environment %q: %w", name, err)
	}
	return secret, nil
}

// WebhookSecret opens an environment's sealed webhook secret for the
// deployment notifier. It is not exposed to users after creation.
func (s *Service) WebhookSecret(ctx context.Context, env queries.Environment) ([]byte, error) {
	if len(env.WebhookSecret) == 0 {
		return nil, nil
	}
	return s.sealer.Open(secretAAD(env.ID), env.WebhookSecret)
}
