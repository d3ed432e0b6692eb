package mailer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Outbox "sends" each message by writing it to <dir>/<message-id>.eml, for
// previews and dry runs. The name depends only on the Message-ID, so a
// resend replaces the file instead of adding one.
type Outbox struct {
	dir string
}

var _ Sender = (*Outbox)(nil)

// NewOutbox returns an Outbox writing into dir, which Send creates if needed.
func NewOutbox(dir string) *Outbox {
	return &Outbox{dir: dir}
}

// Dir is the folder the messages go to.
func (o *Outbox) Dir() string { return o.dir }

// Send writes the rendered message atomically: a temporary file in the same
// folder, synced, then renamed over the final name.
func (o *Outbox) Send(ctx context.Context, m *Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	msg, err := build(m)
	if err != nil {
		return invalid(m, err)
	}
	name := filepath.Join(o.dir, FileName(m.MessageID))
	if err := writeAtomic(name, msg); err != nil {
		return fmt.Errorf("mailer: outbox %s: %w", name, err)
	}
	return nil
}

func writeAtomic(name string, w io.WriterTo) (err error) {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*.eml")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := w.WriteTo(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// Probe answers that the outbox is there: a folder has no outage that a
// probe could tell from the failure of one message.
func (o *Outbox) Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	return nil
}

// Close does nothing; it makes Outbox a Sender.
func (o *Outbox) Close() error { return nil }

// FileName is the outbox file name for a Message-ID: the id itself plus
// ".eml" when it is made of [A-Za-z0-9._@+=-] and does not start with a dot;
// otherwise the other characters become '_' and a hash of the id is added,
// so that two ids never share a file.
func FileName(messageID string) string {
	id := clean(messageID)
	var b strings.Builder
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '_', r == '@', r == '+', r == '=', r == '-', r == '.' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name != id || name == "" || len(name) > maxFileName {
		sum := sha256.Sum256([]byte(messageID))
		if len(name) > maxFileName {
			name = name[:maxFileName]
		}
		name += "-" + hex.EncodeToString(sum[:6])
	}
	return name + ".eml"
}

// maxFileName keeps names well under the usual 255-byte limit.
const maxFileName = 200
