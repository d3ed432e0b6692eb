package feed

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/gorilla/feeds"

	"github.com/ecoresponsable/bulletin/publication"
)

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// jsonItem is gorilla's item with JSON Feed 1.1 attachments (a 64-bit
// size_in_bytes, where gorilla writes an int32 "size") and the item's
// language. Its dates are formatted once, like Atom's, rather than by
// time.Time for every feed the item is in. gorilla's deprecated author and
// its misnamed banner field are left empty, so they are not written.
type jsonItem struct {
	feeds.JSONItem
	Published   string           `json:"date_published,omitempty"`
	Modified    string           `json:"date_modified,omitempty"`
	Attachments []jsonAttachment `json:"attachments,omitempty"`
	Language    string           `json:"language,omitempty"`

	// Storage for Authors, reused from item to item.
	author  feeds.JSONAuthor
	authors [1]*feeds.JSONAuthor
}

type jsonAttachment struct {
	URL         string `json:"url"`
	MIMEType    string `json:"mime_type"`
	SizeInBytes int64  `json:"size_in_bytes,omitempty"`
}

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
	if a := jsonAuthor(o.Author); a != nil {
		env.Authors = []*feeds.JSONAuthor{a}
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

// jsonEncoder returns a function encoding one item.
func (s *Set) jsonEncoder() func(*publication.Publication) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	var it jsonItem
	return func(p *publication.Publication) ([]byte, error) {
		s.fillJSON(&it, p)
		b.Reset()
		if err := enc.Encode(&it); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
	}
}

// jsonAuthor converts an author; JSON Feed authors have no email field, so
// an address alone becomes a mailto: URL.
func jsonAuthor(a publication.Author) *feeds.JSONAuthor {
	ja := &feeds.JSONAuthor{Name: strings.TrimSpace(a.Name), Url: a.URL}
	if ja.Url == "" && a.Email != "" {
		ja.Url = "mailto:" + a.Email
	}
	if ja.Name == "" && ja.Url == "" {
		return nil
	}
	return ja
}
