package hsm

// TEMPORARY: the interface the hsm branch implements, so that the signing
// service builds. Deleted when that branch is merged.

import (
	"context"
	"crypto"
)

type Algorithm string

type Origin string

const (
	RSA Algorithm = "RSA"
	EC  Algorithm = "EC"

	Generated Origin = "GENERATED"
	Imported  Origin = "IMPORTED"
)

type KeyInfo struct {
	ID                     []byte
	Label                  string
	Algorithm              Algorithm
	Bits                   int
	Curve                  string
	Origin                 Origin
	Public                 crypto.PublicKey
	Sensitive, Extractable bool
}

type GenerateRequest struct {
	Label     string
	Algorithm Algorithm
	Bits      int
	Curve     string
}

type ImportRequest struct {
	Label         string
	PrivateKeyPEM []byte
}

type DeleteRequest struct {
	ID  []byte
	PIN string
}

type TokenInfo struct {
	Backend                            string
	Label, Manufacturer, Model, Serial string
	PINFlags                           []string
}

type KeyManager interface {
	Generate(ctx context.Context, r GenerateRequest) (KeyInfo, error)
	Import(ctx context.Context, r ImportRequest) (KeyInfo, error)
	List(ctx context.Context) ([]KeyInfo, error)
	Find(ctx context.Context, id []byte) (KeyInfo, error)
	Signer(ctx context.Context, id []byte) (crypto.Signer, error)
	Delete(ctx context.Context, r DeleteRequest) error
	CheckPIN(ctx context.Context, pin string) error
	Info(ctx context.Context) (TokenInfo, error)
	Close() error
}
