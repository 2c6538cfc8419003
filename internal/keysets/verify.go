package keysets

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keysets/credential"
	"github.com/keyward/keyward/queries"
	"github.com/prometheus/client_golang/prometheus"
)

// Verify result codes.
const (
	CodeValid         = "VALID"
	CodeNotFound      = "NOT_FOUND"
	CodeMalformed     = "MALFORMED"
	CodePending       = Pending
	CodeSuspended     = Suspended
	CodeRevoked       = Revoked
	CodeExpired       = Expired
	CodeNotSubscribed = "NOT_SUBSCRIBED"
)

// VerifyCodes lists every code Verify answers.
var VerifyCodes = []string{CodeValid, CodeNotFound, CodeMalformed, CodePending, CodeSuspended, CodeRevoked, CodeExpired, CodeNotSubscribed}

// VerifyInput is a credential a gateway was shown: an API key, or a
// client id and secret; API, when set, is the API it was shown for.
type VerifyInput struct {
	Key          string
	ClientID     string
	ClientSecret string
	API          string
}

// VerifyResult is the verdict. The key set's names are given for any key
// found in the environment (valid or not), never for NOT_FOUND.
type VerifyResult struct {
	Valid        bool
	Code         string
	Message      string // for MALFORMED: what is wrong, naming the field
	KeySet       string
	Application  string
	Organization string
	APIs         []string
	ExpiresAt    *time.Time
}

// Verify judges a credential presented to a gateway of environment env,
// from the in-memory index: no database read. The stored expiry is
// checked here, so an expired key is refused even if the scheduler is
// late; a replaced key verifies until the end of its grace period. Only
// env's gateway token may ask. Every answer is counted by code.
func (s *Service) Verify(ctx context.Context, p access.Principal, env string, in VerifyInput) (VerifyResult, error) {
	if p.GatewayEnvironment != env {
		return VerifyResult{}, errs.Errorf(errs.Forbidden, "Only a gateway token of environment %q can verify its credentials.", env)
	}
	var h [32]byte
	var secret []byte
	switch {
	case in.Key != "" && (in.ClientID != "" || in.ClientSecret != ""):
		return VerifyResult{}, errs.FieldErrorf("key", "Send either key, or clientId and clientSecret, not both.")
	case in.Key != "":
		if err := credential.Check(in.Key, credential.APIKey); err != nil {
			return s.count(VerifyResult{Code: CodeMalformed, Message: "key: " + err.Error() + "."}), nil
		}
		h = credential.Hash(in.Key)
	case in.ClientID != "" || in.ClientSecret != "":
		if in.ClientID == "" {
			return VerifyResult{}, errs.FieldErrorf("clientId", "Send the clientId with the clientSecret.")
		}
		if in.ClientSecret == "" {
			return VerifyResult{}, errs.FieldErrorf("clientSecret", "Send the clientSecret with the clientId.")
		}
		if err := credential.Check(in.ClientID, credential.ClientID); err != nil {
			return s.count(VerifyResult{Code: CodeMalformed, Message: "clientId: " + err.Error() + "."}), nil
		}
		if err := credential.Check(in.ClientSecret, credential.ClientSecret); err != nil {
			return s.count(VerifyResult{Code: CodeMalformed, Message: "clientSecret: " + err.Error() + "."}), nil
		}
		h = credential.Hash(in.ClientID)
		sh := credential.Hash(in.ClientSecret)
		secret = sh[:]
	default:
		return VerifyResult{}, errs.FieldErrorf("key", "Send the key to verify, or clientId and clientSecret.")
	}
	e := s.index.lookup(h)
	if e != nil && e.secretHash == nil && secret != nil || e != nil && e.secretHash != nil && secret == nil {
		e = nil // an API key sent as a client id, or the reverse
	}
	now := s.clock.Now()
	code := e.judge(env, secret, in.API, now)
	r := VerifyResult{Code: code, Valid: code == CodeValid}
	if code != CodeNotFound {
		r.KeySet, r.Application, r.Organization, r.APIs = e.set.name, e.set.application, e.set.organization, e.set.apis
		if !e.expiresAt.IsZero() {
			t := e.expiresAt
			r.ExpiresAt = &t
		}
	}
	if r.Valid {
		s.index.markUsed(e.keyID, now)
	}
	return s.count(r), nil
}

func (s *Service) count(r VerifyResult) VerifyResult {
	s.index.verified.WithLabelValues(r.Code).Inc()
	if r.APIs == nil {
		r.APIs = []string{}
	}
	return r
}

// Collectors are the area's metrics, for the /metrics registry.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.index.verified}
}

// FlushLastUsed writes the last-used times Verify collected, in one
// transaction: in batches on the clock, and at Close.
func (s *Service) FlushLastUsed(ctx context.Context) error {
	used := s.index.takeUsed()
	if len(used) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		for id, at := range used {
			if err := q.TouchKeySetKey(ctx, queries.TouchKeySetKeyParams{LastUsedAt: nullTime(at), ID: id}); err != nil {
				return fmt.Errorf("last-used times: %w", err)
			}
		}
		return nil
	})
}

// KeyCredentials are one key's values.
type KeyCredentials struct {
	Seq    int64
	Latest bool
	Status string
	Credentials
}

// RetrieveCredentials opens the sealed values of a key set's LATEST key
// and of the replaced keys still in their grace period. KEY_SETS:MANAGE
// (viewers and auditors never see them); every retrieval is audited.
func (s *Service) RetrieveCredentials(ctx context.Context, p access.Principal, project, name string) ([]KeyCredentials, error) {
	out := []KeyCredentials{}
	err := s.run(ctx, write(p, project, "key_set.credentials", keySetObject(name), manage), func(ctx context.Context, t *tx) error {
		ks, err := loadKeySet(ctx, t.q, t.Project, name)
		if err != nil {
			return err
		}
		keys, err := t.q.ListKeySetKeys(ctx, ks.ID)
		if err != nil {
			return err
		}
		now := t.Now()
		var seqs []string
		for i, k := range keys {
			if i > 0 && !(k.GraceUntil.Valid && k.GraceUntil.Time.After(now)) {
				continue
			}
			plain, err := s.sealer.Open(keyBinding(ks.ID, k.Seq), k.Sealed)
			if err != nil {
				return fmt.Errorf("open key #%d of key set %q: %w", k.Seq, name, err)
			}
			kc := KeyCredentials{Seq: k.Seq, Latest: i == 0, Status: k.Status}
			if err := json.Unmarshal(plain, &kc.Credentials); err != nil {
				return err
			}
			out = append(out, kc)
			seqs = append(seqs, fmt.Sprintf("#%d %s", k.Seq, k.Display))
		}
		env, err := t.q.GetEnvironmentByID(ctx, ks.EnvironmentID)
		if err != nil {
			return err
		}
		return t.Record(ctx, t.q, "key_set.credentials", keySetObject(name), env.Name, fmt.Sprintf("retrieved key(s) %v", seqs))
	})
	return out, err
}

// IndexSize is how many keys the verify index holds.
func (s *Service) IndexSize() int { return s.index.Size() }
