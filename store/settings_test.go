package store

import (
	"bytes"
	"context"
	"sync"
	"testing"
)

func TestSettings(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if v, ok, err := s.GetSetting(ctx, "site.title"); err != nil || ok || v != "" {
		t.Fatalf("GetSetting(missing) = %q, %v, %v", v, ok, err)
	}
	for _, v := range []string{"Bulletin", "Bulletin écoresponsable"} {
		if err := s.SetSetting(ctx, "site.title", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.GetSetting(ctx, "site.title"); err != nil || !ok || got != v {
			t.Errorf("GetSetting = %q, %v, %v; want %q", got, ok, err, v)
		}
	}
}

func TestSecretGeneratedOnceAndStable(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	others := []*SQLite{s, openAt(t, path), openAt(t, path), openAt(t, path)}
	secrets := make([][]byte, len(others))
	var wg sync.WaitGroup
	for i, st := range others {
		wg.Go(func() {
			var err error
			if secrets[i], err = st.Secret(ctx); err != nil {
				t.Errorf("Secret: %v", err)
			}
		})
	}
	wg.Wait()
	if len(secrets[0]) != 32 || bytes.Equal(secrets[0], make([]byte, 32)) {
		t.Fatalf("secret %x is not 32 random bytes", secrets[0])
	}
	for i, sec := range secrets {
		if !bytes.Equal(sec, secrets[0]) {
			t.Errorf("racing caller %d got another secret", i)
		}
	}
	for _, st := range others {
		st.Close()
	}
	reopened := openAt(t, path)
	again, err := reopened.Secret(ctx)
	if err != nil || !bytes.Equal(again, secrets[0]) {
		t.Errorf("after reopen Secret = %x, %v; want the stored one", again, err)
	}
	if err := reopened.SetSetting(ctx, secretKey, "not hex"); err != nil {
		t.Fatal(err)
	}
	if _, err := reopened.Secret(ctx); err == nil {
		t.Error("Secret accepted a corrupted stored value")
	}
}
