// Command sendbench measures how fast the digest sender delivers, and with
// how much memory, against a local SMTP sink that accepts and discards,
// next to the ceiling: a bare go-mail loop sending one pre-built message
// over as many connections. Each mode runs in its own process so that the
// sink's CPU and the seeding's memory are not counted in a measurement.
//
//	sendbench -sink 127.0.0.1:2525                    run the sink until killed
//	sendbench -seed 100000 -db /tmp/b.db               make a database: N subscribers, a digest of 8 items
//	sendbench -send -db /tmp/b.db -addr 127.0.0.1:2525 send that digest; print one JSON result
//	sendbench -ceiling -n 100000 -addr 127.0.0.1:2525  the bare go-mail loop; print one JSON result
//	sendbench -report results.jsonl                    print the table of medians
//
// bench/send.sh runs it all.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
	gomail "github.com/wneessen/go-mail"

	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

// connections is the number of SMTP connections (and sending workers), the
// default of smtp.concurrency.
const connections = 4

// result is one measurement, printed as a JSON line.
type result struct {
	Mode     string  `json:"mode"` // "sender" or "ceiling"
	N        int     `json:"n"`
	Seconds  float64 `json:"seconds"`
	PerSec   float64 `json:"msgs_per_s"`
	PeakRSS  int64   `json:"peak_rss_kb"`
	CPUus    float64 `json:"cpu_us_per_msg"`      // user+system CPU of this process per message
	SinkCPU  float64 `json:"sink_cpu_us_per_msg"` // the same for the sink process, when -sinkpid is given
	Sent     int     `json:"sent"`
	MsgBytes int     `json:"msg_bytes,omitempty"`
}

func main() {
	sink := flag.String("sink", "", "run a discarding SMTP sink on this address until killed")
	seed := flag.Int("seed", 0, "create -db with this many active subscribers and a digest of 8 items")
	send := flag.Bool("send", false, "send the digest of -db to -addr through digest.Sender")
	ceiling := flag.Bool("ceiling", false, "send -n copies of one message to -addr with bare go-mail")
	report := flag.String("report", "", "print the table of medians of a file of JSON results")
	db := flag.String("db", "", "database file")
	addr := flag.String("addr", "127.0.0.1:2525", "SMTP sink address")
	n := flag.Int("n", 0, "messages for -ceiling")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of -send or -ceiling to this file")
	sinkPID := flag.Int("sinkpid", 0, "process id of the sink, to report its CPU time per message too")
	gcPercent := flag.Int("gogc", 400, "garbage collector target of -send and -ceiling, as `bulletin digest send` sets it (unless GOGC is set)")
	flag.Parse()
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(*gcPercent)
	}
	log.SetFlags(0)
	log.SetPrefix("sendbench: ")
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	ctx := context.Background()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	switch {
	case *sink != "":
		err = runSink(*sink)
	case *seed > 0:
		err = seedDB(ctx, *db, *seed)
	case *send:
		err = runSender(ctx, *db, *addr, *sinkPID)
	case *ceiling:
		err = runCeiling(ctx, *addr, *n, *sinkPID)
	case *report != "":
		err = printReport(*report)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		pprof.StopCPUProfile()
		log.Fatal(err)
	}
}

