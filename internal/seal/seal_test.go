package seal

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenBindsOwner(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("webhook secret value")
	ct, err := s.Seal("environment/1/webhook-secret", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, secret) {
		t.Fatal("sealed value contains the plaintext")
	}
	pt, err := s.Open("environment/1/webhook-secret", ct)
	if err != nil || !bytes.Equal(pt, secret) {
		t.Fatalf("Open = %q, %v; want the secret back", pt, err)
	}
	if _, err := s.Open("environment/2/webhook-secret", ct); err != ErrOpen {
		t.Fatalf("Open with another owner: err = %v, want ErrOpen", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := s.Open("environment/1/webhook-secret", ct); err != ErrOpen {
		t.Fatalf("Open of modified ciphertext: err = %v, want ErrOpen", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	ct2, _ := s.Seal("a", secret)
	if _, err := other.Open("a", ct2); err != ErrOpen {
		t.Fatalf("Open under another master key: err = %v, want ErrOpen", err)
	}
}

func TestMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	k1, created, err := LoadOrCreateMasterKey(path)
	if err != nil || !created || len(k1) != 32 {
		t.Fatalf("create: key %d bytes, created %v, err %v", len(k1), created, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("master key mode = %04o, want 0600", st.Mode().Perm())
	}
	k2, created, err := LoadOrCreateMasterKey(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: created %v, err %v, same %v", created, err, bytes.Equal(k1, k2))
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateMasterKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key: err = %v, want a chmod hint", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte("not base64!!"), 0o600)
	if _, _, err := LoadOrCreateMasterKey(bad); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("malformed key: err = %v", err)
	}
}
