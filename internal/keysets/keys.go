package keysets

// Issuing keys: values, hashes, the sealed copy, and the timers a policy
// starts (scheduled rotation and expiration).

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyward/keyward/internal/keysets/credential"
	"github.com/keyward/keyward/queries"
)

// Timeline event types.
const (
	EventCreated     = "CREATED"
	EventProvisioned = "PROVISIONED" // first activated
	EventActivated   = "ACTIVATED"
	EventSuspended   = "SUSPENDED"
	EventRevoked     = "REVOKED"
	EventRegenerated = "REGENERATED"
	EventRotation    = "ROTATION"   // scheduled
	EventExpiration  = "EXPIRATION" // scheduled
	EventKeyRetired  = "KEY_RETIRED"
)

// Event states.
const (
	StateScheduled = "SCHEDULED"
	StateDone      = "DONE"
	StateCancelled = "CANCELLED"
)

// Credentials are a key's values, shown once when issued and then only
// through RetrieveCredentials.
type Credentials struct {
	Key          string `json:"key,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
}

func keyBinding(keySetID, seq int64) string { return fmt.Sprintf("key_set/%d/key/%d", keySetID, seq) }

// newCredentials generates the values of one key of authType, with their
// hashes and what lists show.
func newCredentials(authType string) (c Credentials, valueHash, secretHash []byte, display string) {
	if authType == ClientCredentials {
		c.ClientID, c.ClientSecret = credential.New(credential.ClientID), credential.New(credential.ClientSecret)
		v, sh := credential.Hash(c.ClientID), credential.Hash(c.ClientSecret)
		return c, v[:], sh[:], credential.Display(c.ClientID) + " / " + credential.Display(c.ClientSecret)
	}
	c.Key = credential.New(credential.APIKey)
	v := credential.Hash(c.Key)
	return c, v[:], nil, credential.Display(c.Key)
}

// issueKey adds key seq to ks with status, sealed, and starts its timers
// unless it is PENDING (they start at activation).
func (s *Service) issueKey(ctx context.Context, t *tx, ks queries.KeySet, pol Policy, seq int64, status string) (Credentials, queries.KeySetKey, error) {
	c, vh, sh, display := newCredentials(ks.AuthType)
	plain, err := json.Marshal(c)
	if err != nil {
		return c, queries.KeySetKey{}, err
	}
	sealed, err := s.sealer.Seal(keyBinding(ks.ID, seq), plain)
	if err != nil {
		return c, queries.KeySetKey{}, err
	}
	now := t.Now()
	var activated time.Time
	if status != Pending {
		activated = now
	}
	k, err := t.q.AddKeySetKey(ctx, queries.AddKeySetKeyParams{KeySetID: ks.ID, Seq: seq, ValueHash: vh, SecretHash: sh, Sealed: sealed,
		Display: display, Status: status, CreatedAt: now, ActivatedAt: nullTime(activated)})
	if err != nil {
		return c, k, err
	}
	if status != Pending {
		if k, err = s.startTimers(ctx, t, ks, pol, k); err != nil {
			return c, k, err
		}
	}
	return c, k, nil
}

// startTimers schedules key k's rotation and expiration from now, as pol
// says, and copies them to the key set for the list's filters. When both
// fall on the same day, rotation wins: it is scheduled no later than the
// expiration, and runs first.
func (s *Service) startTimers(ctx context.Context, t *tx, ks queries.KeySet, pol Policy, k queries.KeySetKey) (queries.KeySetKey, error) {
	now := t.Now()
	var rotAt, expAt time.Time
	if d, ok := pol.Expiration(); ok {
		expAt = now.Add(d)
	}
	if d, ok := pol.Rotation(); ok {
		rotAt = now.Add(d)
		if !expAt.IsZero() && rotAt.After(expAt) && sameDay(rotAt, expAt) {
			rotAt = expAt
		}
	}
	if !rotAt.IsZero() {
		if err := s.schedule(ctx, t, ks.ID, k.Seq, EventRotation, rotAt, fmt.Sprintf("key #%d is replaced by a new key", k.Seq)); err != nil {
			return k, err
		}
	}
	if !expAt.IsZero() {
		if err := s.schedule(ctx, t, ks.ID, k.Seq, EventExpiration, expAt, fmt.Sprintf("key #%d expires", k.Seq)); err != nil {
			return k, err
		}
		if err := t.q.SetKeySetKeyExpires(ctx, queries.SetKeySetKeyExpiresParams{ExpiresAt: nullTime(expAt), ID: k.ID}); err != nil {
			return k, err
		}
		k.ExpiresAt = nullTime(expAt)
	}
	cur, err := t.q.GetKeySetByID(ctx, ks.ID)
	if err != nil {
		return k, err
	}
	return k, t.q.SetKeySetSchedule(ctx, queries.SetKeySetScheduleParams{ExpiresAt: nullTime(expAt), NextRotationAt: nullTime(rotAt),
		LastRotatedAt: cur.LastRotatedAt, UpdatedAt: now, ID: ks.ID})
}

// sameDay reports whether a and b fall on the same UTC day.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

func (s *Service) schedule(ctx context.Context, t *tx, keySetID, seq int64, typ string, at time.Time, detail string) error {
	_, err := t.q.AddKeySetEvent(ctx, queries.AddKeySetEventParams{KeySetID: keySetID, KeySeq: seq, Type: typ, State: StateScheduled,
		ScheduledAt: nullTime(at), Detail: detail})
	return err
}

// event records something that happened now.
func (s *Service) event(ctx context.Context, t *tx, keySetID, seq int64, typ, detail string) error {
	_, err := t.q.AddKeySetEvent(ctx, queries.AddKeySetEventParams{KeySetID: keySetID, KeySeq: seq, Type: typ, State: StateDone,
		ActualAt: nullTime(t.Now()), Actor: t.Principal.Username, Detail: detail})
	return err
}
