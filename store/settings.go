package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// secretKey is the setting holding the token-signing secret, hex-encoded.
const secretKey = "token_secret"

// secretLen is the size of the generated secret in bytes.
const secretLen = 32

// GetSetting returns the value stored under key; ok is false if none is.
func (s *SQLite) GetSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: setting %s: %w", key, err)
	}
	return v, true, nil
}

// SetSetting stores value under key, replacing any previous value.
func (s *SQLite) SetSetting(ctx context.Context, key, value string) error {
	if _, err := s.write.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, time.Now().Unix()); err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}

// Secret returns the secret that signs subscriber tokens (confirmation,
// unsubscribe links). The first call generates 32 random bytes and stores
// them; concurrent first calls, even from two processes, agree on one value.
// Never log it.
func (s *SQLite) Secret(ctx context.Context) ([]byte, error) {
	if v, ok, err := s.GetSetting(ctx, secretKey); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	} else if ok {
		return decodeSecret(v)
	}
	fresh, err := randomHex(secretLen)
	if err != nil {
		return nil, fmt.Errorf("store: secret: generate: %w", err)
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, secretKey, fresh, time.Now().Unix()); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	var stored string
	if err := s.write.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, secretKey).Scan(&stored); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	return decodeSecret(stored)
}

func decodeSecret(stored string) ([]byte, error) {
	secret, err := hex.DecodeString(stored)
	if err != nil || len(secret) < secretLen {
		return nil, fmt.Errorf("store: secret: the stored %s setting is not %d hex-encoded bytes", secretKey, secretLen)
	}
	return secret, nil
}
