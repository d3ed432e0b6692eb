package mailer

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
)

// benchWorkers is the digest's default number of sending workers.
const benchWorkers = 4

// benchDigest is a digest-sized message: about 12 KB of HTML with inline
// styles and 4 KB of text, French with accents.
func benchDigest() *Message {
	var html, text strings.Builder
	html.WriteString(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Bulletin n°12</title></head>` +
		`<body style="margin:0;padding:0;background:#f4f4f0;font-family:Georgia,serif;color:#222">` + "\n")
	text.WriteString("Bulletin n°12 — les nouveautés de la semaine\n\n")
	for i := 0; html.Len() < 11_800; i++ {
		fmt.Fprintf(&html, `<table role="presentation" width="100%%" style="max-width:600px;margin:0 auto;border-collapse:collapse">`+
			`<tr><td style="padding:16px 24px"><h2 style="font-size:20px;margin:0 0 8px"><a href="https://bulletin.example.org/2025/03/article-%d/?utm_source=digest" style="color:#1a5c3a">Article %d : l'été des énergies sobres</a></h2>`+
			`<p style="font-size:15px;line-height:1.5;margin:0 0 8px">Résumé de l'article %d : comment réduire l'empreinte d'un site web, mesurer, alléger les pages et garder l'essentiel — sans rien sacrifier.</p>`+
			`<p style="font-size:13px;color:#666;margin:0">14 mars 2025 · 4 min de lecture</p></td></tr></table>`+"\n", i, i, i)
	}
	html.WriteString(`<p style="font-size:12px;color:#888;text-align:center"><a href="https://bulletin.example.org/unsubscribe?s=345&amp;t=0123456789abcdef">Se désabonner</a></p></body></html>` + "\n")
	for i := 0; text.Len() < 3_900; i++ {
		fmt.Fprintf(&text, "* Article %d : l'été des énergies sobres\n  Résumé : comment réduire l'empreinte d'un site web, mesurer et alléger.\n  https://bulletin.example.org/2025/03/article-%d/\n\n", i, i)
	}
	m := digestMessage()
	m.HTML, m.Text = html.String(), text.String()
	return m
}

// runWorkers calls send b.N times from benchWorkers goroutines and reports
// the throughput in msgs/s.
func runWorkers(b *testing.B, send func(worker, i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > b.N {
					return
				}
				if err := send(w, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkSMTPSend measures SMTP.Send end to end (render, pool, rate
// check, SMTP on loopback) with 4 workers and Concurrency 4.
func BenchmarkSMTPSend(b *testing.B) {
	srv := smtpserver.Start(b, smtpserver.Discard())
	s, err := NewSMTP(SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: TLSNone, HELO: "bench", Concurrency: benchWorkers})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	base := benchDigest()
	raw, _ := Render(base)
	b.SetBytes(int64(len(raw)))
	ctx := context.Background()
	// Open the connections outside the timing, as a long run amortises them.
	var wg sync.WaitGroup
	for range benchWorkers {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Send(ctx, base) }()
	}
	wg.Wait()

	runWorkers(b, func(_, i int) error {
		m := *base
		m.To = fmt.Sprintf("reader%d@example.net", i)
		m.MessageID = fmt.Sprintf("d12.s%d.abc@bulletin.example.org", i)
		return s.Send(ctx, &m)
	})
}

// BenchmarkBareGoMail is the ceiling: go-mail alone, one Client and one
// connection per worker, the message built once per worker.
func BenchmarkBareGoMail(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []gomail.Option
	}{
		{"defaults", nil}, // NOOP before and RSET after every message
		{"without-noop-rset", []gomail.Option{gomail.WithoutNoop(), gomail.WithoutRset()}},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := smtpserver.Start(b, smtpserver.Discard())
			base := benchDigest()
			clients := make([]*gomail.Client, benchWorkers)
			msgs := make([]*gomail.Msg, benchWorkers)
			for w := range benchWorkers {
				opts := append([]gomail.Option{gomail.WithPort(srv.Port()), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithHELO("bench")}, c.opts...)
				client, err := gomail.NewClient(srv.Host(), opts...)
				if err != nil {
					b.Fatal(err)
				}
				if err := client.DialWithContext(context.Background()); err != nil {
					b.Fatal(err)
				}
				defer client.Close()
				clients[w] = client

				msg := gomail.NewMsg()
				if err := msg.From(base.From); err != nil {
					b.Fatal(err)
				}
				if err := msg.To(fmt.Sprintf("reader%d@example.net", w)); err != nil {
					b.Fatal(err)
				}
				msg.Subject(base.Subject)
				msg.SetMessageIDWithValue(base.MessageID)
				msg.SetDateWithValue(base.Date)
				msg.SetBodyString(gomail.TypeTextPlain, base.Text)
				msg.AddAlternativeString(gomail.TypeTextHTML, base.HTML)
				msgs[w] = msg
			}
			raw, _ := Render(base)
			b.SetBytes(int64(len(raw)))
			runWorkers(b, func(w, _ int) error { return clients[w].Send(msgs[w]) })
		})
	}
}

// BenchmarkRender measures building and rendering one digest message.
func BenchmarkRender(b *testing.B) {
	m := benchDigest()
	raw, _ := Render(m)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Render(m); err != nil {
			b.Fatal(err)
		}
	}
}
