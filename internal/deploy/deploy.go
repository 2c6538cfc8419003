// Package deploy publishes changes to environments. Inside the caller's
// transaction it raises the environment's revision and records the
// deployment (who, when, what, result); after the commit it tells the
// environment's webhook, with retries, and the in-process listeners (such as
// the JWKS cache). A failing webhook is recorded, never undone.
package deploy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/queries"
)

// Actions recorded in the deployment history.
const (
	Deploy   = "deploy"
	Undeploy = "undeploy"
)

// ObjectType is a kind of item that is configured per environment and
// deployed: it names the item in deployment records, webhook events and audit
// entries ("key/payments-aes", "key.deploy").
type ObjectType string

// The item types.
const (
	ObjectKey         ObjectType = "key"
	ObjectJWK         ObjectType = "jwk"
	ObjectCertificate ObjectType = "certificate"
	ObjectTrustedCA   ObjectType = "truststore"
	ObjectSigningKey  ObjectType = "signing_key"
	ObjectKeySet      ObjectType = "key_set"
)

// Object names an item of this type in the audit log: "key/<name>".
func (t ObjectType) Object(name string) string { return string(t) + "/" + name }

// Action names an operation on this type in the audit log: "key.deploy".
func (t ObjectType) Action(verb string) string { return string(t) + "." + verb }

// InJWKS reports whether deploying an item of this type can change a
// public JWKS (so the JWKS cache is rebuilt after it).
func (t ObjectType) InJWKS() bool { return t == ObjectJWK || t == ObjectSigningKey }

// Change is one object published to (or withdrawn from) one environment.
type Change struct {
	Environment queries.Environment
	Project     string
	ObjectType  ObjectType
	ObjectName  string
	Action      string // Deploy or Undeploy
	Message     string
}

// Published is a recorded change with its new revision.
type Published struct {
	DeploymentID int64
	Revision     int64
	Change       Change
	At           time.Time
}

// Listener is told, after commit, which (project, environment) pairs changed.
type Listener func(ctx context.Context, changed []Published)

// Publisher records deployments and notifies webhooks and listeners.
type Publisher struct {
	db        *db.DB
	envs      *environments.Service
	clock     clock.Clock
	log       *slog.Logger
	client    *http.Client
	Backoff   []time.Duration // waits before each retry (on the clock); len+1 attempts in all
	wg        sync.WaitGroup
	pending   atomic.Int64
	mu        sync.Mutex
	listeners []Listener
	// stop ends the deliveries under way (their waits and requests) when
	// the app closes.
	stopped context.Context
	stop    context.CancelFunc
}

// NewPublisher returns a Publisher whose webhook calls time out after 10s and
// are retried after 1s, 4s and 16s of c's time.
func NewPublisher(d *db.DB, envs *environments.Service, c clock.Clock, log *slog.Logger) *Publisher {
	p := &Publisher{db: d, envs: envs, clock: c, log: log,
		client:  &http.Client{Timeout: 10 * time.Second},
		Backoff: []time.Duration{time.Second, 4 * time.Second, 16 * time.Second}}
	p.stopped, p.stop = context.WithCancel(context.Background())
	return p
}

// Listen adds a listener called after every committed publication.
func (p *Publisher) Listen(l Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listeners = append(p.listeners, l)
}

// Record raises ch's environment revision and writes the deployment record,
// inside the caller's transaction.
func (p *Publisher) Record(ctx context.Context, q *queries.Queries, actor string, ch Change) (Published, error) {
	now := p.clock.Now()
	rev, err := q.BumpEnvironmentRevision(ctx, queries.BumpEnvironmentRevisionParams{UpdatedAt: now, ID: ch.Environment.ID})
	if err != nil {
		return Published{}, fmt.Errorf("raise revision of %q: %w", ch.Environment.Name, err)
	}
	status := ""
	if ch.Environment.WebhookUrl != "" {
		status = "pending"
	}
	d, err := q.CreateDeployment(ctx, queries.CreateDeploymentParams{
		EnvironmentID: ch.Environment.ID, Revision: rev, Actor: actor, Action: ch.Action, Project: ch.Project,
		ObjectType: string(ch.ObjectType), ObjectName: ch.ObjectName, Success: true, Message: ch.Message,
		WebhookStatus: status, CreatedAt: now,
	})
	if err != nil {
		return Published{}, fmt.Errorf("record deployment to %q: %w", ch.Environment.Name, err)
	}
	ch.Environment.Revision = rev
	return Published{DeploymentID: d.ID, Revision: rev, Change: ch, At: now}, nil
}

