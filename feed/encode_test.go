package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
)

// tricky are texts that escaping and cleaning must get right.
var tricky = []string{
	"",
	"plain",
	"   ",
	`"quoted" and 'apostrophes'`,
	"<b>bold</b> & <i>co</i> > <",
	"tab\there, newline\nthere, CR\rand CRLF\r\n",
	"controls \x00\x01\x08\x0b\x0c\x1b\x1f and DEL \x7f",
	"C1 \u0080\u0085\u009f, nbsp\u00a0, ¿ \u00bf",
	"nonchars \uFFFE \uFFFF, replacement \uFFFD, ok \uFFFC \uF000",
	"bad UTF-8 \xff\xfe, lone \xc2 lead, \x80 continuation",
	"truncated at the end \xe2\x80",
	"truncated \xef\xbf",
	"surrogate \xed\xa0\x80 encoded",
	"overlong \xc0\xaf slash",
	"separators \u2028 line \u2029 paragraph \u2027 \u202a ’ “ ” — … ",
	"\u2028",
	"\xe2\x80\xa9",
	"CDATA end ]]> inside ]]]]>> and ]]",
	"]]>",
	"<![CDATA[nested]]>",
	"日本語のテキスト🎉 emoji 𝄞",
	`back\slash \" \u0041 \n`,
	"<p>Lorem ipsum <a href=\"https://exemple.org/a?b=1&c=2\">l’été</a>\n</p>\n",
	"https://exemple.org/blog/page/?q=a&r=\"b\"#frag",
	"12345678\x00abcdefgh\"12345678'abcdefgh&12345678<abcdefgh>",
	"01234567\xc2\x85" + strings.Repeat("é", 9) + "\xef\xbf\xbe" + strings.Repeat("x", 13) + "\u2028",
	strings.Repeat("a", 7) + "\u2029" + strings.Repeat("b", 6) + "\xc2",
	strings.Repeat("long plain text with accents éèà ", 20),
}

// trickyPubs returns publications that use the tricky texts in every field
// and cover the optional parts of an item.
func trickyPubs() []*publication.Publication {
	zones := []*time.Location{paris, time.UTC, time.FixedZone("odd", 5*3600+45*60), time.FixedZone("secs", -(3*3600 + 17))}
	n := len(tricky)
	at := func(k int) string { return tricky[k%n] }
	var pubs []*publication.Publication
	for k := range 3 * n {
		u := fmt.Sprintf("https://exemple.org/blog/%d/", k)
		p := &publication.Publication{
			URL:         u,
			ID:          u,
			Title:       at(k),
			Description: at(k + 1),
			Content:     at(k + 2),
			Date:        time.Date(2024, 1, 1+k%28, k%24, k%60, k%7, 0, zones[k%len(zones)]),
			Lang:        []string{"fr", "en", "", at(k + 3)}[k%4],
			Type:        at(k + 4),
		}
		p.Updated = p.Date.Add(time.Duration(k%3) * time.Hour)
		if k%5 == 0 {
			p.Updated = time.Date(2024, 2, 1, 0, 0, 0, 0, paris) // shared: distinctUpdated
		}
		if k%3 == 1 {
			p.ID = at(k+5) + fmt.Sprint("#", k)
		}
		if k%7 == 3 {
			p.URL = ""
		}
		for t := range k % 4 {
			p.Tags = append(p.Tags, at(k+6+t))
		}
		if k%6 == 2 {
			p.Tags = append(p.Tags, "  ", "after blank")
		}
		switch k % 5 {
		case 1:
			p.Author = &publication.Author{Name: at(k + 7), Email: at(k + 8), URL: at(k + 9)}
		case 2:
			p.Author = &publication.Author{Email: "a" + at(k+7) + "@exemple.org"}
		case 3:
			p.Author = &publication.Author{Name: " " + at(k+7) + " "}
		case 4:
			p.Author = &publication.Author{Name: "  ", Email: at(k + 8)}
		}
		for e := range k % 4 {
			enc := publication.Enclosure{URL: at(k+10+e) + ".mp3", Length: int64(e*1000 - 500)}
			switch e {
			case 1:
				enc.Type = at(k + 11)
			case 2:
				enc.URL = "https://exemple.org/x.OGG?v=1"
			}
			p.Enclosures = append(p.Enclosures, enc)
		}
		switch k % 4 {
		case 1:
			p.Image = &publication.Image{URL: "https://exemple.org/img/" + at(k+12) + ".png", Alt: at(k + 13)}
		case 2:
			p.Image = &publication.Image{URL: "https://exemple.org/img/a.webp"}
		case 3:
			p.Image = &publication.Image{Alt: "no URL"}
		}
		if k%3 == 2 {
			p.Thumbnail = at(k + 14)
		}
		if k%4 == 3 {
			p.VideoURL = at(k + 15)
		}
		pubs = append(pubs, p)
	}
	return pubs
}

