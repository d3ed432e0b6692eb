package server

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
)

func TestArchive(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	empty := e.get("/digests/")
	checkPage(t, empty, 200, "fr", "Aucune lettre n’a encore été envoyée.")

	d1 := e.finishedDigest(testItem("a", "reemploi", "Vidéo"))
	e.clock.add(7 * 24 * time.Hour)
	d2 := e.finishedDigest(testItem("b"), testItem("c"), store.DigestItem{
		PublicationID: "evil", Title: "Lien piégé", URL: "javascript:alert(1)", Thumbnail: "data:image/png;base64,AAAA",
		Date: e.clock.now(),
	})
	e.clock.add(7 * 24 * time.Hour)
	sending, err := e.st.CreateDigest(context.Background(), "en cours", []store.DigestItem{testItem("d")}, e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	e.addActive("reader@example.org", "fr") // so that a digest may be sending

	res := e.get("/digests/")
	checkPage(t, res, 200, "fr", "Lettre du 4 décembre 2026", "Lettre du 27 novembre 2026", "3 publications", "1 publication<")
	if i, j := strings.Index(res.body, "4 décembre"), strings.Index(res.body, "27 novembre"); i > j {
		t.Error("not newest first")
	}
	if strings.Contains(res.body, "/digests/"+strconv.FormatInt(sending.ID, 10)+"?") {
		t.Error("a digest still sending is listed")
	}
	if !strings.Contains(res.header.Get("Cache-Control"), "max-age=") || res.header.Get("ETag") == "" || res.header.Get("Last-Modified") == "" {
		t.Errorf("no validators: %v", res.header)
	}
	if got := e.get("/digests/", "If-None-Match", res.header.Get("ETag")); got.status != 304 || got.body != "" {
		t.Errorf("If-None-Match: %d", got.status)
	}
	if got := e.get("/digests/", "If-Modified-Since", res.header.Get("Last-Modified")); got.status != 304 {
		t.Errorf("If-Modified-Since: %d", got.status)
	}
	if got := e.get("/digests/?lang=en", "If-None-Match", res.header.Get("ETag")); got.status != 200 {
		t.Errorf("the English page answered the French ETag: %d", got.status)
	}

	page := e.get("/digests/" + strconv.FormatInt(d1.ID, 10))
	checkPage(t, page, 200, "fr", `<a href="http://localhost:8080/a/">Publication a &lt;b&gt;</a>`,
		`<time datetime="2026-11-21">21 novembre 2026</time>`, "Ce que dit a.",
		`<img class="thumb" src="http://localhost:8080/img/a.png" alt="" width="240" height="135"`,
		"<li>reemploi</li>", "<li>Vidéo</li>", `href="/digests/?lang=fr"`)
	if csp := page.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'; img-src 'self' http://localhost:8080;") {
		t.Errorf("CSP %q: the thumbnails' origin is not allowed", csp)
	}
	page = e.get("/digests/" + strconv.FormatInt(d2.ID, 10))
	checkPage(t, page, 200, "fr", "Lien piégé")
	if strings.Contains(page.body, "javascript:") || strings.Contains(page.body, "data:image") {
		t.Error("an unsafe item URL reached the page")
	}
	if !strings.Contains(page.header.Get("Content-Security-Policy"), "img-src 'self' http://localhost:8080;") {
		t.Errorf("CSP %q", page.header.Get("Content-Security-Policy"))
	}
	// The emails link to a digest while it is still sending.
	checkPage(t, e.get("/digests/"+strconv.FormatInt(sending.ID, 10)), 200, "fr", "Publication d")

	for _, target := range []string{"/digests/0", "/digests/999", "/digests/-1", "/digests/01", "/digests/abc", "/digests/99999999999999999999"} {
		if res := e.get(target); res.status != 404 {
			t.Errorf("%s: %d, want 404", target, res.status)
		}
	}
}