// Committed is called once the transaction holding the records committed:
// listeners run now, webhooks in the background.
func (p *Publisher) Committed(ctx context.Context, done []Published) {
	if len(done) == 0 {
		return
	}
	p.mu.Lock()
	ls := append([]Listener(nil), p.listeners...)
	p.mu.Unlock()
	for _, l := range ls {
		l(ctx, done)
	}
	for _, d := range done {
		if d.Change.Environment.WebhookUrl == "" {
			continue
		}
		if p.stopped.Err() != nil {
			continue // closing: the deployment keeps its "pending" status
		}
		p.wg.Add(1)
		p.pending.Add(1)
		go func(d Published) {
			defer p.wg.Done()
			defer p.pending.Add(-1)
			p.notify(p.stopped, d)
		}(d)
	}
}

// Pending returns how many webhook deliveries are under way.
func (p *Publisher) Pending() int { return int(p.pending.Load()) }

// Wait blocks until every webhook delivery under way has finished (tests
// whose deliveries need no retry wait).
func (p *Publisher) Wait() { p.wg.Wait() }

// Close stops the deliveries under way: a retry's wait and a request in
// flight end at once, and each records that it was stopped. Close returns
// once they have, so that no delivery writes to a closed database; it
// reports false when they took longer than d.
func (p *Publisher) Close(d time.Duration) bool {
	p.stop()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// Event is the webhook's JSON body.
type Event struct {
	Environment  string    `json:"environment"`
	Revision     int64     `json:"revision"`
	Action       string    `json:"action"`
	Project      string    `json:"project"`
	ObjectType   string    `json:"objectType"`
	ObjectName   string    `json:"objectName"`
	DeploymentID int64     `json:"deploymentId"`
	At           time.Time `json:"at"`
}

// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" under the environment's webhook secret>".
const SignatureHeader = "X-Keyward-Signature"

// Sign computes the signature header value for body at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// PostJSON makes one webhook attempt: it POSTs body as JSON to url and,
// when secret is not nil, signs it under secret at time at (SignatureHeader).
// It returns the answer's status code; an error means no answer. Deployment
// webhooks and expiry alerts (internal/notify) both send through it, so the
// two are signed alike.
func PostJSON(ctx context.Context, client *http.Client, url string, body, secret []byte, at time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Keyward-Webhook/1")
	if secret != nil {
		req.Header.Set(SignatureHeader, Sign(secret, at, body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// notify delivers one event, retrying with backoff, and records the outcome.
func (p *Publisher) notify(ctx context.Context, d Published) {
	env := d.Change.Environment
	status := p.deliver(ctx, d)
	// The outcome is written even when ctx ended (Close waits for it).
	wctx := context.WithoutCancel(ctx)
	err := p.db.InTx(wctx, func(q *queries.Queries) error {
		return q.SetDeploymentWebhookStatus(wctx, queries.SetDeploymentWebhookStatusParams{WebhookStatus: status, ID: d.DeploymentID})
	})
	if err != nil {
		p.log.Error("record webhook outcome", "environment", env.Name, "deployment", d.DeploymentID, "error", err.Error())
	}
}

func (p *Publisher) deliver(ctx context.Context, d Published) string {
	env := d.Change.Environment
	secret, err := p.envs.WebhookSecret(ctx, env)
	if err != nil {
		return "failed: the webhook secret cannot be opened"
	}
	body, _ := json.Marshal(Event{Environment: env.Name, Revision: d.Revision, Action: d.Change.Action, Project: d.Change.Project,
		ObjectType: string(d.Change.ObjectType), ObjectName: d.Change.ObjectName, DeploymentID: d.DeploymentID, At: d.At})
	var last string
	for attempt := 0; attempt <= len(p.Backoff); attempt++ {
		if attempt > 0 && !p.clock.Sleep(ctx, p.Backoff[attempt-1]) {
			return fmt.Sprintf("stopped: Keyward shut down before attempt %d (%s)", attempt+1, last)
		}
		code, err := PostJSON(ctx, p.client, env.WebhookUrl, body, secret, p.clock.Now())
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Sprintf("stopped: Keyward shut down during attempt %d", attempt+1)
			}
			last = err.Error()
			continue
		}
		if code >= 200 && code < 300 {
			return fmt.Sprintf("delivered: %d (attempt %d)", code, attempt+1)
		}
		last = strconv.Itoa(code) + " " + http.StatusText(code)
	}
	p.log.Warn("webhook failed", "environment", env.Name, "revision", d.Revision, "error", last)
	return fmt.Sprintf("failed after %d attempts: %s", len(p.Backoff)+1, last)
}