// runSink accepts every message and throws it away.
func runSink(addr string) error {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return sinkSession{}, nil }))
	srv.Addr = addr
	srv.Domain = "sink.local"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() { <-sig; srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

type sinkSession struct{}

func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (sinkSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (sinkSession) Reset()        {}
func (sinkSession) Logout() error { return nil }

// items is a digest of 8 publications shaped like the sample site's.
func items(now time.Time) []store.DigestItem {
	tags := [][]string{{"sobriete", "mesure"}, {"achats"}, {"reemploi", "equipements"}, {"ecoconception"}}
	out := make([]store.DigestItem, 8)
	for i := range out {
		u := fmt.Sprintf("https://bulletin.example.org/actualites/publication-%d/", i)
		out[i] = store.DigestItem{
			PublicationID: u, URL: u,
			Title:       fmt.Sprintf("Publication n°%d : réduire l’empreinte des services numériques publics", i),
			Description: "Quatre semaines d’ateliers, 1 200 participants et une vingtaine d’engagements pris par des services ; voici ce que nous en retenons pour l’année qui vient.",
			Date:        now.Add(-time.Duration(i) * 24 * time.Hour),
			Tags:        tags[i%len(tags)],
			Thumbnail:   fmt.Sprintf("https://bulletin.example.org/img/publication-%d.webp", i),
			Type:        "news",
		}
	}
	return out
}

// seedDB creates the database with n active subscribers (a quarter of them
// following one topic) and the digest to send.
func seedDB(ctx context.Context, path string, n int) error {
	if path == "" {
		return errors.New("-db is required")
	}
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	for i := range n {
		var topics []string
		if i%4 == 0 {
			topics = []string{"sobriete"}
		}
		if _, err := st.Add(ctx, store.NewSubscriber{
			Email: fmt.Sprintf("lecteur%06d@example.net", i), Name: fmt.Sprintf("Lectrice n°%d", i),
			Lang: []string{"fr", "en"}[i%2], Topics: topics,
		}, now); err != nil {
			return err
		}
	}
	d, err := st.CreateDigest(ctx, "bench", items(now), now)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded %s: %d subscribers, digest %d\n", path, n, d.ID)
	return nil
}

func newRenderer() (*digest.Renderer, error) {
	tpl, err := templates.Load("")
	if err != nil {
		return nil, err
	}
	signer, err := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		return nil, err
	}
	return digest.NewRenderer(tpl, signer, digest.Settings{
		SiteTitle: "Numérique responsable", SiteURL: "https://bulletin.example.org/",
		From: "Numérique responsable <bulletin@example.org>", ReplyTo: "contact@example.org",
		UnsubscribeMailto: "desinscription@example.org",
	}), nil
}

func hostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	return host, port, err
}

// runSender sends the unfinished digest of path through the real sender.
func runSender(ctx context.Context, path, addr string, sinkPID int) error {
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	unfinished, err := st.Unfinished(ctx)
	if err != nil {
		return err
	}
	if len(unfinished) == 0 {
		return fmt.Errorf("%s has no digest to send (seed it again)", path)
	}
	d := unfinished[0]
	r, err := newRenderer()
	if err != nil {
		return err
	}
	host, port, err := hostPort(addr)
	if err != nil {
		return err
	}
	m, err := mailer.NewSMTP(mailer.SMTPConfig{Host: host, Port: port, TLS: mailer.TLSNone, HELO: "sendbench",
		Concurrency: connections})
	if err != nil {
		return err
	}
	defer m.Close()
	s := &digest.Sender{Store: st, Mailer: m, Renderer: r, Concurrency: connections, Logger: slog.Default()}
	cpu0, sink0 := cpuTime(), procCPU(sinkPID)
	start := time.Now()
	res, err := s.Send(ctx, d.ID)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	if !res.Finished {
		return fmt.Errorf("digest %d not finished: %+v", d.ID, res)
	}
	n := res.Sent + res.Skipped + res.Failed
	return emit(result{Mode: "sender", N: n, Sent: res.Sent, Seconds: elapsed.Seconds(),
		PerSec: float64(n) / elapsed.Seconds(), PeakRSS: peakRSS(), CPUus: cpuSince(cpu0) / float64(n),
		SinkCPU: float64(procCPU(sinkPID)-sink0) / float64(time.Microsecond) / float64(n)})
}

