// Package signers is the signer cache both KeyManager backends share: one
// crypto.Signer per CKA_ID, built once, revoked when its key is deleted so
// that a signer handed out earlier fails cleanly instead of reaching a
// destroyed (or, on some tokens, reused) object handle.
package signers

import (
	"crypto"
	"io"
	"sync"
	"sync/atomic"

	"github.com/keyward/keyward/internal/hsm"
)

// Cache holds the signers handed out, keyed by CKA_ID. The zero value is
// ready to use.
type Cache struct {
	mu sync.Mutex
	m  map[string]*Signer
}

// Get returns the cached signer for id, or builds one with load and caches
// it. Loads for different keys run concurrently; a load for an id already
// cached is not repeated.
func (c *Cache) Get(id []byte, load func() (crypto.Signer, error)) (crypto.Signer, error) {
	c.mu.Lock()
	s, ok := c.m[string(id)]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	inner, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[string(id)]; ok {
		return s, nil
	}
	if c.m == nil {
		c.m = map[string]*Signer{}
	}
	s = &Signer{id: append([]byte(nil), id...), inner: inner}
	c.m[string(id)] = s
	return s, nil
}

// Evict drops id's signer and revokes it: its Sign answers hsm.Deleted.
func (c *Cache) Evict(id []byte) {
	c.mu.Lock()
	s := c.m[string(id)]
	delete(c.m, string(id))
	c.mu.Unlock()
	if s != nil {
		s.gone.Store(true)
	}
}

// EvictAll revokes every cached signer (on Close).
func (c *Cache) EvictAll() {
	c.mu.Lock()
	all := c.m
	c.m = nil
	c.mu.Unlock()
	for _, s := range all {
		s.gone.Store(true)
	}
}

// Signer wraps a backend's signer: it refuses to sign once revoked and maps
// rsa.PSSSaltLengthAuto to the hash length (hsm.SignerOpts). It exposes
// nothing but Public and Sign, so no caller can reach private material.
type Signer struct {
	id    []byte
	inner crypto.Signer
	gone  atomic.Bool
}

// Public returns the key's public half.
func (s *Signer) Public() crypto.PublicKey { return s.inner.Public() }

// Sign signs digest. ECDSA signatures are ASN.1 DER.
func (s *Signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.gone.Load() {
		return nil, hsm.Deleted(s.id)
	}
	return s.inner.Sign(rand, digest, hsm.SignerOpts(opts))
}
