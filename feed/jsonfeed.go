package feed

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gorilla/feeds"

	"github.com/ecoresponsable/bulletin/publication"
)

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// jsonFrame encodes the JSON Feed envelope of a feed (gorilla's JSONFeed
// without items), open on its "items" array.
func (s *Set) jsonFrame(f *feedSpec) (head, tail []byte, err error) {
	o := &s.opts
	env := feeds.JSONFeed{
		Version:     jsonFeedVersion,
		Title:       f.title,
		Language:    o.Language,
		HomePageUrl: o.SiteURL,
		FeedUrl:     s.outputs[f.json].URL,
		Description: o.SiteDescription,
		Icon:        o.Logo,
		Favicon:     o.Icon,
	}
	if env.Icon == "" {
		env.Icon = o.Icon
	}
	if a, ok := jsonAuthor(o.Author); ok {
		env.Authors = []*feeds.JSONAuthor{&a}
	} else if o.SiteTitle != "" {
		env.Authors = []*feeds.JSONAuthor{{Name: o.SiteTitle, Url: o.SiteURL}}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return nil, nil, err
	}
	// The envelope ends with "}\n" (no items: omitted); reopen it.
	head = bytes.TrimSuffix(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("}"))
	head = append(head, `,"items":[`...)
	return head, []byte("\n]}\n"), nil
}

// jsonSep goes before the nth item: one item per line.
func jsonSep(n int) string {
	if n == 0 {
		return "\n"
	}
	return ",\n"
}

// jsonEncoder returns a function encoding s.pubs[i] as it appears in a
// feed's items; the bytes it returns are valid until its next call.
func (s *Set) jsonEncoder(bodies *bodyChecks) func(int, *publication.Publication) []byte {
	var b []byte
	return func(i int, p *publication.Publication) []byte {
		b = s.appendJSONItem(b[:0], p, bodies.of(i, p.Content)&bodyValidUTF8 != 0)
		return b
	}
}

// appendJSONItem appends p as a JSON Feed item, with the members gorilla's
// JSONItem has, in its order (without its deprecated author and misnamed
// banner), then those of JSON Feed 1.1 it lacks: dates formatted once, like
// Atom's, attachments with a 64-bit size_in_bytes, and the language.
// validBody tells whether p.Content is valid UTF-8.
func (s *Set) appendJSONItem(b []byte, p *publication.Publication, validBody bool) []byte {
	c := s.common(p)
	b = append(b, `{"id":`...)
	b = appendJSON(b, p.ID)
	b = appendJSONMember(b, "url", p.URL)
	b = appendJSONMember(b, "external_url", p.VideoURL)
	b = appendJSONMember(b, "title", p.Title)
	if p.Content != "" {
		b = append(b, `,"content_html":`...)
		b = appendJSONValid(b, p.Content, validBody)
	} else {
		// JSON Feed 1.1: an item has content_html or content_text; for a
		// page without body, the description, else the title, stands in
		// (as in Atom's summary).
		text := p.Description
		if text == "" {
			text = c.title
		}
		b = appendJSONMember(b, "content_text", text)
	}
	b = appendJSONMember(b, "summary", p.Description)
	if p.Image != nil {
		b = appendJSONMember(b, "image", p.Image.URL)
	}
	if a, ok := jsonAuthor(c.author); ok {
		b = append(b, `,"authors":[{`...)
		if a.Name != "" {
			b = append(b, `"name":`...)
			b = appendJSON(b, a.Name)
			if a.Url != "" {
				b = append(b, ',')
			}
		}
		if a.Url != "" {
			b = append(b, `"url":`...)
			b = appendJSON(b, a.Url)
		}
		b = append(b, "}]"...)
	}
	for i, t := range c.tags {
		if i == 0 {
			b = append(b, `,"tags":[`...)
		} else {
			b = append(b, ',')
		}
		b = appendJSON(b, t)
	}
	if len(c.tags) > 0 {
		b = append(b, ']')
	}
	b = append(b, `,"date_published":"`...)
	b = appendRFC3339(b, p.Date)
	b = append(b, `","date_modified":"`...)
	b = appendRFC3339(b, s.updatedOf(p))
	b = append(b, '"')
	for i, e := range p.Enclosures {
		if i == 0 {
			b = append(b, `,"attachments":[{"url":`...)
		} else {
			b = append(b, `,{"url":`...)
		}
		b = appendJSON(b, e.URL)
		b = append(b, `,"mime_type":`...)
		b = appendJSON(b, enclosureType(e))
		if e.Length > 0 {
			b = append(b, `,"size_in_bytes":`...)
			b = strconv.AppendInt(b, e.Length, 10)
		}
		b = append(b, '}')
	}
	if len(p.Enclosures) > 0 {
		b = append(b, ']')
	}
	b = appendJSONMember(b, "language", c.lang)
	return append(b, '}')
}

// appendJSONMember appends ,"name":value, nothing when value is empty
// (omitempty).
func appendJSONMember(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSON(b, value)
}

// jsonAuthor converts an author; JSON Feed authors have no email field, so
// an address alone becomes a mailto: URL. ok is false when neither a name
// nor a URL is left.
func jsonAuthor(a publication.Author) (author feeds.JSONAuthor, ok bool) {
	ja := feeds.JSONAuthor{Name: strings.TrimSpace(a.Name), Url: a.URL}
	if ja.Url == "" && a.Email != "" {
		ja.Url = "mailto:" + a.Email
	}
	if ja.Name == "" && ja.Url == "" {
		return feeds.JSONAuthor{}, false
	}
	return ja, true
}
