package db

import (
	"sync"
	"time"
)

// Memo caches values read from the database on hot read paths (a token's
// row, the key a signature needs). An entry is used only while the database's
// Generation is what it was before the value was read — any write
// transaction through InTx drops every entry — and for at most ttl, which
// bounds how long a change another process made (the keyward CLI on the
// same file) can go unseen.
type Memo[K comparable, V any] struct {
	d   *DB
	ttl time.Duration
	max int

	mu sync.RWMutex
	m  map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	v   V
	gen uint64
	at  time.Time
}

// NewMemo returns a Memo holding at most max entries.
func NewMemo[K comparable, V any](d *DB, ttl time.Duration, max int) *Memo[K, V] {
	return &Memo[K, V]{d: d, ttl: ttl, max: max, m: make(map[K]memoEntry[V])}
}

// Get returns the value cached for k while it is still valid.
func (m *Memo[K, V]) Get(k K) (V, bool) {
	m.mu.RLock()
	e, ok := m.m[k]
	m.mu.RUnlock()
	if !ok || e.gen != m.d.Generation() || time.Since(e.at) >= m.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put caches v for k; gen is the Generation read before v was.
func (m *Memo[K, V]) Put(k K, v V, gen uint64) {
	if gen != m.d.Generation() {
		return
	}
	m.mu.Lock()
	if len(m.m) >= m.max {
		clear(m.m)
	}
	m.m[k] = memoEntry[V]{v: v, gen: gen, at: time.Now()}
	m.mu.Unlock()
}