func TestArchiveFeed(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	first := e.get("/digests/feed.xml")
	if first.status != 200 {
		t.Fatalf("empty feed: %d", first.status)
	}
	if _, err := gofeed.NewParser().ParseString(first.body); err != nil {
		t.Fatalf("the empty feed does not parse: %v", err)
	}
	d1 := e.finishedDigest(testItem("a", "reemploi"), testItem("b"))
	e.clock.add(24 * time.Hour)
	d2 := e.finishedDigest(testItem("c"))

	res := e.get("/digests/feed.xml")
	if res.status != 200 || res.header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("%d %q", res.status, res.header.Get("Content-Type"))
	}
	f, err := gofeed.NewParser().ParseString(res.body)
	if err != nil {
		t.Fatal(err)
	}
	if f.FeedType != "atom" || f.Title != "Exemple – lettres d’information" || f.FeedLink != testPublicURL+"digests/feed.xml" || f.Link != testPublicURL+"digests/" {
		t.Errorf("feed: type %q title %q self %q link %q", f.FeedType, f.Title, f.FeedLink, f.Link)
	}
	if f.Language != "fr" {
		t.Errorf("language %q", f.Language)
	}
	if len(f.Items) != 2 {
		t.Fatalf("%d entries, want 2", len(f.Items))
	}
	newest := f.Items[0]
	if newest.GUID != testPublicURL+"digests/"+strconv.FormatInt(d2.ID, 10) || newest.Link != newest.GUID {
		t.Errorf("newest entry id %q link %q", newest.GUID, newest.Link)
	}
	if newest.Title != "Lettre du 28 novembre 2026" || newest.Description != "1 publication" {
		t.Errorf("newest entry title %q summary %q", newest.Title, newest.Description)
	}
	if !f.UpdatedParsed.Equal(*newest.UpdatedParsed) || !newest.UpdatedParsed.Equal(e.clock.now().Truncate(time.Second)) {
		t.Errorf("feed updated %v, newest entry %v", f.UpdatedParsed, newest.UpdatedParsed)
	}
	older := f.Items[1]
	if older.GUID != testPublicURL+"digests/"+strconv.FormatInt(d1.ID, 10) ||
		!strings.Contains(older.Content, `<a href="http://localhost:8080/a/">Publication a &lt;b&gt;</a> – 21 novembre 2026`) {
		t.Errorf("older entry %q content %q", older.GUID, older.Content)
	}
	if len(f.Authors) == 0 || f.Authors[0].Name != "Exemple" {
		t.Error("no feed author")
	}
	if got := e.get("/digests/feed.xml", "If-None-Match", res.header.Get("ETag")); got.status != 304 {
		t.Errorf("revalidation: %d", got.status)
	}
	en, err := gofeed.NewParser().ParseString(e.get("/digests/feed.xml?lang=en").body)
	if err != nil || en.Items[0].Title != "Newsletter of November 28, 2026" {
		t.Errorf("English feed: %v", err)
	}
	// The raw XML: one self link, xml:lang on the root.
	if !regexp.MustCompile(`<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">`).MatchString(res.body) {
		t.Errorf("root element:\n%s", res.body[:200])
	}
}

func TestStylesheet(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	res := e.get("/assets/bulletin.css")
	if res.status != 200 || res.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(res.body, "max-width: 40rem") {
		t.Fatalf("%d %q", res.status, res.header.Get("Content-Type"))
	}
	if res.header.Get("ETag") == "" || !strings.Contains(res.header.Get("Cache-Control"), "max-age=604800") {
		t.Errorf("validators: %v", res.header)
	}
	if got := e.get("/assets/bulletin.css", "If-None-Match", res.header.Get("ETag")); got.status != 304 {
		t.Errorf("revalidation: %d", got.status)
	}
	if got := e.get("/assets/bulletin.css", "Accept-Encoding", "gzip"); got.header.Get("Content-Encoding") != "gzip" {
		t.Error("not compressed")
	}
	page := e.get("/subscribe")
	if !strings.Contains(page.body, `/assets/bulletin.css?v=`) {
		t.Fatal("pages do not link the stylesheet")
	}
}

// TestStylesheetContrast checks the colour pairs the stylesheet's header
// comment promises: each is used, and each reads at 4.5:1 at least.
func TestStylesheetContrast(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	css := e.get("/assets/bulletin.css").body
	for _, pair := range [][2]string{
		{"#161616", "#ffffff"}, {"#595959", "#ffffff"}, {"#000091", "#ffffff"}, {"#ffffff", "#000091"},
		{"#ffffff", "#1212ff"}, {"#ce0500", "#ffffff"}, {"#18753c", "#ffffff"}, {"#3a3a3a", "#f6f6f6"},
		{"#161616", "#eeeeee"},
	} {
		for _, c := range pair {
			if !strings.Contains(css, c) {
				t.Errorf("%s is not in the stylesheet", c)
			}
		}
		if r := contrastRatio(pair[0], pair[1]); r < 4.5 {
			t.Errorf("%s on %s: %.2f:1, want at least 4.5:1", pair[0], pair[1], r)
		}
	}
	if r := contrastRatio("#0a76f6", "#ffffff"); r < 3 {
		t.Errorf("the focus outline: %.2f:1, want at least 3:1", r)
	}
}

func contrastRatio(a, b string) float64 {
	la, lb := relLuminance(a), relLuminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func relLuminance(hex string) float64 {
	var rgb [3]float64
	for i := range 3 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		rgb[i] = c
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}

// TestLabels checks that the subscription form and the archive show tags
// by their label, while the form still posts and stores the tag.
func TestLabels(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, func(o *Options) {
		o.Feeds.Labels = publication.NewLabels(map[string]string{"reemploi": "Réemploi <des> équipements", "video": "Vidéos"})
	})
	res := e.get("/subscribe")
	checkPage(t, res, 200, "fr",
		`name="topics" value="reemploi"><label for="topic-reemploi">Réemploi &lt;des&gt; équipements</label>`,
		`name="topics" value="video"><label for="topic-video">Vidéos</label>`,
		`name="topics" value="podcast"><label for="topic-podcast">podcast</label>`)
	d := e.finishedDigest(testItem("a", "reemploi", "Vidéo", " "))
	page := e.get("/digests/" + strconv.FormatInt(d.ID, 10))
	checkPage(t, page, 200, "fr", "<li>Réemploi &lt;des&gt; équipements</li>", "<li>Vidéos</li>")
	tags := regexp.MustCompile(`(?s)<ul class="tags".*?</ul>`).FindString(page.body)
	if strings.Count(tags, "<li>") != 2 {
		t.Errorf("want 2 tags, the blank one left out:\n%s", tags)
	}
}
