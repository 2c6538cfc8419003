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
	"github.com/keyward/keyward/queries"
)

// JWKSet is one published JWKS document with its entity tag.
type JWKSet struct {
	Body []byte
	ETag string
}

// JWKSCache holds the public JWKS of every (project, environment) in
// memory, with the names of every project and environment, so that reads of
// /jwks/ never touch the database, whatever names a client asks for. It is
// rebuilt after every publication that involves a JWK and after projects or
// environments are created or deleted.
type JWKSCache struct {
	db       *db.DB
	log      *slog.Logger
	mu       sync.RWMutex
	set      map[string]*JWKSet
	projects map[string]bool
	envs     map[string]bool

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

// Get returns the JWKS of a project's environment: Empty when both exist but
// nothing is published there; ok is false when either does not exist.
func (c *JWKSCache) Get(project, env string) (*JWKSet, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if s, ok := c.set[cacheKey(project, env)]; ok {
		return s, true
	}
	if c.projects[project] && c.envs[env] {
		return Empty, true
	}
	return nil, false
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
	var rows []queries.ListAllDeployedPublicJWKsRow
	var projects []queries.Project
	var envs []queries.Environment
	err := c.db.View(ctx, func(q *queries.Queries) error {
		var err error
		if rows, err = q.ListAllDeployedPublicJWKs(ctx); err != nil {
			return err
		}
		// Published signing keys are public JWKs of their project's JWKS too.
		signing, err := q.ListAllSigningKeyPublications(ctx)
		if err != nil {
			return err
		}
		for _, r := range signing {
			rows = append(rows, queries.ListAllDeployedPublicJWKsRow{DeployedJson: r.JwkJson, Kid: r.Kid, ProjectName: r.ProjectName, EnvironmentName: r.EnvironmentName})
		}
		if projects, err = q.ListProjects(ctx); err != nil {
			return err
		}
		envs, err = q.ListEnvironments(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("rebuild JWKS cache: %w", err)
	}
	knownProjects, knownEnvs := map[string]bool{}, map[string]bool{}
	for _, p := range projects {
		knownProjects[p.Name] = true
	}
	for _, e := range envs {
		knownEnvs[e.Name] = true
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
	c.set, c.projects, c.envs = next, knownProjects, knownEnvs
	c.mu.Unlock()
	return nil
}

// Listener rebuilds the cache after a publication of an item type that
// appears in a JWKS.
func (c *JWKSCache) Listener(ctx context.Context, done []deploy.Published) {
	for _, d := range done {
		if d.Change.ObjectType.InJWKS() {
			if err := c.Rebuild(ctx); err != nil {
				c.log.Error("rebuild JWKS cache", "error", err.Error())
			}
			return
		}
	}
}

// Refresh rebuilds the cache after projects or environments change; a
// failure is logged (the previous copy keeps serving).
func (c *JWKSCache) Refresh(ctx context.Context) {
	if err := c.Rebuild(ctx); err != nil {
		c.log.Error("rebuild JWKS cache", "error", err.Error())
	}
}
