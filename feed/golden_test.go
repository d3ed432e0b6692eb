package feed

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden compares the fixture's site feeds and OPML with
// testdata/*.golden, and checks that generating twice gives the same bytes.
func TestGolden(t *testing.T) {
	_, first := generate(t, fixture(), testOptions())
	_, second := generate(t, fixture(), testOptions())
	if len(first.files) != len(second.files) {
		t.Fatalf("%d then %d files", len(first.files), len(second.files))
	}
	for p, b := range first.files {
		if !bytes.Equal(b.Bytes(), second.files[p].Bytes()) {
			t.Errorf("%s differs between two runs", p)
		}
	}
	for _, name := range []string{"feed.xml", "atom.xml", "feed.json", "feeds.opml"} {
		golden := filepath.Join("testdata", name+".golden")
		got := first.files[name].Bytes()
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./feed -run TestGolden -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; if the change is intended, run go test ./feed -run TestGolden -update\ngot:\n%s", name, golden, got)
		}
	}
	if !bytes.Equal(first.files["feed.xsl"].Bytes(), []byte(xslSheet)) {
		t.Error("feed.xsl is not the embedded stylesheet")
	}
}