// compareEncoders encodes every publication of s with the reference
// encoders and the new ones, and reports the differences.
func compareEncoders(t *testing.T, s *Set) {
	t.Helper()
	bodies := newBodyChecks(len(s.pubs))
	pairs := []struct {
		name string
		ref  func(*publication.Publication) ([]byte, error)
		enc  func(int, *publication.Publication) []byte
	}{
		{"rss", s.refRSSEncoder(), s.rssEncoder(bodies)},
		{"atom", s.refAtomEncoder(), s.atomEncoder(bodies)},
		{"json", s.refJSONEncoder(), s.jsonEncoder(bodies)},
	}
	for _, pair := range pairs {
		for i, p := range s.pubs {
			want, err := pair.ref(p)
			if err != nil {
				t.Fatalf("%s: reference encoder: %v", pair.name, err)
			}
			if got := pair.enc(i, p); !bytes.Equal(got, want) {
				t.Errorf("%s item %q:\ngot:  %q\nwant: %q", pair.name, p.ID, got, want)
			}
		}
	}
}

// TestEncodersMatchReference compares the item encoders with the way items
// were encoded before, through gorilla's structs, encoding/xml and
// encoding/json, on tricky texts in every field.
func TestEncodersMatchReference(t *testing.T) {
	pubs := trickyPubs()
	for _, opts := range []Options{
		testOptions(),
		{SiteURL: "https://exemple.org/", Language: "en"},
		{SiteURL: "https://exemple.org/", SiteTitle: tricky[4], Author: publication.Author{Email: tricky[9]}},
		{SiteURL: "https://exemple.org/", Author: publication.Author{Name: tricky[6], URL: tricky[3]}},
	} {
		compareEncoders(t, Plan(pubs, opts))
	}
	compareEncoders(t, Plan(fixture(), testOptions()))
	compareEncoders(t, Plan(synthetic(50), testOptions()))
}

