package feed

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
)

func outputPaths(s *Set) []string {
	var ps []string
	for _, o := range s.Outputs() {
		ps = append(ps, o.Path)
	}
	slices.Sort(ps)
	return ps
}

func readManifestFile(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			ps = append(ps, l)
		}
	}
	return ps
}

// noTemp fails when a temporary folder or file of Build is left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, tmpPrefix+"*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	foreign := map[string]string{
		"index.html":       "<h1>site</h1>",
		"tags/readme.txt":  "not ours",
		"tags/c-rust/x.md": "not ours either",
	}
	for p, content := range foreign {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkForeign := func() {
		t.Helper()
		for p, content := range foreign {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil || string(b) != content {
				t.Errorf("foreign file %s changed: %q, %v", p, b, err)
			}
		}
	}

	// First build: everything is written.
	s := Plan(fixture(), testOptions())
	res, err := Build(ctx, dir, s)
	if err != nil {
		t.Fatal(err)
	}
	all := outputPaths(s)
	if !slices.Equal(res.Written, all) || len(res.Unchanged)+len(res.Removed) != 0 {
		t.Fatalf("first build: %+v, want every output written", res)
	}
	if got := readManifestFile(t, dir); !slices.Equal(got, all) {
		t.Errorf("manifest %v, want %v", got, all)
	}
	noTemp(t, dir)
	checkForeign()
	checkWellFormed(t, dir)

	// Age every file, then build the same set again: nothing is touched.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, p := range all {
		if err := os.Chtimes(filepath.Join(dir, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	res, err = Build(ctx, dir, Plan(fixture(), testOptions()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written)+len(res.Removed) != 0 || !slices.Equal(res.Unchanged, all) {
		t.Fatalf("second build: %+v, want every output unchanged", res)
	}
	for _, p := range all {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil || !fi.ModTime().Equal(old) {
			t.Errorf("%s was touched (%v, %v)", p, fi.ModTime(), err)
		}
	}

	// Drop the tag "C++ & Rust": its feeds go, the site feeds change, the
	// other files stay as they are.
	pubs := fixture()
	for _, p := range pubs {
		p.Tags = slices.DeleteFunc(p.Tags, func(tag string) bool { return tag == "C++ & Rust" })
	}
	s = Plan(pubs, testOptions())
	res, err = Build(ctx, dir, s)
	if err != nil {
		t.Fatal(err)
	}
	wantRemoved := []string{"tags/c-rust/atom.xml", "tags/c-rust/feed.json", "tags/c-rust/feed.xml"}
	if !slices.Equal(res.Removed, wantRemoved) {
		t.Errorf("removed %v, want %v", res.Removed, wantRemoved)
	}
	// The summer publication is in these feeds, and its categories changed;
	// the OPML lists the C++ & Rust feeds no more.
	wantWritten := []string{"atom.xml", "feed.json", "feed.xml", "feeds.opml", "tags/ecologie/atom.xml", "tags/ecologie/feed.json",
		"tags/ecologie/feed.xml", "types/news/atom.xml", "types/news/feed.json", "types/news/feed.xml"}
	if !slices.Equal(res.Written, wantWritten) {
		t.Errorf("written %v, want %v", res.Written, wantWritten)
	}
	for _, p := range res.Written {
		if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.ModTime().Equal(old) {
			t.Errorf("%s should have been replaced", p)
		}
	}
	if got, want := len(res.Unchanged), len(all)-len(wantRemoved)-len(wantWritten); got != want {
		t.Errorf("%d unchanged, want %d", got, want)
	}
	for _, p := range wantRemoved {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still exists (%v)", p, err)
		}
	}
	// tags/c-rust holds a foreign file, so it stays; a folder emptied by the
	// removal goes (checked below with a tag alone in its folder).
	checkForeign()
	if got := readManifestFile(t, dir); !slices.Equal(got, outputPaths(s)) {
		t.Errorf("manifest %v, want %v", got, outputPaths(s))
	}
	noTemp(t, dir)

	// Drop the "日本" note: its folder, now empty, is removed too.
	hashDir := filepath.Join(dir, "tags", slug("日本"))
	pubs = slices.DeleteFunc(pubs, func(p *publication.Publication) bool { return p.ID == idNote })
	if _, err = Build(ctx, dir, Plan(pubs, testOptions())); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(hashDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("emptied folder %s still exists (%v)", hashDir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tags")); err != nil {
		t.Errorf("tags/ should stay: %v", err)
	}
	checkForeign()
	checkWellFormed(t, dir)
}

// TestBuildManifestOutside checks that a manifest naming files outside the
// output folder does not make Build delete them.
func TestBuildManifestOutside(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "public")
	outside := filepath.Join(root, "precious.txt")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := "../precious.txt\n" + outside + "\n"
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Build(context.Background(), dir, Plan(fixture(), testOptions()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 0 {
		t.Errorf("removed %v", res.Removed)
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "keep" {
		t.Errorf("file outside the output folder changed: %q, %v", b, err)
	}
}

// dirSink creates files under a folder.
type dirSink string

// Create creates the file p (relative, with "/") and its parent folders.
func (d dirSink) Create(p string) (io.WriteCloser, error) {
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return nil, fmt.Errorf("path %q is outside the output folder", p)
	}
	name := filepath.Join(string(d), filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// failingSink fails on one path, after writing part of it.
type failingSink struct {
	dirSink
	fail string
}

type failingWriter struct{ io.WriteCloser }

func (f failingWriter) Write(p []byte) (int, error) {
	f.WriteCloser.Write(p[:len(p)/2])
	return len(p) / 2, errors.New("disk full")
}

func (s failingSink) Create(p string) (io.WriteCloser, error) {
	w, err := s.dirSink.Create(p)
	if err != nil || p != s.fail {
		return w, err
	}
	return failingWriter{w}, nil
}

func TestBuildSink(t *testing.T) {
	tests := []struct {
		name   string
		old    string // "" = no file
		chunks []string
		same   bool
	}{
		{"new file", "", []string{"abc", "def"}, false},
		{"identical", "abcdef", []string{"abc", "def"}, true},
		{"identical, empty", "\x00", nil, false},
		{"differs in the middle", "abcXef", []string{"abc", "def"}, false},
		{"differs in a later chunk", "abcdeX", []string{"abc", "def"}, false},
		{"new is shorter", "abcdefgh", []string{"abc", "def"}, false},
		{"new is longer", "abc", []string{"abc", "def"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, tmp := t.TempDir(), t.TempDir()
			if tt.old != "" {
				if err := os.WriteFile(filepath.Join(out, "f.xml"), []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sink := &buildSink{tmp: tmp, out: out, same: map[string]bool{}}
			w, err := sink.Create("f.xml")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.chunks {
				if n, err := w.Write([]byte(c)); n != len(c) || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if sink.same["f.xml"] != tt.same {
				t.Errorf("same = %v, want %v", sink.same["f.xml"], tt.same)
			}
			got, err := os.ReadFile(filepath.Join(tmp, "f.xml"))
			if tt.same {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("an identical output was written (%v)", err)
				}
				return
			}
			if want := strings.Join(tt.chunks, ""); string(got) != want || err != nil {
				t.Errorf("written %q (%v), want %q", got, err, want)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	s := Plan(fixture(), testOptions())
	err := s.Generate(context.Background(), failingSink{dirSink(t.TempDir()), "tags/ecologie/atom.xml"})
	if err == nil || !strings.Contains(err.Error(), "tags/ecologie/atom.xml") || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Generate: %v, want the failing path and cause", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Generate(ctx, newMemSink()); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context: %v", err)
	}
}

// TestBuildCancelled checks that a cancelled build changes nothing and
// leaves no temporary folder.
func TestBuildCancelled(t *testing.T) {
	dir := t.TempDir()
	if _, err := Build(context.Background(), dir, Plan(fixture(), testOptions())); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "feed.xml"))
	pubs := fixture()
	pubs[0].Title = "Changed"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, dir, Plan(pubs, testOptions())); !errors.Is(err, context.Canceled) {
		t.Fatalf("Build with a cancelled context: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "feed.xml"))
	if string(before) != string(after) {
		t.Error("a cancelled build changed feed.xml")
	}
	noTemp(t, dir)
}

// checkWellFormed parses every XML file of dir to the end and checks every
// JSON file is valid.
func checkWellFormed(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch filepath.Ext(p) {
		case ".xml", ".opml", ".xsl":
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			dec := xml.NewDecoder(f)
			depth, roots := 0, 0
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Errorf("%s is not well-formed: %v", rel, err)
					return nil
				}
				switch tok.(type) {
				case xml.StartElement:
					if depth == 0 {
						roots++
					}
					depth++
				case xml.EndElement:
					depth--
				}
			}
			if roots != 1 {
				t.Errorf("%s has %d root elements", rel, roots)
			}
		case ".json":
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Errorf("%s is not valid JSON: %v", rel, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBuildNestedPaths(t *testing.T) {
	opts := testOptions()
	opts.RSSPath, opts.AtomPath, opts.JSONPath = "./feed/feed.xml", "feed/atom.xml", "feed//feed.json"
	opts.Tags, opts.Types = false, false
	dir := t.TempDir()
	for run, want := range []string{"written", "unchanged"} {
		res, err := Build(context.Background(), dir, Plan(fixture(), opts))
		if err != nil {
			t.Fatal(err)
		}
		got := res.Written
		if want == "unchanged" {
			got = res.Unchanged
		}
		if exp := []string{"feed.xsl", "feed/atom.xml", "feed/feed.json", "feed/feed.xml", "feeds.opml"}; !slices.Equal(got, exp) {
			t.Errorf("run %d: %s %v, want %v", run, want, got, exp)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "feed", "feed.xml"))
	if err != nil || !strings.Contains(string(b), `<atom:link href="https://exemple.org/blog/feed/feed.xml" rel="self"`) {
		t.Errorf("feed/feed.xml: %v\n%.600s", err, b)
	}
}

// TestBuildFileBecomesFolder: an output path that was a file and becomes
// a folder (or the reverse) between two builds works: the earlier file is
// removed before the new one goes in its place. A file bulletin did not
// write stays, and then stops the build with an error.
func TestBuildFileBecomesFolder(t *testing.T) {
	opts := testOptions()
	opts.Tags, opts.Types = false, false
	dir := t.TempDir()
	steps := []struct{ rss, want, gone string }{
		{"flux", "flux", ""},
		{"flux/index.xml", "flux/index.xml", "flux"},
		{"flux", "flux", "flux/index.xml"},
	}
	for i, st := range steps {
		opts.RSSPath = st.rss
		res, err := Build(context.Background(), dir, Plan(fixture(), opts))
		if err != nil {
			t.Fatalf("step %d (%s): %v", i, st.rss, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(st.want))); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("step %d: %s is not a file: %v", i, st.want, err)
		}
		if st.gone != "" && !slices.Contains(res.Removed, st.gone) {
			t.Errorf("step %d: removed %q, want %s among them", i, res.Removed, st.gone)
		}
	}
	// A foreign file in the folder's place is never removed.
	if err := os.MkdirAll(filepath.Join(dir, "autre"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "autre", "mine.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.RSSPath = "autre"
	if _, err := Build(context.Background(), dir, Plan(fixture(), opts)); err == nil {
		t.Error("a folder holding a foreign file was replaced")
	}
	if _, err := os.Stat(filepath.Join(dir, "autre", "mine.txt")); err != nil {
		t.Errorf("the foreign file is gone: %v", err)
	}
}

// openCounter is a Sink that counts the files open at once.
type openCounter struct {
	mem       *memSink
	open, max atomic.Int64
}

type countedFile struct {
	io.Writer
	c *openCounter
}

func (f countedFile) Close() error { f.c.open.Add(-1); return nil }

func (c *openCounter) Create(p string) (io.WriteCloser, error) {
	w, err := c.mem.Create(p)
	if err != nil {
		return nil, err
	}
	n := c.open.Add(1)
	for m := c.max.Load(); n > m && !c.max.CompareAndSwap(m, n); m = c.max.Load() {
	}
	return countedFile{w, c}, nil
}

// TestGenerateBoundsOpenFiles: however many CPUs and tags, a Generate
// keeps at most maxWorkers × maxOpen files open (twice that on disk, with
// the files compared), under the usual limit of 1,024.
func TestGenerateBoundsOpenFiles(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(16))
	pubs := fixture()
	for i, p := range pubs {
		for j := range 400 {
			p.Tags = append(p.Tags, fmt.Sprintf("t%d-%d", i, j))
		}
	}
	s := Plan(pubs, testOptions())
	c := &openCounter{mem: newMemSink()}
	if err := s.Generate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if len(s.Outputs()) < 3*maxWorkers*maxOpen {
		t.Fatalf("only %d outputs: the test needs more", len(s.Outputs()))
	}
	if got := c.max.Load(); got > maxWorkers*maxOpen {
		t.Errorf("%d files open at once, want at most %d", got, maxWorkers*maxOpen)
	}
	if 2*maxWorkers*maxOpen > 900 {
		t.Errorf("up to %d files open with the old ones compared: over the usual limit of 1,024 with what else is open", 2*maxWorkers*maxOpen)
	}
}
