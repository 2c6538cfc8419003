package signing

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/soft"
	"github.com/keyward/keyward/queries"
)

// SoftStore keeps the built-in software token's keys in the SQLite file
// (table soft_token_keys): the private keys sealed, never handed out.
type SoftStore struct {
	db    *db.DB
	clock clock.Clock
}

// NewSoftStore returns the software token's store over d.
func NewSoftStore(d *db.DB, c clock.Clock) *SoftStore { return &SoftStore{db: d, clock: c} }

var _ soft.Store = (*SoftStore)(nil)

// Put implements soft.Store.
func (s *SoftStore) Put(ctx context.Context, r soft.Record) error {
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		err := q.PutSoftTokenKey(ctx, queries.PutSoftTokenKeyParams{ID: r.ID, Label: r.Label, Algorithm: string(r.Algorithm), Bits: int64(r.Bits),
			Curve: r.Curve, Origin: string(r.Origin), SealedKey: r.SealedKey, PublicDer: r.PublicDER, CreatedAt: s.clock.Now()})
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return errs.Errorf(errs.Conflict, "A key with CKA_ID %x already exists.", r.ID)
		}
		return err
	})
}

func record(k queries.SoftTokenKey) soft.Record {
	return soft.Record{ID: k.ID, Label: k.Label, Algorithm: hsm.Algorithm(k.Algorithm), Bits: int(k.Bits), Curve: k.Curve,
		Origin: hsm.Origin(k.Origin), SealedKey: k.SealedKey, PublicDER: k.PublicDer}
}

// Get implements soft.Store.
func (s *SoftStore) Get(ctx context.Context, id []byte) (soft.Record, error) {
	k, err := s.db.Queries().GetSoftTokenKey(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return soft.Record{}, hsm.NotFound(id)
	}
	return record(k), err
}

// List implements soft.Store.
func (s *SoftStore) List(ctx context.Context) ([]soft.Record, error) {
	rows, err := s.db.Queries().ListSoftTokenKeys(ctx)
	out := make([]soft.Record, len(rows))
	for i, r := range rows {
		out[i] = record(r)
	}
	return out, err
}

// Delete implements soft.Store.
func (s *SoftStore) Delete(ctx context.Context, id []byte) error {
	return s.db.InTx(ctx, func(q *queries.Queries) error {
		n, err := q.DeleteSoftTokenKey(ctx, id)
		if err == nil && n == 0 {
			return hsm.NotFound(id)
		}
		return err
	})
}
