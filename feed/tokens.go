package feed

import (
	"encoding/xml"
	"unsafe"
)

// tokenWriter writes an item through an xml.Encoder token by token.
// encoding/xml still escapes every text and attribute and checks that
// elements nest, but it skips the reflection that encoding a struct costs
// (five times slower, measured; there are hundreds of thousands of items).
// The values come from gorilla's RssItem and AtomEntry. Texts lose the
// characters cleanXML removes.
type tokenWriter struct {
	e     *xml.Encoder
	attrs []xml.Attr
	err   error
}

func (w *tokenWriter) token(t xml.Token) {
	if w.err == nil {
		w.err = w.e.EncodeToken(t)
	}
}

// attr adds an attribute to the next start tag, unless value is empty.
func (w *tokenWriter) attr(name, value string) {
	if value != "" {
		w.attrs = append(w.attrs, xml.Attr{Name: xml.Name{Local: name}, Value: cleanXML(value)})
	}
}

// start opens an element with the attributes added since the last one.
func (w *tokenWriter) start(name string) {
	w.token(xml.StartElement{Name: xml.Name{Local: name}, Attr: w.attrs})
	w.attrs = w.attrs[:0]
}

func (w *tokenWriter) end(name string) {
	w.token(xml.EndElement{Name: xml.Name{Local: name}})
}

// leaf writes an element without content, with the pending attributes.
func (w *tokenWriter) leaf(name string) {
	w.start(name)
	w.end(name)
}

// text writes <name>value</name>, or nothing when value is empty.
func (w *tokenWriter) text(name, value string) {
	if value != "" {
		w.textAlways(name, value)
	}
}

// textAlways writes <name>value</name>, empty or not.
func (w *tokenWriter) textAlways(name, value string) {
	w.start(name)
	if value != "" {
		w.token(xml.CharData(bytesOf(cleanXML(value))))
	}
	w.end(name)
}

// html writes HTML as the content of an element, as CDATA when it can
// (encoding/xml writes CDATA only for a struct field, hence EncodeElement).
func (w *tokenWriter) html(name string, body *encoded) {
	if w.err != nil || body == nil {
		return
	}
	start := xml.StartElement{Name: xml.Name{Local: name}, Attr: w.attrs}
	w.attrs = w.attrs[:0]
	w.err = w.e.EncodeElement(body, start)
}

// bytesOf returns a read-only view of the bytes of s, for encoding/xml,
// which only reads the text it is given: converting would copy every
// title, link and body once per feed and format it appears in.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
