package feed

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/ecoresponsable/bulletin/publication"
)

// Sink receives output files. Build uses a temporary folder; the HTTP
// server can keep them in memory. Create may be called from several
// goroutines at once, each time for a different path.
type Sink interface {
	Create(path string) (io.WriteCloser, error)
}

const (
	// bufSize is the buffer between the encoders and each file of a Sink.
	bufSize = 32 << 10
	// maxOpen bounds the feeds one pass writes at the same time. A feed
	// holds two files open (the new one, and the old one it is compared
	// with), and at most maxWorkers passes run at once: 4 × 96 × 2 files
	// stay well under the common limit of 1,024 open files.
	maxOpen = 96
	// maxWorkers bounds the jobs of a Generate that run at once.
	maxWorkers = 4
)

// Generate writes every output of the Set into sink. Items' Content must
// be rendered already (publication.Render on s.Publications()).
//
// A publication is listed by several feeds (the site's, its tags', its
// type's) which all keep the same newest-first order. So each format is
// written in one pass over the publications: every item is encoded once,
// straight into a reused buffer (escaped as encoding/xml and encoding/json
// would), and its bytes are copied into each open feed that lists it,
// between the head and the tail of that feed (encoded from gorilla's feed
// structs). Nothing is held in memory beyond one item, the files' buffers
// and a few bytes per publication (bodyChecks). The formats run
// concurrently.
//
// Generate stops at the first error or when ctx is done; files being
// written then are left incomplete in the sink, and the error names one.
func (s *Set) Generate(ctx context.Context, sink Sink) error {
	if s.err != nil {
		return s.err
	}
	var jobs []func(context.Context) error
	bodies := newBodyChecks(len(s.pubs))
	for _, fm := range s.formats() {
		var batch []*feedSpec
		for _, f := range s.feeds {
			if fm.out(f) < 0 {
				continue
			}
			batch = append(batch, f)
			if len(batch) == maxOpen {
				b := batch
				jobs = append(jobs, func(ctx context.Context) error { return s.pass(ctx, sink, fm, b, bodies) })
				batch = nil
			}
		}
		if len(batch) > 0 {
			jobs = append(jobs, func(ctx context.Context) error { return s.pass(ctx, sink, fm, batch, bodies) })
		}
	}
	for _, o := range s.outputs {
		switch o.Format {
		case FormatOPML:
			jobs = append(jobs, func(ctx context.Context) error { return writeFile(ctx, sink, o.Path, s.writeOPML) })
		case FormatXSL:
			jobs = append(jobs, func(ctx context.Context) error {
				return writeFile(ctx, sink, o.Path, func(_ context.Context, w io.Writer) error {
					_, err := io.WriteString(w, xslSheet)
					return err
				})
			})
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan func(context.Context) error)
	var wg sync.WaitGroup
	// The long jobs are the three formats' passes: with one worker more
	// than CPUs, on two cores they all run together.
	for range min(runtime.GOMAXPROCS(0)+1, maxWorkers, len(jobs)) {
		wg.Go(func() {
			for job := range next {
				if err := job(ctx); err != nil {
					cancel(err)
				}
			}
		})
	}
send:
	for _, job := range jobs {
		select {
		case next <- job:
		case <-ctx.Done():
			break send
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// format is how one feed format is written.
type format struct {
	// out is the feed's output of this format, -1 when it has none.
	out func(*feedSpec) int
	// frame encodes the feed without items, split where the items go.
	frame func(*feedSpec) (head, tail []byte, err error)
	// encoder returns a function encoding s.pubs[i], the item; the bytes
	// it returns are valid until its next call. The passes of a Generate
	// share bodies.
	encoder func(bodies *bodyChecks) func(i int, item *publication.Publication) []byte
	// sep, when set, is written before the nth item of a feed.
	sep func(n int) string
}

// formats returns how each feed format is written, in the order of their
// passes.
func (s *Set) formats() []format {
	return []format{
		{out: func(f *feedSpec) int { return f.rss }, frame: s.rssFrame, encoder: s.rssEncoder},
		{out: func(f *feedSpec) int { return f.atom }, frame: s.atomFrame, encoder: s.atomEncoder},
		{out: func(f *feedSpec) int { return f.json }, frame: s.jsonFrame, encoder: s.jsonEncoder, sep: jsonSep},
	}
}

// target is a feed file being written.
type target struct {
	path string
	w    io.WriteCloser
	bw   *bufio.Writer
	tail []byte
	n    int // items written
}

// pass writes the feeds of one format in a single walk over the
// publications.
func (s *Set) pass(ctx context.Context, sink Sink, fm format, feeds []*feedSpec, bodies *bodyChecks) (err error) {
	targets := make([]target, 0, len(feeds))
	defer func() {
		if err != nil {
			for _, t := range targets {
				t.w.Close()
			}
		}
	}()
	for _, f := range feeds {
		path := s.outputs[fm.out(f)].Path
		head, tail, err := fm.frame(f)
		if err != nil {
			return fmt.Errorf("feed: encode %s: %w", path, err)
		}
		w, err := sink.Create(path)
		if err != nil {
			return fmt.Errorf("feed: create %s: %w", path, err)
		}
		t := target{path: path, w: w, bw: bufio.NewWriterSize(w, bufSize), tail: tail}
		targets = append(targets, t)
		if _, err := t.bw.Write(head); err != nil {
			return fmt.Errorf("feed: write %s: %w", path, err)
		}
	}

	// members[start[i]:start[i+1]] are the targets listing s.pubs[i].
	start := make([]int32, len(s.pubs)+1)
	for _, f := range feeds {
		for _, i := range f.idx {
			start[i+1]++
		}
	}
	for i := range s.pubs {
		start[i+1] += start[i]
	}
	members := make([]int32, start[len(s.pubs)])
	fill := slices.Clone(start[:len(s.pubs)])
	for k, f := range feeds {
		for _, i := range f.idx {
			members[fill[i]] = int32(k)
			fill[i]++
		}
	}

	encode := fm.encoder(bodies)
	done := 0
	for i, p := range s.pubs {
		in := members[start[i]:start[i+1]]
		if len(in) == 0 {
			continue
		}
		if done%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		done++
		b := encode(i, p)
		for _, k := range in {
			t := &targets[k]
			if fm.sep != nil {
				t.bw.WriteString(fm.sep(t.n))
			}
			t.n++
			if _, err := t.bw.Write(b); err != nil {
				return fmt.Errorf("feed: write %s: %w", t.path, err)
			}
		}
	}

	var errs []error
	for _, t := range targets {
		_, err := t.bw.Write(t.tail)
		if err == nil {
			err = t.bw.Flush()
		}
		if cerr := t.w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("feed: write %s: %w", t.path, err))
		}
	}
	targets = nil // all closed
	return errors.Join(errs...)
}

// writeFile writes one whole file through a buffer.
func writeFile(ctx context.Context, sink Sink, path string, write func(context.Context, io.Writer) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	w, err := sink.Create(path)
	if err != nil {
		return fmt.Errorf("feed: create %s: %w", path, err)
	}
	defer func() {
		if cerr := w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("feed: write %s: %w", path, cerr)
		}
	}()
	bw := bufio.NewWriterSize(w, bufSize)
	if err := write(ctx, bw); err != nil {
		return fmt.Errorf("feed: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("feed: write %s: %w", path, err)
	}
	return nil
}

// splitFrame encodes a feed document whose items were replaced by
// itemsMark, and cuts it there.
func splitFrame(encode func(io.Writer) error) (head, tail []byte, err error) {
	var b bytes.Buffer
	if err := encode(&b); err != nil {
		return nil, nil, err
	}
	head, tail, ok := bytes.Cut(b.Bytes(), []byte("<!--"+itemsMarkText+"-->"))
	if !ok {
		return nil, nil, errors.New("items marker missing")
	}
	return head, tail, nil
}
