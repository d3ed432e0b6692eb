package publication

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestReadLimited(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := bytes.Repeat([]byte("é"), 70_000) // more than one read buffer of many systems
	for _, tt := range []struct {
		name  string
		data  []byte
		limit int64
		want  []byte
		size  int64
	}{
		{"empty", nil, 10, []byte{}, 0},
		{"small", []byte("---\ntitle: x\n---\n"), 100, []byte("---\ntitle: x\n---\n"), 17},
		{"at the limit", []byte("12345"), 5, []byte("12345"), 5},
		{"over the limit", []byte("123456"), 5, nil, 6},
		{"large", big, 1 << 20, big, int64(len(big))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := write(tt.name, tt.data)
			got, size, err := readLimited(p, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if size != tt.size || !bytes.Equal(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Errorf("readLimited = %d bytes (nil %v), size %d; want %d bytes (nil %v), size %d",
					len(got), got == nil, size, len(tt.want), tt.want == nil, tt.size)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, _, err := readLimited(filepath.Join(dir, "nope.md"), 10)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want not exist", err)
		}
	})
	t.Run("folder", func(t *testing.T) {
		sub := filepath.Join(dir, "folder.md")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readLimited(sub, 10); err == nil {
			t.Error("reading a folder gave no error")
		}
	})
}
