// Package publish is the publication model every item type shares: keys,
// JWKs and, next, certificates, truststore CAs, signing keys and key sets are
// all configured per environment, deployed and read by gateways. It gives
// them one write runner (one transaction, the permission check first, the
// refusal audited), one per-environment configuration pipeline (validate the
// environments once each, parse with the type's own function, then the type
// seals and stores), and one deploy/undeploy helper (revision, deployment
// record, audit entry; after the commit the webhook and the JWKS cache).
// A new type brings its parse function and its store, not a copy of keys.
package publish

import (
	"context"
	"fmt"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/queries"
)

// Writer runs the writes of one item area.
type Writer struct {
	db        *db.DB
	audit     *audit.Log
	clock     clock.Clock
	publisher *deploy.Publisher
}

// NewWriter returns a Writer; publications are announced through p.
func NewWriter(d *db.DB, a *audit.Log, c clock.Clock, p *deploy.Publisher) *Writer {
	return &Writer{db: d, audit: a, clock: c, publisher: p}
}

// Write describes one write: who, where, and what a refusal is audited as.
type Write struct {
	Principal   access.Principal
	Project     string
	Environment string // the one environment the write is about, if any
	Action      string // e.g. "key.create"
	Object      string // e.g. "key/payments-aes"
	Perms       []access.Permission
}

// Op is a write under way: its principal, its project and what it has
// published so far.
type Op struct {
	w         *Writer
	Principal access.Principal
	Project   queries.Project
	published []deploy.Published
}

// Now reads the writer's clock.
func (o *Op) Now() time.Time { return o.w.clock.Now() }

// Run runs fn as one transaction after loading the project and checking the
// principal holds wr.Perms there (with no project: that the principal is an
// admin). Any error rolls everything back and is
// audited as a refusal of wr.Action on wr.Object; after a commit the
// publications are announced (listeners, then webhooks in the background).
func (w *Writer) Run(ctx context.Context, wr Write, fn func(q *queries.Queries, o *Op) error) error {
	o := &Op{w: w, Principal: wr.Principal}
	err := w.db.InTx(ctx, func(q *queries.Queries) error {
		if wr.Project == "" {
			// An instance-wide write (an environment's truststore): admins.
			if err := access.RequireAdmin(wr.Principal); err != nil {
				return err
			}
			return fn(q, o)
		}
		pr, err := projects.Visible(ctx, q, wr.Principal, wr.Project)
		if err != nil {
			return err
		}
		o.Project = pr
		if err := access.Require(ctx, q, wr.Principal, projects.Ref(pr), wr.Perms...); err != nil {
			return err
		}
		return fn(q, o)
	})
	if err != nil {
		e := audit.For(wr.Principal, wr.Action)
		e.Project, e.Object, e.Environment = wr.Project, wr.Object, wr.Environment
		return w.audit.Refuse(ctx, e, err)
	}
	w.publisher.Committed(ctx, o.published)
	return nil
}

// RunAs is Run for Keyward's own work on a schedule (a signer's rotation
// steps): no permission is checked, since no user asked; the audit log
// names wr.Principal (the scheduler) as the actor.
func (w *Writer) RunAs(ctx context.Context, wr Write, fn func(q *queries.Queries, o *Op) error) error {
	o := &Op{w: w, Principal: wr.Principal}
	err := w.db.InTx(ctx, func(q *queries.Queries) error {
		pr, err := projects.Load(ctx, q, wr.Project)
		if err != nil {
			return err
		}
		o.Project = pr
		return fn(q, o)
	})
	if err != nil {
		return err
	}
	w.publisher.Committed(ctx, o.published)
	return nil
}

// Record appends an audit entry about the operation's project.
func (o *Op) Record(ctx context.Context, q *queries.Queries, action, object, env, detail string) error {
	e := audit.For(o.Principal, action)
	e.Project, e.Object, e.Environment, e.Detail = o.Project.Name, object, env, detail
	return o.w.audit.Append(ctx, q, e)
}

// Target is one item's configuration in one environment, to deploy or
// undeploy.
type Target struct {
	Type ObjectType
	Name string
	Env  queries.Environment
	// Detail is added to the audit entry ("kid 3f2a…").
	Detail string
	// Mark records the new state in the type's own table: the revision
	// and time of the deploy, or revision 0 when undeployed.
	Mark func(rev int64) error
}

// ObjectType is deploy's item type, repeated here for callers' brevity.
type ObjectType = deploy.ObjectType

// Deploy publishes t: the environment's revision grows, the deployment is
// recorded, t.Mark stores the deployed state and the audit log says so.
func (o *Op) Deploy(ctx context.Context, q *queries.Queries, t Target) error {
	return o.change(ctx, q, t, deploy.Deploy)
}

// Undeploy withdraws t the same way.
func (o *Op) Undeploy(ctx context.Context, q *queries.Queries, t Target) error {
	return o.change(ctx, q, t, deploy.Undeploy)
}

func (o *Op) change(ctx context.Context, q *queries.Queries, t Target, verb string) error {
	pub, err := o.w.publisher.Record(ctx, q, o.Principal.Username, deploy.Change{
		Environment: t.Env, Project: o.Project.Name, ObjectType: t.Type, ObjectName: t.Name, Action: verb,
	})
	if err != nil {
		return err
	}
	o.published = append(o.published, pub)
	rev := pub.Revision
	if verb == deploy.Undeploy {
		rev = 0
	}
	if err := t.Mark(rev); err != nil {
		return fmt.Errorf("%s %s %q in %q: %w", verb, t.Type, t.Name, t.Env.Name, err)
	}
	detail := fmt.Sprintf("revision %d", pub.Revision)
	if t.Detail != "" {
		detail += ", " + t.Detail
	}
	return o.Record(ctx, q, t.Type.Action(verb), t.Type.Object(t.Name), t.Env.Name, detail)
}

// EnvironmentResult is the outcome of deploying to one environment.
type EnvironmentResult struct {
	EnvironmentName string `json:"environmentName"`
	Success         bool   `json:"success"`
	Message         string `json:"message"`
}

// Result is what a deploying write answers (the seed API's
// deploymentResult).
type Result struct {
	Success            bool                `json:"success"`
	Message            string              `json:"message"`
	EnvironmentResults []EnvironmentResult `json:"environmentResults"`
}

// Result summarises what the operation deployed (or undeployed) of type t.
func (o *Op) Result(t ObjectType, verb string) *Result {
	r := &Result{Success: true, EnvironmentResults: []EnvironmentResult{}}
	for _, p := range o.published {
		if p.Change.ObjectType != t || p.Change.Action != verb {
			continue
		}
		r.EnvironmentResults = append(r.EnvironmentResults, EnvironmentResult{
			EnvironmentName: p.Change.Environment.Name, Success: true,
			Message: fmt.Sprintf("%sed at revision %d", verb, p.Revision),
		})
	}
	if verb == deploy.Undeploy {
		r.Message = fmt.Sprintf("Undeployed from %d environment(s).", len(r.EnvironmentResults))
	} else {
		r.Message = fmt.Sprintf("Deployed to %d environment(s).", len(r.EnvironmentResults))
	}
	return r
}

// SealBinding is the additional data that binds sealed material to its
// row: "key/<id>/environment/<id>"; the deployed copy adds "/deployed".
func SealBinding(t ObjectType, id, envID int64) string {
	return fmt.Sprintf("%s/%d/environment/%d", t, id, envID)
}
