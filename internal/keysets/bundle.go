package keysets

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/keyward/keyward/internal/bundle"
	"github.com/keyward/keyward/queries"
)

// Contributor is the area's section of the gateway bundle: the
// environment's key sets with their keys' hashes (never a value),
// statuses, expiries and authorized APIs, so a gateway can verify offline.
func (s *Service) Contributor() bundle.Contributor { return contributor{} }

type contributor struct{}

func (contributor) Contribute(ctx context.Context, q *queries.Queries, env queries.Environment, b *bundle.Bundle) error {
	sets, err := q.ListDeployedKeySets(ctx, env.ID)
	if err != nil {
		return fmt.Errorf("deployed key sets: %w", err)
	}
	for _, ks := range sets {
		apis, err := q.ListAuthorizedAPIs(ctx, queries.ListAuthorizedAPIsParams{KeySetID: ks.ID, AuthType: ks.AuthType})
		if err != nil {
			return err
		}
		keys, err := q.ListKeySetKeys(ctx, ks.ID)
		if err != nil {
			return err
		}
		out := bundle.KeySet{Project: ks.ProjectName, Name: ks.Name, Application: ks.ApplicationName, Organization: ks.OrganizationName,
			AuthType: ks.AuthType, Status: ks.Status, APIs: apis, DeployedRevision: ks.DeployedRevision, Keys: []bundle.KeySetKey{}}
		for i, k := range keys {
			bk := bundle.KeySetKey{Seq: k.Seq, Latest: i == 0, Status: k.Status, CredentialHash: hex.EncodeToString(k.ValueHash),
				ExpiresAt: ptr(k.ExpiresAt), GraceUntil: ptr(k.GraceUntil)}
			if k.SecretHash != nil {
				bk.SecretHash = hex.EncodeToString(k.SecretHash)
			}
			out.Keys = append(out.Keys, bk)
		}
		b.KeySets = append(b.KeySets, out)
	}
	return nil
}
