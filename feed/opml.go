package feed

import (
	"context"
	"encoding/xml"
	"io"
	"time"
)

// opmlDoc is an OPML 2.0 subscription list.
type opmlDoc struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	Head    opmlHead `xml:"head"`
	Body    opmlBody `xml:"body"`
}

type opmlBody struct {
	Outlines []opmlOutline `xml:"outline"`
}

type opmlHead struct {
	Title        string `xml:"title"`
	DateModified string `xml:"dateModified,omitempty"`
	OwnerName    string `xml:"ownerName,omitempty"`
	OwnerEmail   string `xml:"ownerEmail,omitempty"`
	Docs         string `xml:"docs"`
}

type opmlOutline struct {
	Text     string `xml:"text,attr"`
	Title    string `xml:"title,attr"`
	Type     string `xml:"type,attr"`
	XMLURL   string `xml:"xmlUrl,attr"`
	HTMLURL  string `xml:"htmlUrl,attr"`
	Language string `xml:"language,attr,omitempty"`
}

// writeOPML lists every feed once, site feeds first, in one format: RSS
// when the site writes it, else Atom, else JSON Feed. A reader importing
// the list subscribes to each feed once; listing all three formats would
// subscribe it three times to the same items (and JSON Feed to readers
// that cannot read it). Every outline has type="rss", which OPML 2.0 uses
// for any feed subscription whatever its format.
func (s *Set) writeOPML(ctx context.Context, w io.Writer) error {
	o := &s.opts
	doc := opmlDoc{
		Version: "2.0",
		Head: opmlHead{
			Title:      cleanXML(o.SiteTitle),
			OwnerName:  cleanXML(o.Author.Name),
			OwnerEmail: cleanXML(o.Author.Email),
			Docs:       "http://opml.org/spec2.opml",
		},
	}
	var newest time.Time
	for _, f := range s.feeds {
		if f.updated.After(newest) {
			newest = f.updated
		}
	}
	if !newest.IsZero() {
		doc.Head.DateModified = rfc822(newest)
	}
	for _, f := range s.feeds {
		i := f.rss
		if i < 0 {
			i = f.atom
		}
		if i < 0 {
			i = f.json
		}
		if i < 0 {
			continue
		}
		doc.Body.Outlines = append(doc.Body.Outlines, opmlOutline{
			Text: cleanXML(f.title), Title: cleanXML(f.title), Type: "rss",
			XMLURL: s.outputs[i].URL, HTMLURL: o.SiteURL, Language: o.Language,
		})
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.EncodeToken(xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="UTF-8"`)}); err != nil {
		return err
	}
	if err := enc.EncodeToken(xml.CharData("\n")); err != nil {
		return err
	}
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
