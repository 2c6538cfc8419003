package db_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/db"
	"github.com/keyward/keyward/queries"
)

// TestMemoForgetsOnEveryWrite: a cached read is used until the next write
// transaction (committed or not) and never after; a value read before a
// write that raced with it is not cached at all; entries also expire.
func TestMemoForgetsOnEveryWrite(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "k.db"), schemaV1)
	ctx := context.Background()
	m := db.NewMemo[string, int](d, 50*time.Millisecond, 10)

	gen := d.Generation()
	m.Put("a", 1, gen)
	if v, ok := m.Get("a"); !ok || v != 1 {
		t.Fatalf("fresh entry: %v %v", v, ok)
	}
	if err := d.InTx(ctx, func(q *queries.Queries) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Get("a"); ok {
		t.Fatal("an entry survived a write transaction")
	}
	// A value read before a write is refused when it arrives after it.
	m.Put("b", 2, gen)
	if _, ok := m.Get("b"); ok {
		t.Fatal("a value read before the last write was cached")
	}
	// A rolled-back write also drops entries (it may have been anything).
	m.Put("c", 3, d.Generation())
	_ = d.InTx(ctx, func(q *queries.Queries) error { return errors.New("no") })
	if _, ok := m.Get("c"); ok {
		t.Fatal("an entry survived a rolled-back write transaction")
	}
	// Appending to the audit log changes nothing a cache holds.
	m.Put("d", 4, d.Generation())
	if err := d.AppendTx(ctx, func(q *queries.Queries) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Get("d"); !ok {
		t.Fatal("an audit-only transaction dropped the cache")
	}
	// Entries expire: changes another process makes are seen within ttl.
	time.Sleep(60 * time.Millisecond)
	if _, ok := m.Get("d"); ok {
		t.Fatal("an entry outlived its ttl")
	}
}