// refXMLText is a text as encoding/xml wrote it in an element, after
// cleanXML.
func refXMLText(t testing.TB, s string) []byte {
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	if err := enc.EncodeToken(xml.CharData(refCleanXML(s))); err != nil {
		t.Fatal(err)
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// refXMLAttr is an attribute value as encoding/xml wrote it, after
// cleanXML.
func refXMLAttr(t testing.TB, s string) []byte {
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: "x"}, Attr: []xml.Attr{{Name: xml.Name{Local: "a"}, Value: refCleanXML(s)}}}
	if err := enc.EncodeToken(start); err != nil {
		t.Fatal(err)
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(bytes.TrimPrefix(b.Bytes(), []byte(`<x a="`)), []byte(`">`))
}

// refCDATA is an element holding s as CDATA as encoding/xml wrote it.
func refCDATA(t testing.TB, s string) []byte {
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	if err := enc.EncodeElement(refEncoded{CDATA: []byte(s)}, xml.StartElement{Name: xml.Name{Local: "x"}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// refJSON is a string as encoding/json wrote it, without escaping HTML.
func refJSON(t testing.TB, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// checkEscapes compares the escaping functions with encoding/xml and
// encoding/json on s.
func checkEscapes(t testing.TB, s string) {
	check := func(what string, got, want []byte) {
		if !bytes.Equal(got, want) {
			t.Errorf("%s(%q):\ngot:  %q\nwant: %q", what, s, got, want)
		}
	}
	check("appendXML text", appendXML(nil, s, xmlText), refXMLText(t, s))
	check("appendXML attr", appendXML(nil, s, xmlAttr), refXMLAttr(t, s))
	check("appendXML html", appendXML(nil, s, xmlHTML), refXMLText(t, escapeHTML(s)))
	check("appendJSON", appendJSON(nil, s), refJSON(t, s))
	check("appendJSONValid", appendJSONValid(nil, s, false), refJSON(t, s))
	clean := refCleanXML(s)
	if got, want := xmlSafe(s), clean == s; got != want {
		t.Errorf("xmlSafe(%q) = %v, want %v", s, got, want)
	}
	check("appendCDATA", append(appendCDATA([]byte("<x>"), clean), "</x>"...), refCDATA(t, clean))
	for i := range min(len(s), 9) { // every alignment for the 8-byte scans
		check("appendXML text suffix", appendXML(nil, s[i:], xmlText), refXMLText(t, s[i:]))
		check("appendJSON suffix", appendJSON(nil, s[i:]), refJSON(t, s[i:]))
	}
}

// TestEscapes compares the escaping functions with encoding/xml and
// encoding/json on tricky texts, alone and run together.
func TestEscapes(t *testing.T) {
	for _, s := range tricky {
		checkEscapes(t, s)
	}
	checkEscapes(t, strings.Join(tricky, ""))
	for c := range 256 { // every byte, at every place in a word
		for i := range 10 {
			checkEscapes(t, strings.Repeat("x", i)+string(rune(c))+string([]byte{byte(c)})+strings.Repeat("y", 9-i))
		}
	}
}

// TestIsBlank checks isBlank's fast path against strings.TrimSpace.
func TestIsBlank(t *testing.T) {
	for c := range 256 {
		for _, s := range []string{string(rune(c)), string([]byte{byte(c)}), string(rune(c)) + "x", " " + string(rune(c))} {
			if got, want := isBlank(s), strings.TrimSpace(s) == ""; got != want {
				t.Errorf("isBlank(%q) = %v, want %v", s, got, want)
			}
		}
	}
	for _, s := range append(tricky, "\u00a0", "\u3000 \u2028", "\u0085x") {
		if got, want := isBlank(s), strings.TrimSpace(s) == ""; got != want {
			t.Errorf("isBlank(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestBodyChecks checks the bits bodyChecks keeps, and that the body XML
// gets is cleanXML's.
func TestBodyChecks(t *testing.T) {
	c := newBodyChecks(len(tricky))
	for i, s := range tricky {
		for range 2 { // checked, then remembered
			st := c.of(i, s)
			if got, want := st&bodyXMLSafe != 0, refCleanXML(s) == s; got != want {
				t.Errorf("%q: XML safe %v, want %v", s, got, want)
			}
			if got, want := st&bodyValidUTF8 != 0, string([]rune(s)) == s; got != want {
				t.Errorf("%q: valid %v, want %v", s, got, want)
			}
			if got, want := c.xml(i, s), refCleanXML(s); got != want {
				t.Errorf("%q: body %q, want %q", s, got, want)
			}
		}
	}
}

// FuzzItemEncoders compares the item encoders with the reference ones
// (encoding/xml, encoding/json, see refencode_test.go) on publications
// made of the fuzzed texts, shape picking the optional parts.
func FuzzItemEncoders(f *testing.F) {
	for i, s := range tricky {
		f.Add(s, tricky[(i+7)%len(tricky)], tricky[(i+13)%len(tricky)], uint16(i*37))
	}
	f.Fuzz(func(t *testing.T, a, b, c string, shape uint16) {
		checkEscapes(t, a)
		checkEscapes(t, b+c)
		texts := []string{a, b, c}
		at := func(k int) string { return texts[k%3] }
		bit := func(k int) bool { return shape>>k&1 != 0 }
		p := &publication.Publication{
			URL: "https://exemple.org/" + at(0), ID: at(1),
			Title: at(2), Description: at(int(shape)), Content: at(int(shape) + 1),
			Date: time.Date(2024, 5, 6, 7, 8, 9, 0, paris), Lang: at(int(shape) + 2),
			Tags: []string{at(0), at(2)},
		}
		p.Updated = p.Date
		if bit(0) {
			p.ID = p.URL
		}
		if bit(1) {
			p.Author = &publication.Author{Name: at(1), Email: at(2), URL: at(0)}
		}
		if bit(2) {
			p.Enclosures = []publication.Enclosure{{URL: at(1), Type: at(2), Length: int64(shape)}, {URL: at(0) + ".mp4"}}
		}
		if bit(3) {
			p.Image = &publication.Image{URL: at(0) + ".jpg", Alt: at(1)}
		}
		if bit(4) {
			p.Thumbnail, p.VideoURL = at(2), at(0)
		}
		if bit(5) {
			p.Description, p.Content = "", ""
		}
		opts := Options{SiteURL: "https://exemple.org/", Language: "fr", SiteTitle: at(int(shape) >> 6)}
		if bit(6) {
			opts.Author = publication.Author{Name: at(2), Email: at(0)}
		}
		compareEncoders(t, Plan([]*publication.Publication{p}, opts))
	})
}
