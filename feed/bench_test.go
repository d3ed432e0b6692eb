package feed

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
)

// synthetic returns n publications with about 1.5 KB of HTML each, one to
// three tags out of 40 and one type out of 5.
func synthetic(n int) []*publication.Publication {
	var body strings.Builder
	for body.Len() < 1400 {
		body.WriteString(`<p>Lorem ipsum dolor sit amet, <a href="https://exemple.org/blog/autre/">consectetur</a> adipiscing élit, sed do eiusmod tempor.</p>` + "\n")
	}
	types := []string{"news", "video", "podcast", "note", "event"}
	start := time.Date(2020, 1, 1, 9, 0, 0, 0, paris)
	pubs := make([]*publication.Publication, n)
	for i := range pubs {
		u := fmt.Sprintf("https://exemple.org/blog/%d/publication-%d/", 2020+i/3000, i)
		p := &publication.Publication{
			URL: u, ID: u, Path: strings.TrimPrefix(u, "https://exemple.org"),
			Title:       fmt.Sprintf("Publication numéro %d : un titre assez long", i),
			Description: "Un résumé de la publication, en une ou deux phrases pour les lecteurs de flux.",
			Date:        start.Add(time.Duration(i) * time.Hour),
			Lang:        "fr",
			Type:        types[i%len(types)],
			Content:     fmt.Sprintf("<h2>Partie %d</h2>\n", i) + body.String(),
		}
		p.Updated = p.Date
		for k := 0; k <= i%3; k++ {
			p.Tags = append(p.Tags, fmt.Sprintf("Sujet %d", (i*7+k*13)%40))
		}
		if i%10 == 0 {
			p.Enclosures = []publication.Enclosure{{URL: u + "audio.mp3", Type: "audio/mpeg", Length: int64(1000000 + i)}}
		}
		pubs[i] = p
	}
	return pubs
}

// countSink discards what it receives and counts the bytes.
type countSink struct{ n atomic.Int64 }

type countWriter struct{ s *countSink }

func (w countWriter) Write(p []byte) (int, error) { w.s.n.Add(int64(len(p))); return len(p), nil }
func (countWriter) Close() error                  { return nil }

func (s *countSink) Create(string) (io.WriteCloser, error) { return countWriter{s}, nil }

// BenchmarkGenerate writes every feed (site, per tag, per type; RSS, Atom
// and JSON; no limit) of n synthetic publications. ns/item is per item
// encoded in one feed of one format.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("pubs=%d", n), func(b *testing.B) {
			opts := testOptions()
			s := Plan(synthetic(n), opts)
			items := 0
			for _, f := range s.feeds {
				items += 3 * len(f.items)
			}
			sink := &countSink{}
			if err := s.Generate(context.Background(), sink); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(sink.n.Load())
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := s.Generate(context.Background(), sink); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(items), "ns/item")
		})
	}
}

// BenchmarkBuild is Generate plus writing the files to disk, first into an
// empty folder then over an identical previous build.
func BenchmarkBuild(b *testing.B) {
	s := Plan(synthetic(10000), testOptions())
	for _, again := range []bool{false, true} {
		b.Run(fmt.Sprintf("unchanged=%v", again), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				if again {
					if _, err := Build(context.Background(), dir, s); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if _, err := Build(context.Background(), dir, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
