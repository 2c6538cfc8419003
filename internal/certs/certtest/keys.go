package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
)

// rsaKeys caches three RSA keys per size: generating a 2048-bit key costs
// a good fraction of a second on a small machine, and chains never share
// subject names, so reusing a key across chains cannot link them.
var rsaKeys struct {
	sync.Mutex
	bySize map[int]*[3]*rsa.PrivateKey
	next   int
}

// cachedRSA is key i (0, 1 or 2) of size bits.
func cachedRSA(t testing.TB, bits, i int) *rsa.PrivateKey {
	t.Helper()
	rsaKeys.Lock()
	defer rsaKeys.Unlock()
	if rsaKeys.bySize == nil {
		rsaKeys.bySize = map[int]*[3]*rsa.PrivateKey{}
	}
	set := rsaKeys.bySize[bits]
	if set == nil {
		set = new([3]*rsa.PrivateKey)
		rsaKeys.bySize[bits] = set
	}
	if set[i] == nil {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatalf("certtest: RSA %d key: %v", bits, err)
		}
		set[i] = k
	}
	return set[i]
}

// NewKey returns a fresh P-256 key, or one of three cached RSA keys of bits
// (2048 when 0), handed out in turn.
func NewKey(t testing.TB, kind KeyType, bits int) crypto.Signer {
	t.Helper()
	if kind == ECDSA {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatalf("certtest: ECDSA key: %v", err)
		}
		return k
	}
	if bits == 0 {
		bits = 2048
	}
	rsaKeys.Lock()
	i := rsaKeys.next % 3
	rsaKeys.next++
	rsaKeys.Unlock()
	return cachedRSA(t, bits, i)
}

// chainKeys are a chain's root, intermediate and leaf keys, distinct from
// each other.
func chainKeys(t testing.TB, opts Options) (root, inter, leaf crypto.Signer) {
	t.Helper()
	if opts.Key == ECDSA {
		return NewKey(t, ECDSA, 0), NewKey(t, ECDSA, 0), NewKey(t, ECDSA, 0)
	}
	bits := opts.LeafRSABits
	if bits == 0 {
		bits = 2048
	}
	return cachedRSA(t, 2048, 0), cachedRSA(t, 2048, 1), cachedRSA(t, bits, 2)
}
