package feed

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ManifestName is the file, at the root of the output folder, listing the
// files bulletin wrote there. Only those are ever removed.
const ManifestName = ".bulletin-manifest"

// tmpPrefix starts the name of the temporary folders Build writes into.
const tmpPrefix = ".bulletin-tmp-"

// Result says what Build did, with paths relative to the output folder.
type Result struct {
	// Written are the files created or replaced.
	Written []string
	// Unchanged are the files whose content was already right; they were
	// not touched (their modification time is kept).
	Unchanged []string
	// Removed are files of an earlier build that are no longer produced.
	Removed []string
}

// Build writes a Set into outDir. Everything is first written into a
// temporary folder inside outDir; then each file either is left alone when
// the existing one is byte-identical, or is renamed into place, so that a
// reader never sees a half-written file and an interrupted build never
// leaves one. Files listed in the manifest of an earlier build and not
// produced any more are removed, with the folders they leave empty; no
// other file of outDir is touched. The temporary folder is removed even on
// error or cancellation. Builds into one folder run one after the other
// (see lockDir).
func Build(ctx context.Context, outDir string, s *Set) (res *Result, err error) {
	if s.err != nil {
		return nil, s.err
	}
	if outDir == "" {
		return nil, errors.New("feed: build: no output folder")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("feed: build: %w", err)
	}
	unlock, err := lockDir(ctx, outDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	removeStaleTemp(outDir)
	tmp, err := os.MkdirTemp(outDir, tmpPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("feed: build: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = fmt.Errorf("feed: build: remove %s: %w", tmp, rerr)
		}
	}()
	sink := &buildSink{tmp: tmp, out: outDir, same: map[string]bool{}}
	if err := s.Generate(ctx, sink); err != nil {
		return nil, err
	}

	old, err := readManifest(outDir)
	if err != nil {
		return nil, err
	}
	produced := make([]string, 0, len(s.outputs))
	for _, o := range s.outputs {
		produced = append(produced, o.Path) // clean, see Plan
	}
	slices.Sort(produced)
	// Until the files are in place, the manifest lists both the old and
	// the new ones: whatever happens next, every file bulletin may have put
	// in outDir stays known.
	if err := writeManifest(outDir, union(old, produced)); err != nil {
		return nil, err
	}

	res = &Result{}
	keep := make(map[string]bool, len(produced))
	for _, p := range produced {
		keep[p] = true
	}
	// An output of an earlier build that stands where a new one goes — a
	// file that becomes a folder ("feed" → "feed/index.xml") or the
	// reverse — is removed first, else the rename below would fail.
	dirs, gone := map[string]bool{}, map[string]bool{}
	// (Paths from the manifest may be anything: "/" ends a walk up too.)
	for _, p := range produced {
		for d := path.Dir(p); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, q := range old {
		inTheWay := dirs[q]
		for d := path.Dir(q); d != "." && d != "/" && !inTheWay; d = path.Dir(d) {
			inTheWay = keep[d]
		}
		if keep[q] || !inTheWay {
			continue
		}
		removed, err := removeOutput(outDir, q)
		if err != nil {
			return nil, err
		}
		if removed {
			res.Removed = append(res.Removed, q)
		}
		gone[q] = true
	}
	for _, p := range produced {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if sink.same[p] {
			res.Unchanged = append(res.Unchanged, p)
			continue
		}
		dst := filepath.Join(outDir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("feed: build: %w", err)
		}
		if err := os.Rename(filepath.Join(tmp, filepath.FromSlash(p)), dst); err != nil {
			return nil, fmt.Errorf("feed: build: %w", err)
		}
		res.Written = append(res.Written, p)
	}

	for _, p := range old {
		if keep[p] || gone[p] {
			continue
		}
		removed, err := removeOutput(outDir, p)
		if err != nil {
			return nil, err
		}
		if removed {
			res.Removed = append(res.Removed, p)
		}
	}
	if err := writeManifest(outDir, produced); err != nil {
		return nil, err
	}
	return res, nil
}

// buildSink writes outputs into the temporary folder tmp, comparing them
// on the way with the files already in out: as long as the bytes match,
// nothing is written, and an output that turns out identical is never
// written at all (same[p] is set). At the first difference, the matching
// part is copied from the old file and writing goes on in tmp.
type buildSink struct {
	tmp, out string
	mu       sync.Mutex
	same     map[string]bool
}

func (b *buildSink) Create(p string) (io.WriteCloser, error) {
	local := filepath.FromSlash(p)
	if !filepath.IsLocal(local) {
		return nil, fmt.Errorf("path %q is outside the output folder", p)
	}
	w := &compareWriter{sink: b, path: p, tmpName: filepath.Join(b.tmp, local)}
	old, err := os.Open(filepath.Join(b.out, local))
	if err == nil {
		if fi, err := old.Stat(); err == nil && fi.Mode().IsRegular() {
			w.old = old
			return w, nil
		}
		old.Close()
	}
	if err := w.diverge(); err != nil {
		return nil, err
	}
	return w, nil
}

// compareWriter is a file of a buildSink.
type compareWriter struct {
	sink    *buildSink
	path    string
	tmpName string
	old     *os.File // the existing file while the output matches it
	matched int64    // bytes of old matched so far
	buf     []byte
	tmp     *os.File // the new file, once the output differs
}

func (w *compareWriter) Write(p []byte) (int, error) {
	if w.old != nil {
		if len(w.buf) < len(p) {
			w.buf = make([]byte, max(len(p), 32<<10))
		}
		n, err := io.ReadFull(w.old, w.buf[:len(p)])
		if n == len(p) && bytes.Equal(w.buf[:n], p) {
			w.matched += int64(n)
			return len(p), nil
		}
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, err
		}
		if err := w.diverge(); err != nil {
			return 0, err
		}
	}
	return w.tmp.Write(p)
}

// diverge starts the new file, with the part of the old one matched so far.
func (w *compareWriter) diverge() error {
	if err := os.MkdirAll(filepath.Dir(w.tmpName), 0o755); err != nil {
		return err
	}
	tmp, err := os.OpenFile(w.tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w.tmp = tmp
	if w.old == nil {
		return nil
	}
	old := w.old
	w.old = nil
	defer old.Close()
	if _, err := old.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = io.CopyN(tmp, old, w.matched)
	return err
}

func (w *compareWriter) Close() error {
	if w.old != nil {
		// Identical only if the old file has nothing more.
		var one [1]byte
		n, err := w.old.Read(one[:])
		if n == 0 && errors.Is(err, io.EOF) {
			w.old.Close()
			w.old = nil
			w.sink.mu.Lock()
			w.sink.same[w.path] = true
			w.sink.mu.Unlock()
			return nil
		}
		if err := w.diverge(); err != nil {
			return err
		}
	}
	return w.tmp.Close()
}

// removeOutput removes a file of an earlier build and the folders it
// leaves empty, up to outDir. Paths that would leave outDir are ignored:
// the manifest is read from disk and must not make Build delete elsewhere.
func removeOutput(outDir, p string) (bool, error) {
	local := filepath.FromSlash(p)
	if !filepath.IsLocal(local) {
		return false, nil
	}
	name := filepath.Join(outDir, local)
	fi, err := os.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("feed: build: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return false, nil
	}
	if err := os.Remove(name); err != nil {
		return false, fmt.Errorf("feed: build: %w", err)
	}
	for dir := filepath.Dir(local); dir != "."; dir = filepath.Dir(dir) {
		if os.Remove(filepath.Join(outDir, dir)) != nil {
			break // not empty, or not ours to remove
		}
	}
	return true, nil
}

// readManifest returns the paths listed in outDir's manifest, none when
// there is no manifest.
func readManifest(outDir string) ([]string, error) {
	name := filepath.Join(outDir, ManifestName)
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("feed: build: %w", err)
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		paths = append(paths, path.Clean(line))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("feed: build: read %s: %w", name, err)
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}

// writeManifest replaces outDir's manifest atomically with the sorted paths.
func writeManifest(outDir string, paths []string) error {
	var b bytes.Buffer
	b.WriteString("# Files written by bulletin; it removes them when it no longer produces them.\n")
	for _, p := range paths {
		b.WriteString(p)
		b.WriteByte('\n')
	}
	if cur, err := os.ReadFile(filepath.Join(outDir, ManifestName)); err == nil && bytes.Equal(cur, b.Bytes()) {
		return nil // unchanged: leave the file, and its mtime, alone
	}
	f, err := os.CreateTemp(outDir, tmpPrefix+"manifest-*")
	if err != nil {
		return fmt.Errorf("feed: build: write manifest: %w", err)
	}
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(outDir, ManifestName))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("feed: build: write manifest: %w", err)
	}
	return nil
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// removeStaleTemp removes temporary folders and files left in outDir by a
// build that was killed, once they are an hour old (a younger one may
// belong to a build running now).
func removeStaleTemp(outDir string) {
	matches, _ := filepath.Glob(filepath.Join(outDir, tmpPrefix+"*"))
	for _, m := range matches {
		if fi, err := os.Lstat(m); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(m)
		}
	}
}
