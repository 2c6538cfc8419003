package signing

// Signer aliases: a named signer (payments-token) that signs with its
// active key and is rotated in stages, so that verifiers hold the next key
// before the first token it signs arrives, and keep the old one until the
// tokens it signed have expired.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// Rotation steps.
const (
	StepPublish  = "publish"  // the next key enters the JWKS
	StepActivate = "activate" // the alias signs with the next key
	StepRetire   = "retire"   // the old key leaves the JWKS
)

// SignerInput creates an alias.
type SignerInput struct {
	Name         string
	ActiveKey    string // CKA_ID
	Environments []string
	LeadTime     time.Duration // how long before activation the next key is published
	Retention    time.Duration // how long after it the old key stays published (≥ the longest token lifetime)
}

// Signer is an alias with its environments and timeline.
type Signer struct {
	queries.Signer
	ActiveKey    queries.SigningKey
	Environments []string
	Steps        []queries.ListSignerStepsRow
}

func signerObject(name string) string { return "signer/" + name }

func durationField(field string, d time.Duration) error {
	if d < 0 || d > 366*24*time.Hour {
		return errs.FieldErrorf(field, "%s must be between 0 and a year.", field)
	}
	return nil
}

// CreateSigner creates an alias signing with ActiveKey and publishes that
// key in its environments (deploys). SIGNING_KEYS:MANAGE and
// SIGNING_KEYS:DEPLOY_UNDEPLOY.
func (s *Service) CreateSigner(ctx context.Context, p access.Principal, project string, in SignerInput) (Signer, error) {
	var out Signer
	wr := publish.Write{Principal: p, Project: project, Action: "signer.create", Object: signerObject(in.Name),
		Perms: []access.Permission{access.SigningKeysManage, access.SigningKeysDeploy}}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		if err := names.ValidateItem("name", "Signer", in.Name); err != nil {
			return err
		}
		if err := durationField("leadTime", in.LeadTime); err != nil {
			return err
		}
		if err := durationField("retention", in.Retention); err != nil {
			return err
		}
		if _, err := q.GetSigner(ctx, queries.GetSignerParams{ProjectID: o.Project.ID, Name: in.Name}); err == nil {
			return errs.FieldErrorf("name", "A signer named %q already exists in project %q.", in.Name, project)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		key, err := loadKey(ctx, q, o.Project, in.ActiveKey)
		if err != nil {
			return errs.FieldErrorf("activeKey", "%s", errs.MessageOf(err))
		}
		envs, err := publish.Environments(ctx, q, "environments", in.Environments)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		sg, err := q.CreateSigner(ctx, queries.CreateSignerParams{ProjectID: o.Project.ID, Name: in.Name, ActiveKeyID: key.ID,
			LeadTimeSeconds: int64(in.LeadTime / time.Second), RetentionSeconds: int64(in.Retention / time.Second), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		for _, env := range envs {
			if err := q.AddSignerEnvironment(ctx, queries.AddSignerEnvironmentParams{SignerID: sg.ID, EnvironmentID: env.ID}); err != nil {
				return err
			}
			if err := s.publishIn(ctx, q, o, key, env); err != nil {
				return err
			}
		}
		done := sql.NullTime{Time: now, Valid: true}
		if _, err := q.AddSignerStep(ctx, queries.AddSignerStepParams{SignerID: sg.ID, SigningKeyID: key.ID, Kind: StepActivate, DueAt: now, DoneAt: done,
			Detail: "created with " + key.CkaID}); err != nil {
			return err
		}
		if err := o.Record(ctx, q, "signer.create", signerObject(in.Name), "", fmt.Sprintf("active key %s; environments %s", key.CkaID, strings.Join(in.Environments, ", "))); err != nil {
			return err
		}
		out, err = s.describeSigner(ctx, q, sg)
		return err
	})
	return out, err
}

// publishIn publishes key in env unless it is there already.
func (s *Service) publishIn(ctx context.Context, q *queries.Queries, o *publish.Op, key queries.SigningKey, env queries.Environment) error {
	pubs, err := q.ListSigningKeyPublications(ctx, key.ID)
	if err != nil {
		return err
	}
	for _, pb := range pubs {
		if pb.EnvironmentID == env.ID {
			return nil
		}
	}
	return o.Deploy(ctx, q, target(ctx, q, key, env, s.clock.Now()))
}

// Rotate schedules the switch of an alias to nextKey at activateAt: the
// next key is published lead time before, the old one retired retention
// after. Steps already due run at once.
func (s *Service) Rotate(ctx context.Context, p access.Principal, project, name, nextKey string, activateAt time.Time) (Signer, error) {
	var out Signer
	wr := publish.Write{Principal: p, Project: project, Action: "signer.rotate", Object: signerObject(name),
		Perms: []access.Permission{access.SigningKeysManage, access.SigningKeysDeploy}}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		sg, err := q.GetSigner(ctx, queries.GetSignerParams{ProjectID: o.Project.ID, Name: name})
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Errorf(errs.NotFound, "Signer %q does not exist in project %q.", name, project)
		} else if err != nil {
			return err
		}
		if n, err := q.PendingSignerSteps(ctx, sg.ID); err != nil {
			return err
		} else if n > 0 {
			return errs.Errorf(errs.Conflict, "Signer %q is rotating already; wait until its old key is retired.", name)
		}
		next, err := loadKey(ctx, q, o.Project, nextKey)
		if err != nil {
			return errs.FieldErrorf("nextKey", "%s", errs.MessageOf(err))
		}
		if next.ID == sg.ActiveKeyID {
			return errs.FieldErrorf("nextKey", "Key %s is the alias's active key already.", next.CkaID)
		}
		now := s.clock.Now()
		if activateAt.IsZero() {
			activateAt = now.Add(time.Duration(sg.LeadTimeSeconds) * time.Second)
		}
		if activateAt.Before(now) {
			return errs.FieldErrorf("activateAt", "activateAt must not be in the past.")
		}
		lead, keep := time.Duration(sg.LeadTimeSeconds)*time.Second, time.Duration(sg.RetentionSeconds)*time.Second
		for _, st := range []struct {
			key  int64
			kind string
			at   time.Time
		}{{next.ID, StepPublish, activateAt.Add(-lead)}, {next.ID, StepActivate, activateAt}, {sg.ActiveKeyID, StepRetire, activateAt.Add(keep)}} {
			if _, err := q.AddSignerStep(ctx, queries.AddSignerStepParams{SignerID: sg.ID, SigningKeyID: st.key, Kind: st.kind, DueAt: st.at}); err != nil {
				return err
			}
		}
		if err := o.Record(ctx, q, "signer.rotate", signerObject(name), "", fmt.Sprintf("to %s at %s", next.CkaID, activateAt.Format(time.RFC3339))); err != nil {
			return err
		}
		out.Signer = sg
		return nil
	})
	if err != nil {
		return out, err
	}
	if err := s.RunDue(ctx); err != nil {
		return out, err
	}
	return s.GetSigner(ctx, p, project, name)
}

