//go:build cgo

package pkcs11

import (
	"context"
	"testing"

	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/hsm/hsmtest"
)

func TestConformance(t *testing.T) {
	hsmtest.Run(t, func(t *testing.T) (hsm.KeyManager, string) {
		return openToken(t), testPIN
	})
}

func TestSmoke(t *testing.T) {
	m := openToken(t)
	ti, err := m.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", ti)
}