// runCeiling sends n copies of one rendered digest message over
// `connections` go-mail clients, one per goroutine: no database, no
// rendering, no pool; the most this machine and sink allow.
func runCeiling(ctx context.Context, addr string, n, sinkPID int) error {
	if n <= 0 {
		return errors.New("-n is required")
	}
	r, err := newRenderer()
	if err != nil {
		return err
	}
	now := time.Now()
	m, ok, err := r.Message(store.Digest{ID: 1, CreatedAt: now, Items: items(now)},
		store.Subscriber{ID: 1, Email: "lecteur000001@example.net", Name: "Lectrice n°1", Lang: "fr"})
	if err != nil || !ok {
		return fmt.Errorf("render: ok=%v %v", ok, err)
	}
	raw, err := mailer.Render(m)
	if err != nil {
		return err
	}
	host, port, err := hostPort(addr)
	if err != nil {
		return err
	}
	clients := make([]*gomail.Client, connections)
	msgs := make([]*gomail.Msg, connections)
	for w := range connections {
		c, err := gomail.NewClient(host, gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS),
			gomail.WithHELO("sendbench"), gomail.WithoutNoop(), gomail.WithoutRset())
		if err != nil {
			return err
		}
		clients[w] = c
		msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP), gomail.WithNoDefaultUserAgent())
		if err := msg.From(m.From); err != nil {
			return err
		}
		if err := msg.To(m.To); err != nil {
			return err
		}
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return err
		}
		msg.Subject(m.Subject)
		msg.SetMessageIDWithValue(m.MessageID)
		msg.SetDateWithValue(m.Date)
		for _, h := range m.Headers {
			msg.SetGenHeader(gomail.Header(h[0]), h[1])
		}
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
		msgs[w] = msg
	}

	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, connections)
	cpu0, sink0 := cpuTime(), procCPU(sinkPID)
	start := time.Now()
	for w := range connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := clients[w].DialWithContext(ctx); err != nil {
				errs <- err
				return
			}
			defer clients[w].Close()
			for next.Add(1) <= int64(n) {
				if err := clients[w].Send(msgs[w]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return emit(result{Mode: "ceiling", N: n, Sent: n, Seconds: elapsed.Seconds(),
		PerSec: float64(n) / elapsed.Seconds(), PeakRSS: peakRSS(), CPUus: cpuSince(cpu0) / float64(n),
		SinkCPU: float64(procCPU(sinkPID)-sink0) / float64(time.Microsecond) / float64(n), MsgBytes: len(raw)})
}

func emit(r result) error {
	return json.NewEncoder(os.Stdout).Encode(r)
}

// cpuTime is the user and system CPU time used by this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the user and system CPU time used so far by process pid (0:
// none), from /proc/pid/stat.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	_, rest, ok := strings.Cut(string(data), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// cpuSince is the CPU time used since t0, in microseconds.
func cpuSince(t0 time.Duration) float64 {
	return float64(cpuTime()-t0) / float64(time.Microsecond)
}

// peakRSS is the process's peak resident set size in KiB (VmHWM).
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// printReport reads JSON results and prints, per N, the medians of the
// sender and the ceiling. The CPU ratio is the ceiling's CPU time per
// message (client and sink) over the sender's: the throughput ratio on a
// machine doing nothing else, where both are CPU-bound.
func printReport(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	type key struct {
		mode string
		n    int
	}
	runs := map[key][]result{}
	var ns []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		k := key{r.Mode, r.N}
		runs[k] = append(runs[k], r)
		if !slices.Contains(ns, r.N) {
			ns = append(ns, r.N)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	slices.Sort(ns)
	median := func(rs []result, f func(result) float64) float64 {
		if len(rs) == 0 {
			return 0
		}
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rate := func(r result) float64 { return r.PerSec }
	rss := func(r result) float64 { return float64(r.PeakRSS) / 1024 }
	cpu := func(r result) float64 { return r.CPUus }
	total := func(r result) float64 { return r.CPUus + r.SinkCPU }
	fmt.Printf("| N | sender msgs/s | ceiling msgs/s | ratio | sender CPU/msg | ceiling CPU/msg | sink CPU/msg | CPU ratio | sender peak RSS | ceiling peak RSS | runs |\n")
	fmt.Printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range ns {
		s, c := runs[key{"sender", n}], runs[key{"ceiling", n}]
		sr, cr := median(s, rate), median(c, rate)
		ratio := 0.0
		if cr > 0 {
			ratio = sr / cr
		}
		cpuRatio := 0.0
		if st := median(s, total); st > 0 {
			cpuRatio = median(c, total) / st
		}
		fmt.Printf("| %d | %.0f | %.0f | %.2f | %.0f µs | %.0f µs | %.0f µs | %.2f | %.0f MiB | %.0f MiB | %d |\n",
			n, sr, cr, ratio, median(s, cpu), median(c, cpu), median(s, func(r result) float64 { return r.SinkCPU }),
			cpuRatio, median(s, rss), median(c, rss), len(s))
	}
	return nil
}
