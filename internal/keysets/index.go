package keysets

// The verify index: every key's hash in memory, so that verifying a
// credential reads no database. It is built at start and patched after
// each committed change to a key set (the writes name the key sets they
// touched). Entries are never changed in place: a patch swaps in new ones,
// so a lookup needs the lock only to find its entry.

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/queries"
	"github.com/prometheus/client_golang/prometheus"
)

type setEntry struct {
	id                                                              int64
	project, name, application, organization, environment, authType string
	status                                                          string
	apis                                                            []string
	hashes                                                          [][32]byte
}

type keyEntry struct {
	set        *setEntry
	keyID, seq int64
	latest     bool
	status     string
	secretHash []byte
	expiresAt  time.Time // zero: never
	graceUntil time.Time // a replaced key verifies until then
}

// Index is the in-memory verify index, the last-used times not yet written
// and the verify counter.
type Index struct {
	clock clock.Clock
	mu    sync.RWMutex
	keys  map[[32]byte]*keyEntry
	sets  map[int64]*setEntry

	usedMu sync.Mutex
	used   map[int64]time.Time

	verified *prometheus.CounterVec
}

func newIndex(c clock.Clock) *Index {
	return &Index{clock: c, keys: map[[32]byte]*keyEntry{}, sets: map[int64]*setEntry{}, used: map[int64]time.Time{},
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyward_credential_verifications_total",
			Help: "Credential verifications by gateways, by result code (VALID, or why it was refused).",
		}, []string{"code"})}
}

type indexRow = queries.ListKeySetIndexRowsRow

func build(r indexRow, keys []queries.KeySetKey, apis []string) (*setEntry, []*keyEntry) {
	set := &setEntry{id: r.ID, project: r.ProjectName, name: r.Name, application: r.ApplicationName, organization: r.OrganizationName,
		environment: r.EnvironmentName, authType: r.AuthType, status: r.Status, apis: apis}
	if set.apis == nil {
		set.apis = []string{}
	}
	sort.Strings(set.apis)
	var out []*keyEntry
	for i, k := range keys { // newest first
		e := &keyEntry{set: set, keyID: k.ID, seq: k.Seq, latest: i == 0, status: k.Status, secretHash: k.SecretHash}
		if k.ExpiresAt.Valid {
			e.expiresAt = k.ExpiresAt.Time
		}
		if k.GraceUntil.Valid {
			e.graceUntil = k.GraceUntil.Time
		}
		set.hashes = append(set.hashes, [32]byte(k.ValueHash))
		out = append(out, e)
	}
	return set, out
}

// rebuild replaces the whole index with what the database holds.
func (x *Index) rebuild(ctx context.Context, q *queries.Queries) error {
	rows, err := q.ListKeySetIndexRows(ctx)
	if err != nil {
		return err
	}
	allKeys, err := q.ListAllKeySetKeys(ctx)
	if err != nil {
		return err
	}
	allAPIs, err := q.ListAllAuthorizedAPIs(ctx)
	if err != nil {
		return err
	}
	keysOf := map[int64][]queries.KeySetKey{}
	for _, k := range allKeys {
		keysOf[k.KeySetID] = append(keysOf[k.KeySetID], k)
	}
	apisOf := map[int64][]string{}
	for _, a := range allAPIs {
		apisOf[a.KeySetID] = append(apisOf[a.KeySetID], a.ApiName)
	}
	keys, sets := make(map[[32]byte]*keyEntry, len(allKeys)), make(map[int64]*setEntry, len(rows))
	for _, r := range rows {
		set, entries := build(r, keysOf[r.ID], apisOf[r.ID])
		sets[r.ID] = set
		for i, e := range entries {
			keys[set.hashes[i]] = e
		}
	}
	x.mu.Lock()
	x.keys, x.sets = keys, sets
	x.mu.Unlock()
	return nil
}

// reload patches the entries of key sets ids from the database (dropping
// those deleted).
func (x *Index) reload(ctx context.Context, q *queries.Queries, ids []int64) error {
	type patch struct {
		id      int64
		set     *setEntry
		entries []*keyEntry
	}
	var patches []patch
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := q.GetKeySetIndexRow(ctx, id)
		if errors.Is(err, sql.ErrNoRows) {
			patches = append(patches, patch{id: id})
			continue
		} else if err != nil {
			return err
		}
		keys, err := q.ListKeySetKeys(ctx, id)
		if err != nil {
			return err
		}
		apis, err := q.ListAuthorizedAPIs(ctx, queries.ListAuthorizedAPIsParams{KeySetID: id, AuthType: r.AuthType})
		if err != nil {
			return err
		}
		set, entries := build(indexRow(r), keys, apis)
		patches = append(patches, patch{id, set, entries})
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, p := range patches {
		if old := x.sets[p.id]; old != nil {
			for _, h := range old.hashes {
				delete(x.keys, h)
			}
			delete(x.sets, p.id)
		}
		if p.set == nil {
			continue
		}
		x.sets[p.id] = p.set
		for i, e := range p.entries {
			x.keys[p.set.hashes[i]] = e
		}
	}
	return nil
}

func (x *Index) lookup(h [32]byte) *keyEntry {
	x.mu.RLock()
	e := x.keys[h]
	x.mu.RUnlock()
	return e
}

// Size is how many keys the index holds.
func (x *Index) Size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.keys)
}

// judge is the verdict on key e presented in environment env at now.
func (e *keyEntry) judge(env string, secret []byte, api string, now time.Time) string {
	if e == nil || e.set.environment != env {
		return CodeNotFound
	}
	if e.secretHash != nil && subtle.ConstantTimeCompare(e.secretHash, secret) != 1 {
		return CodeNotFound
	}
	switch e.set.status {
	case Pending, Suspended, Revoked, Expired:
		return e.set.status
	}
	if !e.latest {
		if e.status == Expired {
			return CodeExpired
		}
		if !now.Before(e.graceUntil) {
			return CodeRevoked
		}
	}
	if !e.expiresAt.IsZero() && !now.Before(e.expiresAt) {
		return CodeExpired
	}
	if api != "" {
		i := sort.SearchStrings(e.set.apis, api)
		if i == len(e.set.apis) || e.set.apis[i] != api {
			return CodeNotSubscribed
		}
	}
	return CodeValid
}

func (x *Index) markUsed(keyID int64, at time.Time) {
	x.usedMu.Lock()
	x.used[keyID] = at
	x.usedMu.Unlock()
}

func (x *Index) takeUsed() map[int64]time.Time {
	x.usedMu.Lock()
	defer x.usedMu.Unlock()
	out := x.used
	x.used = map[int64]time.Time{}
	return out
}
