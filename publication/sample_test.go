package publication

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleDir is the bundled sample site, relative to this package.
const sampleDir = "../content"

// sampleOptions are the values of the sample's bulletin.yaml.
func sampleOptions(t testing.TB) Options {
	now, err := time.Parse(time.RFC3339, "2026-11-27T12:00:00+01:00")
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		SiteURL:     "http://localhost:8080/",
		Location:    paris(t),
		Now:         now,
		Lang:        "fr",
		DataDir:     "_data",
		Exclude:     []string{"_includes/**", "_layouts/**", "_site/**", "_drafts/**", "_sass/**", "node_modules/**", "README.md"},
		IgnoreTags:  []string{"posts", "all"},
		Permalinks:  []PermalinkRule{{Pattern: "actualites/**", Permalink: "/actualites/:slug/"}},
		MaxFileSize: 10 << 20,
		DisplayDir:  "content",
	}
}

func TestSampleSite(t *testing.T) {
	s, err := Load(context.Background(), sampleDir, sampleOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	// content.permalinks gives the URLs of actualites/: the warning says so.
	want := []string{`content/actualites/actualites.11tydata.js: warning: JavaScript data files cannot be run: content.permalinks gives the URLs of this folder ("actualites/**"); give any other value it computes in a .11tydata.json file`}
	if got := diagStrings(s); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n%s\nwant exactly\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.Errors() != 0 {
		t.Errorf("%d errors", s.Errors())
	}
	if want := (Stats{Files: 18, Published: 15, Drafts: 1, Excluded: 1, Future: 1}); s.Stats != want {
		t.Errorf("Stats = %+v, want %+v", s.Stats, want)
	}
	if len(s.Upcoming) != 1 || s.Upcoming[0].Source != "actualites/journee-reemploi-2031.md" {
		t.Errorf("Upcoming = %v", s.Upcoming)
	}
	pubs := bySource(s)
	for _, absent := range []string{"actualites/feuille-de-route-brouillon.md", "a-propos.md", "README.md"} {
		if pubs[absent] != nil {
			t.Errorf("%s is published", absent)
		}
	}

	urls := map[string]string{
		"actualites/lancement-observatoire.md":  "http://localhost:8080/actualites/lancement-observatoire/",
		"guides/achats-responsables.md":         "http://localhost:8080/guides/achats/",
		"guides/sobriete-numerique/index.md":    "http://localhost:8080/guides/sobriete-numerique/",
		"guides/éco-conception/fiche outils.md": "http://localhost:8080/guides/%C3%A9co-conception/fiche%20outils/",
		"videos/episode-4-engagements-etat.md":  "http://localhost:8080/videos/episode-4-engagements-etat/",
	}
	for src, u := range urls {
		if p := pubs[src]; p == nil || p.URL != u {
			t.Errorf("%s: %+v, want URL %s", src, p, u)
		}
	}
	if p := pubs["podcasts/episode-1-poids-des-courriels.md"]; p.ID != "urn:uuid:6f1c2a4e-8b3d-4c7a-9e21-5d0b7f3a9c18" {
		t.Errorf("podcast 1 ID %q", p.ID)
	}
	obs := pubs["actualites/lancement-observatoire.md"]
	if obs.Type != "news" || !reflect.DeepEqual(obs.Tags, []string{"actualite", "mesure"}) || obs.Data["layout"] != "layouts/post.njk" {
		t.Errorf("directory data not applied: type %q tags %q", obs.Type, obs.Tags)
	}
	if p := pubs["actualites/green-it-week.md"]; p.Lang != "en" {
		t.Errorf("green-it-week lang %q", p.Lang)
	}
	if p := pubs["actualites/rapport-empreinte-2026.md"]; p.Date.Format(time.RFC3339) != "2026-10-28T10:30:00+01:00" ||
		p.Author == nil || p.Author.Name != "Camille Martin" || p.Image == nil || p.Image.Alt == "" {
		t.Errorf("rapport: %v %+v %+v", p.Date, p.Author, p.Image)
	}

	// The podcast enclosures have the size of the bundled MP3 files.
	for src, file := range map[string]string{
		"podcasts/episode-1-poids-des-courriels.md":   "podcasts/audio/episode-1.mp3",
		"podcasts/episode-2-achats-reconditionnes.md": "podcasts/audio/episode-2.mp3",
	} {
		fi, err := os.Stat(filepath.Join(sampleDir, file))
		if err != nil {
			t.Fatal(err)
		}
		p := pubs[src]
		want := []Enclosure{{URL: "http://localhost:8080/" + file, Type: "audio/mpeg", Length: fi.Size()}}
		if p == nil || !reflect.DeepEqual(p.Enclosures, want) {
			t.Errorf("%s enclosures %+v, want %+v", src, p.Enclosures, want)
		}
	}

	all := append(append([]*Publication(nil), s.Publications...), s.Upcoming...)
	if err := Render(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.Content == "" {
			t.Errorf("%s: empty content", p.Source)
		}
		for _, bad := range []string{"{{", "{%", "style="} {
			if strings.Contains(p.Content, bad) {
				t.Errorf("%s: content contains %q", p.Source, bad)
			}
		}
		if err := checkSafeHTML(p.Content); err != nil {
			t.Errorf("%s: %v", p.Source, err)
		}
	}

	// The video page opens with its thumbnail, linked to the video.
	video := pubs["videos/episode-4-engagements-etat.md"]
	lead := `<p><a href="https://www.dailymotion.com/video/k2Wc7zFvIkZpB6y1dzq"><img src="http://localhost:8080/img/videos/apercu-episode4.jpg" alt="Regarder la vidéo : Épisode #4 : `
	if !strings.HasPrefix(video.Content, lead) {
		t.Errorf("video content starts with\n%.300s\nwant\n%s", video.Content, lead)
	}
	if video.VideoURL != "https://www.dailymotion.com/video/k2Wc7zFvIkZpB6y1dzq" {
		t.Errorf("VideoURL %q", video.VideoURL)
	}
	contains := map[string][]string{
		"videos/episode-5-reemploi.md": {`<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"><img src="http://localhost:8080/img/videos/apercu-episode5.jpg"`},
		"actualites/lancement-observatoire.md": {
			`<img src="http://localhost:8080/img/actualites/observatoire.svg" alt="Illustration">`,
			"L’équipe de Numérique responsable — exemple ouvre",
			`<a href="mailto:contact@example.org">contact@example.org</a>`,
		},
		"guides/sobriete-numerique/index.md": {"Version 1.1, mise à jour le 10 février 2025.", `<a href="http://localhost:8080/guides/%C3%A9co-conception/fiche%20outils/">`},
		"actualites/webinaire-ecoconception.md": {
			`<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Replay : des images responsives et légères</a>`,
			"<del>mardi 10 juin</del>",
			`<a href="https://greenit.fr/">`,
		},
		"actualites/rapport-empreinte-2026.md":        {`srcset="http://localhost:8080/img/actualites/rapport-empreinte.svg 1x, http://localhost:8080/img/actualites/rapport-empreinte.svg 2x"`},
		"guides/sobriete-numerique/usages.md":         {`<img src="http://localhost:8080/guides/sobriete-numerique/cycle-de-vie.svg"`},
		"podcasts/episode-2-achats-reconditionnes.md": {`<audio controls="" src="http://localhost:8080/podcasts/audio/episode-2.mp3">`},
	}
	for src, wants := range contains {
		for _, w := range wants {
			if !strings.Contains(pubs[src].Content, w) {
				t.Errorf("%s: content lacks %s", src, w)
			}
		}
	}
}
