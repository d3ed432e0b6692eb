//go:build unix

package publication

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A named pipe called like a Markdown file is refused at once: opening it
// for reading would otherwise wait for a writer forever.
func TestReadLimitedPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe.md")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := readLimited(p, 100)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errNotRegular) {
			t.Errorf("err = %v, want %v", err, errNotRegular)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readLimited blocked on a named pipe")
	}
}

// Load reports the pipe and loads the rest.
func TestLoadSkipsPipe(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"ok.md": "---\ntitle: OK\ndate: 2024-01-01\n---\nTexte.\n"})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.md"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	s, err := Load(context.Background(), dir, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Publications) != 1 || s.Errors() != 1 {
		t.Fatalf("%d publications, diagnostics %v", len(s.Publications), diagStrings(s))
	}
	if got := s.Diagnostics[0].String(); got != "site/pipe.md: error: cannot read: not a regular file: file skipped" {
		t.Errorf("diagnostic %q", got)
	}
}
