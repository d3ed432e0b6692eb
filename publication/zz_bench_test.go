package publication

import (
	"bytes"
	"os"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"go.yaml.in/yaml/v3"
)

var zzSrc, _ = os.ReadFile("/tmp/c10k/guides/lot-000/publication-000001.md")

func BenchmarkZZGoldmarkPlain(b *testing.B) {
	_, body, _, _ := SplitFrontMatter(zzSrc)
	md := goldmark.New()
	var buf bytes.Buffer
	for i := 0; i < b.N; i++ {
		buf.Reset()
		md.Convert(body, &buf)
	}
}
func BenchmarkZZGoldmarkGFM(b *testing.B) {
	_, body, _, _ := SplitFrontMatter(zzSrc)
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	var buf bytes.Buffer
	for i := 0; i < b.N; i++ {
		buf.Reset()
		md.Convert(body, &buf)
	}
}
func BenchmarkZZGoldmarkNoLinkify(b *testing.B) {
	_, body, _, _ := SplitFrontMatter(zzSrc)
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))
	var buf bytes.Buffer
	for i := 0; i < b.N; i++ {
		buf.Reset()
		md.Convert(body, &buf)
	}
}
func BenchmarkZZYAMLNode(b *testing.B) {
	fm, _, _, _ := SplitFrontMatter(zzSrc)
	for i := 0; i < b.N; i++ {
		var n yaml.Node
		yaml.Unmarshal(fm, &n)
	}
}
func BenchmarkZZRenderFull(b *testing.B) {
	_, body, _, _ := SplitFrontMatter(zzSrc)
	r := newRenderer(newPolicy())
	p := &Publication{URL: "https://example.org/a/b/", body: body}
	for i := 0; i < b.N; i++ {
		r.render(p)
	}
}
func BenchmarkZZSanitize(b *testing.B) {
	_, body, _, _ := SplitFrontMatter(zzSrc)
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	var buf bytes.Buffer
	md.Convert(body, &buf)
	pol := newPolicy()
	for i := 0; i < b.N; i++ {
		pol.SanitizeBytes(buf.Bytes())
	}
}