// RunDue runs every rotation step whose time has come, each in its own
// transaction: at start (catching up on what a stopped server missed) and
// on the scheduler's tick.
func (s *Service) RunDue(ctx context.Context) error {
	due, err := s.db.Queries().ListDueSignerSteps(ctx, s.clock.Now())
	if err != nil {
		return fmt.Errorf("signer steps: %w", err)
	}
	for _, st := range due {
		if err := s.runStep(ctx, st); err != nil {
			return fmt.Errorf("signer step %d (%s): %w", st.ID, st.Kind, err)
		}
	}
	return nil
}

var scheduler = access.Principal{Username: "scheduler", Via: "scheduler"}

func (s *Service) runStep(ctx context.Context, st queries.SignerStep) error {
	sg, err := s.db.Queries().GetSignerByID(ctx, st.SignerID)
	if err != nil {
		return err
	}
	pr, err := s.db.Queries().GetProjectByID(ctx, sg.ProjectID)
	if err != nil {
		return err
	}
	wr := publish.Write{Principal: scheduler, Project: pr.Name, Action: "signer." + st.Kind, Object: signerObject(sg.Name)}
	return s.writer.RunAs(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		key, err := q.GetSigningKeyByID(ctx, st.SigningKeyID)
		if err != nil {
			return err
		}
		envs, err := q.ListSignerEnvironments(ctx, sg.ID)
		if err != nil {
			return err
		}
		switch st.Kind {
		case StepPublish:
			for _, env := range envs {
				if err := s.publishIn(ctx, q, o, key, env); err != nil {
					return err
				}
			}
		case StepActivate:
			if err := q.SetSignerActiveKey(ctx, queries.SetSignerActiveKeyParams{ActiveKeyID: key.ID, UpdatedAt: s.clock.Now(), ID: sg.ID}); err != nil {
				return err
			}
		case StepRetire:
			pubs, err := q.ListSigningKeyPublications(ctx, key.ID)
			if err != nil {
				return err
			}
			for _, pb := range pubs {
				env, err := q.GetEnvironmentByName(ctx, pb.EnvironmentName)
				if err != nil {
					return err
				}
				t := target(ctx, q, key, env, s.clock.Now())
				t.Detail = ""
				if err := o.Undeploy(ctx, q, t); err != nil {
					return err
				}
			}
		}
		late := s.clock.Now().Sub(st.DueAt).Round(time.Second)
		detail := fmt.Sprintf("%s %s (due %s", st.Kind, key.CkaID, st.DueAt.Format(time.RFC3339))
		if late > time.Minute {
			detail += fmt.Sprintf(", run %s late", late)
		}
		detail += ")"
		if err := q.MarkSignerStepDone(ctx, queries.MarkSignerStepDoneParams{DoneAt: sql.NullTime{Time: s.clock.Now(), Valid: true}, Detail: detail, ID: st.ID}); err != nil {
			return err
		}
		return o.Record(ctx, q, "signer."+st.Kind, signerObject(sg.Name), "", detail)
	})
}

// Schedule runs due steps every minute of the clock until ctx ends.
func (s *Service) Schedule(ctx context.Context, log func(error)) {
	for s.clock.Sleep(ctx, time.Minute) {
		if err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			log(err)
		}
	}
}
