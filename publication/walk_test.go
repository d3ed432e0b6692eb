package publication

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// linkedSite is a content folder "site" next to a folder "shared" that it
// links in, with links of every kind Load meets on real sites.
func linkedSite(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	page := func(title string) string { return "---\ntitle: " + title + "\ndate: 2024-01-02\n---\nbody\n" }
	writeFiles(t, root, map[string]string{
		"site/a.md":                    page("A"),
		"site/sub/b.md":                page("B"),
		"shared/guides/c.md":           page("C"),
		"shared/guides/guides.json":    `{"tags": ["partagé"]}`,
		"shared/guides/deep/d.md":      page("D"),
		"elsewhere/e.md":               page("E"),
		"elsewhere/_hidden/h.md":       page("H"),
		"shared/guides/deep/dup/x.txt": "",
	})
	links := map[string]string{
		"site/guides":                 "../shared/guides",     // a folder outside: followed
		"site/e.md":                   "../elsewhere/e.md",    // a file outside: read
		"site/_private":               "../elsewhere/_hidden", // excluded: not content, linked or not
		"site/sub/again":              "../sub",               // inside the site: read anyway
		"site/sub/up":                 "..",                   // the site itself: a loop
		"shared/guides/deep/back":     "../../guides",         // back to a linked folder: a loop
		"shared/guides/deep/dup/site": "../../../../site",     // back to the root: a loop
		"site/gone.md":                "../nowhere.md",        // dangling: an error
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Skipf("symbolic links: %v", err)
		}
	}
	return root
}

// TestLoadFollowsLinkedFolders: folders and files linked into the content
// folder are read as if they were there (URLs, folder data); links that
// would read a folder twice or loop are reported as warnings, a dangling
// link as an error, and the rest is loaded.
func TestLoadFollowsLinkedFolders(t *testing.T) {
	root := linkedSite(t)
	// The content folder may itself be a link.
	if err := os.Symlink("site", filepath.Join(root, "content")); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t)
	opts.Exclude = []string{"_private/**"}
	for _, dir := range []string{"site", "content"} {
		s, err := Load(context.Background(), filepath.Join(root, dir), opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range s.Publications {
			got = append(got, p.Source+" "+p.Path)
			if p.Source == "guides/c.md" && !slices.Contains(p.Tags, "partagé") {
				t.Errorf("%s: the linked folder's data file was not applied: tags %q", dir, p.Tags)
			}
		}
		slices.Sort(got)
		want := []string{"a.md /a/", "e.md /e/", "guides/c.md /guides/c/", "guides/deep/d.md /guides/deep/d/", "sub/b.md /sub/b/"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: published %q, want %q", dir, got, want)
		}
		wantDiags := []string{
			"site/gone.md: error: cannot read: no such file or directory",
			"site/guides/deep/back: warning: symbolic link to a folder not followed: it points to a folder that contains it (a loop)",
			"site/guides/deep/dup/site: warning: symbolic link to a folder not followed: it points to a folder that contains it (a loop)",
			"site/sub/again: warning: symbolic link to a folder not followed: it points to a folder that is read anyway",
			"site/sub/up: warning: symbolic link to a folder not followed: it points to a folder that contains it (a loop)",
		}
		diags := diagStrings(s)
		slices.Sort(diags)
		if !reflect.DeepEqual(diags, wantDiags) {
			t.Errorf("%s: diagnostics\n%q\nwant\n%q", dir, diags, wantDiags)
		}
	}
}

// TestFingerprintSeesLinkedFiles: a change to a file inside a linked
// folder, or to a linked file, changes the fingerprint; nothing else does;
// links that loop or dangle do not stop the scan.
func TestFingerprintSeesLinkedFiles(t *testing.T) {
	root := linkedSite(t)
	site := filepath.Join(root, "site")
	fp := func() string {
		t.Helper()
		s, err := Fingerprint(site)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := fp()
	if again := fp(); again != first {
		t.Fatal("the fingerprint of an unchanged tree changed")
	}
	later := time.Now().Add(time.Hour)
	for _, name := range []string{"shared/guides/deep/d.md", "elsewhere/e.md"} {
		before := fp()
		if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(name)), later, later); err != nil {
			t.Fatal(err)
		}
		if fp() == before {
			t.Errorf("touching %s did not change the fingerprint", name)
		}
	}
	if _, err := Fingerprint(filepath.Join(root, "missing")); err == nil {
		t.Error("no error for a missing content folder")
	}
}
