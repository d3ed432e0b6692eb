// Command gencorpus writes N synthetic publications shaped like the bundled
// sample site (front matter, data cascade, Markdown bodies with links,
// images, lists, tables and template syntax), for the build benchmark.
//
//	go run ./bench/gencorpus -n 10000 -out /tmp/corpus-10k
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

var (
	sections = []string{"actualites", "guides", "videos", "podcasts"}
	types    = map[string]string{"actualites": "news", "guides": "guide", "videos": "video", "podcasts": "podcast"}
	tagPool  = []string{"sobriete", "ecoconception", "mesure", "achats", "reemploi", "equipements", "accessibilite", "donnees", "cloud", "formation", "strategie", "outils"}
	words    = strings.Fields(`numérique responsable sobriété écoconception mesure impact environnemental équipements
réemploi achats publics données centre serveurs réseau usage durée de vie réparation recyclage collectivités
ministères agents services accessibilité performance énergie carbone empreinte bonnes pratiques guide
référentiel démarche stratégie formation sensibilisation logiciel libre obsolescence matériel`)
)

func main() {
	n := flag.Int("n", 1000, "number of publications")
	out := flag.String("out", "", "output folder (created; must not exist or be empty)")
	seed := flag.Uint64("seed", 1, "random seed (same seed, same corpus)")
	scale := flag.Int("scale", 1, "body size: 1 = like the bundled sample (about 1.1 KB a file), 2 = like the shared corpus' median (about 2.3 KB)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gencorpus: -out is required")
		os.Exit(2)
	}
	if err := generate(*out, *n, *seed, max(*scale, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}

func generate(out string, n int, seed uint64, scale int) error {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if err := os.MkdirAll(filepath.Join(out, "_data"), 0o755); err != nil {
		return err
	}
	meta := `{"title": "Site de test", "docs": {"guide": "/docs/guide.pdf"}}`
	if err := os.WriteFile(filepath.Join(out, "_data", "metadata.json"), []byte(meta), 0o644); err != nil {
		return err
	}
	for _, s := range sections {
		dir := filepath.Join(out, s)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		data := fmt.Sprintf(`{"tags": ["posts"], "type": %q, "layout": "layouts/%s.njk"}`, types[s], s)
		if err := os.WriteFile(filepath.Join(dir, s+".json"), []byte(data), 0o644); err != nil {
			return err
		}
	}
	// Dates spread over the ten years before mid-2026, whatever n: every
	// publication is in the past, so every one is in the feeds.
	end := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	step := 10 * 365 * 24 * time.Hour / time.Duration(max(n, 1))
	start := end.Add(-time.Duration(n) * step)
	for i := 0; i < n; i++ {
		sec := sections[i%len(sections)]
		// At most 1,000 files per folder, as a real site splits by year.
		dir := filepath.Join(out, sec, fmt.Sprintf("lot-%03d", i/(1000*len(sections))))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		date := start.Add(time.Duration(i) * step).Truncate(time.Second)
		name := fmt.Sprintf("publication-%06d.md", i)
		if err := os.WriteFile(filepath.Join(dir, name), page(r, i, sec, date, scale), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sentence(r *rand.Rand, min, max int) string {
	k := min + r.IntN(max-min+1)
	ws := make([]string, k)
	for i := range ws {
		ws[i] = words[r.IntN(len(words))]
	}
	s := []rune(strings.Join(ws, " "))
	s[0] = unicode.ToUpper(s[0])
	return string(s) + "."
}

func page(r *rand.Rand, i int, sec string, date time.Time, scale int) []byte {
	var b strings.Builder
	ntags := 1 + r.IntN(3)
	tags := make([]string, 0, ntags)
	for len(tags) < ntags {
		t := tagPool[r.IntN(len(tagPool))]
		if !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	fmt.Fprintf(&b, "---\ntitle: \"Publication %d : %s\"\n", i, strings.TrimSuffix(sentence(r, 3, 7), "."))
	fmt.Fprintf(&b, "description: %s\n", sentence(r, 10, 20))
	fmt.Fprintf(&b, "date: %s\n", date.Format("2006-01-02T15:04:05"))
	fmt.Fprintf(&b, "tags: [%s]\n", strings.Join(tags, ", "))
	if i%2 == 0 {
		fmt.Fprintf(&b, "image: /img/%s/illustration-%d.png\n", sec, i%50)
	}
	if sec == "videos" {
		fmt.Fprintf(&b, "apercu: /img/videos/apercu-%d.jpg\nembedVideoUrl: https://www.dailymotion.com/embed/video/x%07d\n", i%50, i)
	}
	if sec == "podcasts" {
		fmt.Fprintf(&b, "audio:\n  url: /podcasts/audio/episode-%d.mp3\n  type: audio/mpeg\n  length: %d\n", i, 1_000_000+i)
	}
	b.WriteString("---\n\n")
	// Bodies like the sample site's: 0.5 to 1.5 KB of Markdown, a heading,
	// a link, a list; a third with raw HTML, a quarter with a table.
	for k := 0; k < scale; k++ {
		if i%2 == 0 && k == 0 {
			b.WriteString("![Illustration]({{ image }})\n\n")
		}
		fmt.Fprintf(&b, "%s %s\n\n", sentence(r, 10, 22), sentence(r, 8, 18))
		fmt.Fprintf(&b, "## %s\n\n", strings.TrimSuffix(sentence(r, 2, 5), "."))
		fmt.Fprintf(&b, "%s Voir [la publication précédente](../publication-%06d/) et le [guide]({{ metadata.docs.guide }}).\n\n", sentence(r, 8, 18), max(i-1, 0))
		for n := 2 + r.IntN(3); n > 0; n-- {
			fmt.Fprintf(&b, "- %s\n", sentence(r, 3, 8))
		}
		b.WriteString("\n")
		if i%4 == 0 {
			b.WriteString("| Indicateur | Valeur | Unité |\n|:--|--:|:--|\n")
			for n := 0; n < 3; n++ {
				fmt.Fprintf(&b, "| %s | %d | kgCO2e |\n", words[r.IntN(len(words))], r.IntN(1000))
			}
			b.WriteString("\n")
		}
		if i%3 == 0 {
			fmt.Fprintf(&b, "<figure><img src=\"schema-%d.png\" alt=\"Schéma\" width=\"600\" height=\"400\"><figcaption>%s</figcaption></figure>\n\n", i%10, sentence(r, 4, 8))
		}
	}
	return []byte(b.String())
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
