package mailer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOutboxWritesRenderedMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox") // created on first Send
	var s Sender = NewOutbox(dir)
	m := digestMessage()
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := s.(*Outbox).Dir(); got != dir {
		t.Errorf("Dir() = %q, want %q", got, dir)
	}
	got, err := os.ReadFile(filepath.Join(dir, m.MessageID+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := render(t, m); !bytes.Equal(got, want) {
		t.Errorf("file holds\n%s\nwant\n%s", got, want)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestOutboxResendOverwrites(t *testing.T) {
	dir := t.TempDir()
	o := NewOutbox(dir)
	m := digestMessage()
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.Subject = "Deuxième envoi"
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	other := numbered(7, "")
	if err := o.Send(context.Background(), other); err != nil {
		t.Fatal(err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{m.MessageID + ".eml", other.MessageID + ".eml"} // ReadDir sorts by name
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("outbox holds %v, want %v (no duplicate, no temporary file)", names, want)
	}
	got, _ := os.ReadFile(filepath.Join(dir, m.MessageID+".eml"))
	if p := parse(t, got); decodeHeader(t, p.header.Get("Subject")) != "Deuxième envoi" {
		t.Errorf("the resend did not replace the file: Subject %q", p.header.Get("Subject"))
	}
}

func TestOutboxFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	o := NewOutbox(dir)
	m := digestMessage()
	m.To = "not an address"
	if err := o.Send(context.Background(), m); !IsInvalid(err) || IsPermanent(err) {
		t.Errorf("Send error %v, want invalid (not permanent)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.Send(ctx, digestMessage()); !errors.Is(err, context.Canceled) {
		t.Errorf("Send error %v, want context.Canceled", err)
	}
	// A folder that cannot be written: the error names the file and no
	// temporary file stays behind.
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		err := NewOutbox(readOnly).Send(context.Background(), digestMessage())
		if err == nil || !strings.Contains(err.Error(), readOnly) {
			t.Errorf("Send into a read-only folder: %v", err)
		}
	}
	blocked := filepath.Join(dir, "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := NewOutbox(filepath.Join(blocked, "sub")).Send(context.Background(), digestMessage()); err == nil {
		t.Error("Send under a regular file succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "ro" && e.Name() != "file" {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestFileName(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{"d12.s345.abc@bulletin.example.org", "d12.s345.abc@bulletin.example.org.eml"},
		{"a+b=c_d-e@x", "a+b=c_d-e@x.eml"},
	} {
		if got := FileName(c.id); got != c.want {
			t.Errorf("FileName(%q) = %q, want %q", c.id, got, c.want)
		}
	}
	unsafe := []string{"../../etc/passwd@x", "a/b@x", "a_b@x", ".hidden@x", "a\\b@x", "é@x", "", strings.Repeat("a", 600) + "@x", strings.Repeat("a", 600) + "@y"}
	seen := map[string]string{}
	for _, id := range unsafe {
		name := FileName(id)
		if strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".eml") || len(name) > 255 {
			t.Errorf("FileName(%q) = %q is not a safe file name", id, name)
		}
		if prev, ok := seen[name]; ok {
			t.Errorf("FileName(%q) and FileName(%q) are both %q", prev, id, name)
		}
		seen[name] = id
		if FileName(id) != name {
			t.Errorf("FileName(%q) is not stable", id)
		}
	}
}
