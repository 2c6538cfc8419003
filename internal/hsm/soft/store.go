package soft

import (
	"bytes"
	"context"
	"sync"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
)

// Record is one key of the software token as it is stored: everything but
// SealedKey is public. SealedKey is the PKCS#8 private key sealed with the
// owner "hsm-soft/key/<hex CKA_ID>".
type Record struct {
	ID        []byte
	Label     string
	Algorithm hsm.Algorithm
	Bits      int
	Curve     string
	Origin    hsm.Origin
	SealedKey []byte
	PublicDER []byte // PKIX SubjectPublicKeyInfo
}

// Store keeps the software token's records. Each method maps to one SQL
// statement, so a sqlc-generated implementation is a thin adapter:
//
//	INSERT INTO soft_keys (id, label, algorithm, bits, curve, origin, sealed_key, public_der) VALUES (...)
//	SELECT ... FROM soft_keys WHERE id = ?
//	SELECT ... FROM soft_keys ORDER BY rowid
//	DELETE FROM soft_keys WHERE id = ?
type Store interface {
	// Put inserts a new record; an existing ID is an errs.Conflict error.
	Put(ctx context.Context, r Record) error
	// Get returns the record with the ID, or an errs.NotFound error.
	Get(ctx context.Context, id []byte) (Record, error)
	// List returns every record, oldest first.
	List(ctx context.Context) ([]Record, error)
	// Delete removes the record with the ID, or answers errs.NotFound.
	Delete(ctx context.Context, id []byte) error
}

// MemStore is an in-memory Store for tests.
type MemStore struct {
	mu      sync.Mutex
	records []Record
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{} }

func (s *MemStore) index(id []byte) int {
	for i, r := range s.records {
		if bytes.Equal(r.ID, id) {
			return i
		}
	}
	return -1
}

// Put implements Store.
func (s *MemStore) Put(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.index(r.ID) >= 0 {
		return errs.Errorf(errs.Conflict, "A key with CKA_ID %x already exists.", r.ID)
	}
	s.records = append(s.records, clone(r))
	return nil
}

// Get implements Store.
func (s *MemStore) Get(_ context.Context, id []byte) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.index(id); i >= 0 {
		return clone(s.records[i]), nil
	}
	return Record{}, hsm.NotFound(id)
}

// List implements Store.
func (s *MemStore) List(context.Context) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, len(s.records))
	for i, r := range s.records {
		out[i] = clone(r)
	}
	return out, nil
}

// Delete implements Store.
func (s *MemStore) Delete(_ context.Context, id []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return hsm.NotFound(id)
	}
	s.records = append(s.records[:i], s.records[i+1:]...)
	return nil
}

func clone(r Record) Record {
	r.ID = bytes.Clone(r.ID)
	r.SealedKey = bytes.Clone(r.SealedKey)
	r.PublicDER = bytes.Clone(r.PublicDER)
	return r
}
