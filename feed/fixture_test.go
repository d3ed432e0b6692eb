package feed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
)

// paris is a fixed zone so that tests do not depend on the system's tzdata.
var paris = time.FixedZone("CEST", 2*3600)

func date(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
	if err != nil {
		panic(err)
	}
	return t
}

func testOptions() Options {
	return Options{
		SiteTitle:       "Le Bulletin",
		SiteDescription: "Nouvelles & notes de l'équipe",
		SiteURL:         "https://exemple.org/blog/",
		Language:        "fr",
		Author:          publication.Author{Name: "Équipe Bulletin", Email: "equipe@exemple.org", URL: "https://exemple.org/"},
		Logo:            "https://exemple.org/logo.png",
		Icon:            "https://exemple.org/icon.png",
		Rights:          "CC BY-SA 4.0",
		Generator:       "bulletin test",
		RSSPath:         "feed.xml",
		AtomPath:        "atom.xml",
		JSONPath:        "feed.json",
		Tags:            true,
		Types:           true,
		TagPath:         "tags/{slug}/",
		TypePath:        "types/{slug}/",
		OPMLPath:        "feeds.opml",
		XSLPath:         "feed.xsl",
		TTL:             60,
	}
}

// fixture returns publications covering what the feeds must handle,
// deliberately not in date order.
func fixture() []*publication.Publication {
	const site = "https://exemple.org/blog/"
	pub := func(slug string) *publication.Publication {
		return &publication.Publication{
			Source: slug + ".md", Path: "/blog/" + slug + "/", URL: site + slug + "/", ID: site + slug + "/",
			Lang: "fr",
		}
	}

	summer := pub("ete-a-la-cite")
	summer.Title = "Été à la cité"
	summer.Description = "Un résumé <court> & précis."
	summer.Date, summer.Updated = date("2024-07-14 10:00"), date("2024-07-20 09:30")
	summer.Tags = []string{"Écologie", "C++ & Rust"}
	summer.Type = "news"
	summer.Content = `<p>Bonjour, voici <a href="https://exemple.org/blog/ete-a-la-cite/">la cité</a> en été.</p>`

	podcast := pub("episode-1")
	podcast.Title = "Épisode 1 : la mer"
	podcast.Description = "Notre premier épisode."
	podcast.Date, podcast.Updated = date("2024-06-01 08:00"), date("2024-06-01 08:00")
	podcast.Tags = []string{"podcast", "écologie"}
	podcast.Type = "podcast"
	podcast.Author = &publication.Author{Name: "Zoé Martin", Email: "zoe@exemple.org"}
	podcast.Enclosures = []publication.Enclosure{{URL: "https://exemple.org/audio/episode-1.mp3", Type: "audio/mpeg", Length: 12345678}}
	podcast.Content = `<p>Écoutez l’épisode.</p><audio controls src="https://exemple.org/audio/episode-1.mp3"></audio>`

	video := pub("video-atelier")
	video.Title = "Vidéo : l’atelier"
	video.Description = "L'atelier en images."
	video.Date, video.Updated = date("2024-05-10 18:30"), date("2024-05-10 18:30")
	video.Tags = []string{"vidéo"}
	video.Type = "video"
	video.Image = &publication.Image{URL: "https://exemple.org/img/atelier.jpg", Alt: "Trois personnes à l'atelier"}
	video.Thumbnail = "https://exemple.org/img/atelier-petit.jpg"
	video.VideoURL = "https://www.youtube.com/watch?v=abc123"
	video.Enclosures = []publication.Enclosure{{URL: "https://exemple.org/video/atelier.mp4", Type: "video/mp4", Length: 98765432}}
	video.Content = `<p><img src="https://exemple.org/img/atelier.jpg" alt="Trois personnes à l'atelier"></p>`

	note := pub("note-japon")
	note.ID = "tag:exemple.org,2024:note-4"
	note.Title = "Note du Japon"
	note.Date, note.Updated = date("2024-05-10 18:30"), date("2024-05-11 07:00")
	note.Tags = []string{"日本"}
	note.Author = &publication.Author{Name: "Anonyme"}
	note.Content = `<p>Une note brève.</p>`

	code := pub("code")
	code.Title = "Code: a[b[0]]>1"
	code.Lang = "en"
	code.Date, code.Updated = date("2024-04-01 12:00"), date("2024-04-01 12:00")
	code.Content = "<pre><code>if a[b[0]]&gt;1 {}\n</code></pre><p>No tags, no type.</p>"

	return []*publication.Publication{code, podcast, note, summer, video}
}

// memSink keeps outputs in memory.
type memSink struct {
	mu    sync.Mutex
	files map[string]*bytes.Buffer
}

func newMemSink() *memSink { return &memSink{files: map[string]*bytes.Buffer{}} }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (m *memSink) Create(p string) (io.WriteCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[p]; ok {
		return nil, fmt.Errorf("%s created twice", p)
	}
	b := &bytes.Buffer{}
	m.files[p] = b
	return nopCloser{b}, nil
}

func (m *memSink) paths() []string {
	var ps []string
	for p := range m.files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// generate plans and generates the fixture into memory.
func generate(t testing.TB, pubs []*publication.Publication, opts Options) (*Set, *memSink) {
	t.Helper()
	s := Plan(pubs, opts)
	sink := newMemSink()
	if err := s.Generate(context.Background(), sink); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return s, sink
}
