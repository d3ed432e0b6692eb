// Command floor measures the least work any Markdown-to-feeds build on
// goldmark must do for a corpus, so that bulletin's build time can be
// compared with it: list and read every Markdown file, render each body
// with goldmark and the GFM extensions bulletin uses (tables,
// strikethrough, task lists, heading ids, raw HTML kept), and write as
// many bytes as bulletin's feeds hold. It does nothing else: no YAML, no
// data cascade, no URL rewriting, no sanitising, no feed encoding, no
// atomic renames. bench/floor.sh runs it in turn with bulletin.
//
//	go run ./bench/floor -content /tmp/corpus-10k -out /tmp/floor-out -bytes 236978176
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
)

func main() {
	content := flag.String("content", "", "Markdown folder (required)")
	out := flag.String("out", "", "output folder, created (required)")
	size := flag.Int64("bytes", 0, "bytes to write, e.g. the size of bulletin's output for the same corpus")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "parallel readers/renderers and writers")
	flag.Parse()
	if *content == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "floor: -content and -out are required")
		os.Exit(2)
	}
	// The same collector setting as "bulletin build".
	debug.SetGCPercent(200)
	if err := run(*content, *out, *size, max(*workers, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(content, out string, size int64, workers int) error {
	start := time.Now()
	var files []string
	err := filepath.WalkDir(content, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no .md file under %s", content)
	}
	listed := time.Since(start)
	md := goldmark.New(
		goldmark.WithExtensions(extension.Strikethrough, extension.TaskList, extension.Table),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(html.WithUnsafe()),
	)
	bodies, err := render(md, files, workers)
	if err != nil {
		return err
	}
	rendered := time.Since(start)
	var n int
	for _, b := range bodies {
		n += len(b)
	}
	if n == 0 && size > 0 {
		return errors.New("every body is empty: nothing to write")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := write(out, bodies, size, workers); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d files, %d bytes of HTML, %d bytes written; list %s, read and render %s, write %s, total %s\n",
		len(files), n, size, listed.Round(time.Millisecond), (rendered - listed).Round(time.Millisecond),
		(time.Since(start) - rendered).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return nil
}

// render reads each file, drops its front matter and renders the rest.
func render(md goldmark.Markdown, files []string, workers int) ([][]byte, error) {
	bodies := make([][]byte, len(files))
	errs := make([]error, workers)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range next {
				src, err := os.ReadFile(files[i])
				if err != nil {
					errs[w] = err
					continue
				}
				var buf bytes.Buffer
				if err := md.Convert(body(src), &buf); err != nil {
					errs[w] = fmt.Errorf("%s: %w", files[i], err)
				}
				bodies[i] = buf.Bytes()
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	return bodies, errors.Join(errs...)
}

// body returns src without the front matter between its first two "---"
// lines.
func body(src []byte) []byte {
	if !bytes.HasPrefix(src, []byte("---\n")) {
		return src
	}
	if i := bytes.Index(src[4:], []byte("\n---\n")); i >= 0 {
		return src[4+i+5:]
	}
	return src
}

// write writes the rendered bodies over and over, in 64 KB writes, until
// size bytes are written, spread over one file per worker.
func write(out string, bodies [][]byte, size int64, workers int) error {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errs[w] = writeFile(filepath.Join(out, fmt.Sprintf("out-%d", w)), bodies, size/int64(workers))
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func writeFile(name string, bodies [][]byte, size int64) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, 64<<10)
	var n int64
	for n < size {
		for _, b := range bodies {
			buf = append(buf, b...)
			if len(buf) >= 60<<10 || n+int64(len(buf)) >= size {
				k := min(int64(len(buf)), size-n)
				if _, err := f.Write(buf[:k]); err != nil {
					f.Close()
					return err
				}
				n += k
				buf = buf[:0]
				if n >= size {
					break
				}
			}
		}
	}
	return f.Close()
}
