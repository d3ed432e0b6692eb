package publication

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// benchFiles is the size of the generated site of BenchmarkLoadAndRender.
const benchFiles = 1000

// syntheticPublication is a typical publication: front matter, then about
// 1.5 KB of Markdown with a link, an image, a list, a table and a variable.
func syntheticPublication(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: \"Publication n°%d : l’écoconception en pratique\"\n", i)
	fmt.Fprintf(&b, "description: Résumé de la publication %d, pour les flux et la lettre.\n", i)
	fmt.Fprintf(&b, "date: 2024-%02d-%02dT%02d:00:00\n", 1+i%12, 1+i%28, i%24)
	fmt.Fprintf(&b, "tags: [guide, thème-%d, posts]\nimage: /img/%d.png\ntype: article\n---\n\n", i%20, i)
	fmt.Fprintf(&b, "# {{ title }}\n\nCe texte présente la publication %d. Voir la [page précédente](../p%d/) ", i, i-1)
	b.WriteString("et le [site de référence](https://example.net/reference).\n\n")
	fmt.Fprintf(&b, "![Illustration de la publication](img/figure-%d.png \"Figure\")\n\n", i)
	b.WriteString("## Points clés\n\n")
	for j := 1; j <= 5; j++ {
		fmt.Fprintf(&b, "- Point %d : allonger la durée de vie des équipements et alléger les pages ;\n", j)
	}
	b.WriteString("\n## Mesures\n\n| Indicateur | Avant | Après |\n|:-----------|------:|------:|\n")
	for j := 1; j <= 6; j++ {
		fmt.Fprintf(&b, "| Poids de la page %d | %d Ko | %d Ko |\n", j, 900+j*10, 400+j*5)
	}
	b.WriteString("\nLes équipes ont mesuré le poids des pages, le nombre de requêtes et l’hébergement ")
	b.WriteString("avant et après les changements. Les résultats sont **encourageants** et seront ")
	b.WriteString("publiés chaque trimestre, avec la méthode et les données brutes, sous licence ouverte.\n\n")
	b.WriteString("Chaque service suivi reçoit une fiche avec ses indicateurs et des pistes d’amélioration ")
	b.WriteString("classées par effort : images, polices, scripts tiers, mise en cache.\n\n")
	b.WriteString("Pour aller plus loin : <https://example.net/guide> ou écrire à contact@example.org.\n")
	return b.String()
}

// BenchmarkLoadAndRender loads a generated folder of benchFiles
// publications and renders every body, as `bulletin build` does.
func BenchmarkLoadAndRender(b *testing.B) {
	dir := b.TempDir()
	files := make(map[string]string, benchFiles)
	for i := 0; i < benchFiles; i++ {
		files[fmt.Sprintf("section-%d/p%d.md", i%10, i)] = syntheticPublication(i)
	}
	writeFiles(b, dir, files)
	opts := testOptions(b)
	opts.Now = time.Date(2030, 1, 1, 0, 0, 0, 0, opts.Location)
	ctx := context.Background()
	for b.Loop() {
		s, err := Load(ctx, dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Publications) != benchFiles || len(s.Diagnostics) != 0 {
			b.Fatalf("%d publications, diagnostics %v", len(s.Publications), diagStrings(s))
		}
		if err := Render(ctx, s.Publications); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFiles), "ns/file")
}

func TestSyntheticPublicationSize(t *testing.T) {
	src := syntheticPublication(7)
	_, body, _, err := SplitFrontMatter([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(body); n < 1300 || n > 1800 {
		t.Errorf("body is %d bytes, want about 1.5 KB", n)
	}
}

// BenchmarkRenderVsGoldmark renders the same bodies with bulletin's
// renderer and with goldmark alone (same extensions, no hooks), to show
// what URL rewriting, raw HTML cleaning and heading ids add on top of the
// Markdown engine, which bounds how fast a build can be.
func BenchmarkRenderVsGoldmark(b *testing.B) {
	var bodies [][]byte
	var pubs []*Publication
	for i := 0; i < 200; i++ {
		src := syntheticPublication(i)
		if i%3 == 0 { // a third with raw HTML, as bench/gencorpus makes
			src += "\n<figure><img src=\"schema.png\" alt=\"Schéma\" width=\"600\"><figcaption>Légende</figcaption></figure>\n"
		}
		_, body, _, err := SplitFrontMatter([]byte(src))
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
		pubs = append(pubs, &Publication{URL: fmt.Sprintf("https://example.org/s/p%d/", i), Lang: "fr"})
	}
	b.Run("goldmark", func(b *testing.B) {
		md := goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.TaskList, extension.Table, extension.Linkify),
			goldmark.WithParserOptions(parser.WithAutoHeadingID()))
		var out bytes.Buffer
		for b.Loop() {
			for _, body := range bodies {
				out.Reset()
				if err := md.Convert(body, &out); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bodies)), "ns/body")
	})
	b.Run("bulletin", func(b *testing.B) {
		r := newRenderer(newPolicy())
		for b.Loop() {
			for i, p := range pubs {
				p.body = bodies[i]
				if r.render(p) == "" {
					b.Fatal("empty rendering")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bodies)), "ns/body")
	})
}
