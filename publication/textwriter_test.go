package publication

import (
	"testing"

	"github.com/yuin/goldmark/renderer/html"
)

// FuzzTextWriter checks that textWriter writes every text as goldmark's own
// writer does, in both its modes.
func FuzzTextWriter(f *testing.F) {
	for _, s := range []string{
		"Carbone référentiel écoconception",
		`a \* b &amp; c &#x22; d &#1234; <e> "f" ' \`,
		"\x00 nul", "&", "\\", "&copy", "&#xZZ;", "é & è",
	} {
		f.Add(s)
	}
	ours, theirs := newTextWriter(), html.NewWriter()
	f.Fuzz(func(t *testing.T, s string) {
		var got, want bufWriter
		ours.Write(&got, []byte(s))
		theirs.Write(&want, []byte(s))
		if got.String() != want.String() {
			t.Errorf("Write(%q) = %q, goldmark writes %q", s, got.String(), want.String())
		}
		got.Reset()
		want.Reset()
		ours.RawWrite(&got, []byte(s))
		theirs.RawWrite(&want, []byte(s))
		if got.String() != want.String() {
			t.Errorf("RawWrite(%q) = %q, goldmark writes %q", s, got.String(), want.String())
		}
	})
}

// TestTextWriterPlain pins which bytes leave the fast path: a writer that
// took it for every text would pass FuzzTextWriter's seeds without them.
func TestTextWriterPlain(t *testing.T) {
	for _, c := range []byte{0, '"', '&', '<', '>', '\\'} {
		if plain([]byte{'a', c}) {
			t.Errorf("plain(%q) = true", []byte{'a', c})
		}
	}
	if !plain([]byte("Écoconception : 42 % d'économie")) {
		t.Error("plain text is not plain")
	}
	var b bufWriter
	newTextWriter().Write(&b, []byte(`a <b> & "c" \*`))
	if want := `a &lt;b&gt; &amp; &quot;c&quot; *`; b.String() != want {
		t.Errorf("Write = %q, want %q", b.String(), want)
	}
}
