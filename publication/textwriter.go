package publication

import (
	"bytes"

	gmrenderer "github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// textWriter is goldmark's html.Writer with a fast path: most text
// segments of a body hold no character to escape, unescape or resolve, and
// are then written in one piece instead of byte by byte. Anything else goes
// to goldmark's own writer, so the output is the same (FuzzTextWriter).
type textWriter struct {
	html.Writer
}

func newTextWriter() textWriter { return textWriter{html.NewWriter()} }

// textWriterOption makes a goldmark renderer write text with a textWriter.
func textWriterOption() gmrenderer.Option { return html.WithWriter(newTextWriter()) }

// escapable are the bytes goldmark's writer may write other than as they
// are: in Write, a backslash (escapes) and '&' (references); in both Write
// and RawWrite, NUL (replaced) and the characters HTML escapes.
const escapable = "\x00\"&<>\\"

// plain reports whether source holds none of the escapable bytes.
func plain(source []byte) bool { return !bytes.ContainsAny(source, escapable) }

// Write is html.Writer's Write.
func (t textWriter) Write(w util.BufWriter, source []byte) {
	if plain(source) {
		_, _ = w.Write(source)
		return
	}
	t.Writer.Write(w, source)
}

// RawWrite is html.Writer's RawWrite.
func (t textWriter) RawWrite(w util.BufWriter, source []byte) {
	if plain(source) {
		_, _ = w.Write(source)
		return
	}
	t.Writer.RawWrite(w, source)
}
