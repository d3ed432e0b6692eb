package server

import (
	"context"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/ecoresponsable/bulletin/store"
)

// chromiumPath finds Debian's chromium, or "" when it is not installed.
func chromiumPath() string {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserSubscribe drives a real Chromium: open the form, fill and
// submit it, follow the link of the email the SMTP server caught, and save
// screenshots at 375 and 1280 px wide under testdata/out/.
func TestBrowserSubscribe(t *testing.T) {
	t.Parallel()
	ctx, violations := newBrowser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + ln.Addr().String() + "/"
	e := newPageEnv(t, publicURL, nil)
	ts := httptest.NewUnstartedServer(e.h)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	e.finishedDigest(testItem("a", "reemploi", "podcast"), testItem("b"))

	out := filepath.Join("testdata", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	frenchBrowser := func(c context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(c, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) bulletin-test", AcceptLanguage: "fr-FR,fr;q=0.9",
		})
		return chromedp.Void{}, err
	}
	shoot := func(name string, width int64) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	if err := chromedp.Do(ctx,
		frenchBrowser,
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(ts.URL+"/subscribe"),
		chromedp.WaitVisible(chromedp.ID("email")),
	); err != nil {
		t.Fatal(err)
	}
	if h1 := text("h1"); h1 != "S’abonner à la lettre d’information" {
		t.Fatalf("the form's title is %q (Accept-Language fr)", h1)
	}
	shoot("subscribe-375.png", 375)
	shoot("subscribe-1280.png", 1280)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(375, 800),
		chromedp.SendKeys(chromedp.ID("email"), "navigateur@example.org"),
		chromedp.Click(chromedp.ID("topic-podcast")),
		chromedp.Click(chromedp.ID("language-en")),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice-success")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("main"); !strings.Contains(got, "Un courriel vient d’être envoyé à l’adresse navigateur@example.org.") {
		t.Fatalf("after submitting: %q", got)
	}
	shoot("subscribed-375.png", 375)

	msgs := e.smtp.WaitFor(1, 10*time.Second)
	if got := mailSubject(t, msgs[0]); got != "Confirm your subscription to Exemple" {
		t.Errorf("confirmation subject %q (the language chosen in the form)", got)
	}
	link := linkIn(t, mailText(t, msgs[0]), publicURL+"confirm?token=")
	// Opening the link shows a button and changes nothing (mail scanners
	// open links); the button confirms.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`main form button[type="submit"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if h1 := text("h1"); h1 != "Confirmer votre abonnement" {
		t.Errorf("confirm page title %q", h1)
	}
	shoot("confirm-375.png", 375)
	if sub := e.subscriber("navigateur@example.org"); sub.Status != store.StatusPending {
		t.Fatalf("opening the link made the subscriber %s", sub.Status)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice-success")),
	); err != nil {
		t.Fatal(err)
	}
	if h1 := text("h1"); h1 != "Abonnement confirmé" {
		t.Errorf("confirmation page title %q", h1)
	}
	if got := text("main"); !strings.Contains(got, "Votre abonnement est confirmé.") ||
		!strings.Contains(got, "Vous recevrez la lettre d’information de Exemple à l’adresse navigateur@example.org.") {
		t.Errorf("confirmation page says %q", got)
	}
	shoot("confirmed-375.png", 375)
	shoot("confirmed-1280.png", 1280)
	sub := e.subscriber("navigateur@example.org")
	if sub.Status != store.StatusActive || sub.Lang != "en" || len(sub.Topics) != 1 || sub.Topics[0] != "podcast" {
		t.Fatalf("stored %+v", sub)
	}

	// The preferences page from the confirmation, and an archive page.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(375, 800),
		chromedp.Click(chromedp.CSS(`main a[href*="preferences"]`)),
		chromedp.WaitVisible(chromedp.ID("topic-podcast")),
	); err != nil {
		t.Fatal(err)
	}
	shoot("preferences-375.png", 375)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/digests/1"),
		chromedp.WaitVisible(chromedp.CSS("article.item")),
	); err != nil {
		t.Fatal(err)
	}
	shoot("digest-375.png", 375)

	if v := violations(); len(v) > 0 {
		t.Errorf("the browser reports Content-Security-Policy violations:\n%s", strings.Join(v, "\n"))
	}
}

// newBrowser starts a headless Chromium in a profile of its own, closed
// when the test ends, and returns its tab, given 45 seconds, and a function
// listing the Content-Security-Policy violations the browser has reported
// so far. It skips the test when Chromium is not installed or in -short
// mode.
func newBrowser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("chromium is not installed")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(cancel)

	var mu sync.Mutex
	var violations []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				violations = append(violations, m.Text)
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), violations...)
	}
}
