package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"

	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/keymaterial"
)

// JWKSet is one published JWKS document with its entity tag.
type JWKSet struct {
	Body []byte
	ETag string
}

// JWKSCache holds the public JWKS of every (project, environment) in
// memory, so that gateway and client reads of /jwks/ never touch the
// database. It is rebuilt after every publication that involves a JWK.
type JWKSCache struct {
	db  *db.DB
	log *slog.Logger
	mu  sync.RWMutex
	set map[string]*JWKSet

	// rebuilding serialises Rebuild's read and swap, so that a rebuild that
	// read the database before a later commit cannot replace the cache a
	// rebuild after that commit made.
	rebuilding sync.Mutex
}

// NewJWKSCache returns an empty cache; call Rebuild before serving.
func NewJWKSCache(d *db.DB, log *slog.Logger) *JWKSCache {
	return &JWKSCache{db: d, log: log, set: map[string]*JWKSet{}}
}

func cacheKey(project, env string) string { return project + "\x00" + env }

// Get returns the JWKS of a project's environment. ok is false when the
// pair is not cached: the project or the environment does not exist, or
// nothing was ever published there (the caller tells those apart).
func (c *JWKSCache) Get(project, env string) (*JWKSet, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.set[cacheKey(project, env)]
	return s, ok
}

// Empty is the JWKS of a pair with no published JWK.
var Empty = newJWKSet([][]byte{})

func newJWKSet(keys [][]byte) *JWKSet {
	var b bytes.Buffer
	b.WriteString(`{"keys":[`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(k)
	}
	b.WriteString("]}")
	sum := sha256.Sum256(b.Bytes())
	return &JWKSet{Body: b.Bytes(), ETag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// Rebuild reloads every published public JWK from the database. Each entry
// is checked once more for private members before it is served.
func (c *JWKSCache) Rebuild(ctx context.Context) error {
	c.rebuilding.Lock()
	defer c.rebuilding.Unlock()
	rows, err := c.db.Queries().ListAllDeployedPublicJWKs(ctx)
	if err != nil {
		return fmt.Errorf("rebuild JWKS cache: %w", err)
	}
	grouped := map[string][][]byte{}
	for _, r := range rows {
		raw := []byte(r.DeployedJson)
		if !keymaterial.PublicMembers(raw) {
			c.log.Error("refusing to publish a JWK with private members", "project", r.ProjectName, "environment", r.EnvironmentName, "kid", r.Kid)
			continue
		}
		k := cacheKey(r.ProjectName, r.EnvironmentName)
		grouped[k] = append(grouped[k], raw)
	}
	next := make(map[string]*JWKSet, len(grouped))
	for k, keys := range grouped {
		next[k] = newJWKSet(keys)
	}
	c.mu.Lock()
	c.set = next
	c.mu.Unlock()
	return nil
}

// Listener rebuilds the cache after a publication that involved a JWK.
func (c *JWKSCache) Listener(ctx context.Context, done []deploy.Published) {
	for _, d := range done {
		if d.Change.ObjectType == "jwk" {
			if err := c.Rebuild(ctx); err != nil {
				c.log.Error("rebuild JWKS cache", "error", err.Error())
			}
			return
		}
	}
}
