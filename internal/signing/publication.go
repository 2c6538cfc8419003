package signing

import (
	"context"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/queries"
)

// target is a key's publication in one environment, for the deploy helper.
func target(ctx context.Context, q *queries.Queries, k queries.SigningKey, env queries.Environment, at time.Time) publish.Target {
	return publish.Target{Type: typeSigningKey, Name: k.Label + " (" + k.CkaID + ")", Env: env, Detail: "kid " + k.Kid, Mark: func(rev int64) error {
		if rev == 0 {
			return q.DeleteSigningKeyPublication(ctx, queries.DeleteSigningKeyPublicationParams{SigningKeyID: k.ID, EnvironmentID: env.ID})
		}
		j, err := jwkOf(k)
		if err != nil {
			return err
		}
		return q.UpsertSigningKeyPublication(ctx, queries.UpsertSigningKeyPublicationParams{SigningKeyID: k.ID, EnvironmentID: env.ID,
			JwkJson: string(j), DeployedRevision: rev, DeployedAt: at})
	}}
}

// Publish puts a key's public JWK in an environment's JWKS (or, with
// unpublish, takes it out): a deploy. SIGNING_KEYS:MANAGE and
// SIGNING_KEYS:DEPLOY_UNDEPLOY.
func (s *Service) Publish(ctx context.Context, p access.Principal, project, ckaID, envName string, unpublish bool) (*publish.Result, error) {
	verb := deploy.Deploy
	if unpublish {
		verb = deploy.Undeploy
	}
	var result *publish.Result
	wr := publish.Write{Principal: p, Project: project, Environment: envName, Action: typeSigningKey.Action(verb), Object: "signing-key/" + ckaID,
		Perms: []access.Permission{access.SigningKeysManage, access.SigningKeysDeploy}}
	err := s.writer.Run(ctx, wr, func(q *queries.Queries, o *publish.Op) error {
		k, err := loadKey(ctx, q, o.Project, ckaID)
		if err != nil {
			return err
		}
		env, err := environments.Load(ctx, q, envName)
		if err != nil {
			return err
		}
		published := false
		pubs, err := q.ListSigningKeyPublications(ctx, k.ID)
		if err != nil {
			return err
		}
		for _, pb := range pubs {
			published = published || pb.EnvironmentID == env.ID
		}
		t := target(ctx, q, k, env, s.clock.Now())
		if unpublish {
			if !published {
				return errs.Errorf(errs.Conflict, "Signing key %s is not published in environment %q.", k.CkaID, envName)
			}
			t.Detail = ""
			err = o.Undeploy(ctx, q, t)
		} else {
			err = o.Deploy(ctx, q, t)
		}
		if err != nil {
			return err
		}
		result = o.Result(typeSigningKey, verb)
		return nil
	})
	return result, err
}
