package server

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/token"
)

// addActive adds an active subscriber directly, as an import would.
func (e *pageEnv) addActive(email, lang string, topics ...string) store.Subscriber {
	e.t.Helper()
	sub, err := e.st.Add(context.Background(), store.NewSubscriber{Email: email, Lang: lang, Topics: topics}, e.clock.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// tokenFor signs a page link for sub.
func (e *pageEnv) tokenFor(p token.Purpose, id int64, expiry time.Time) string {
	return e.signer.SignID(p, id, expiry)
}

// finishedDigest creates a digest of items and finishes it, its pending
// deliveries skipped (the page tests do not send).
func (e *pageEnv) finishedDigest(items ...store.DigestItem) store.Digest {
	e.t.Helper()
	ctx := context.Background()
	d, err := e.st.CreateDigest(ctx, "sujet", items, e.clock.now())
	if err != nil {
		e.t.Fatal(err)
	}
	pending, err := e.st.PendingDeliveries(ctx, d.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, rcpt := range pending {
		if err := e.st.MarkSkipped(ctx, d.ID, rcpt.ID, "test", e.clock.now()); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.st.Finish(ctx, d.ID, e.clock.now()); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func testItem(id string, tags ...string) store.DigestItem {
	return store.DigestItem{
		PublicationID: id, Title: "Publication " + id + " <b>", URL: "http://localhost:8080/" + id + "/",
		Description: "Ce que dit " + id + ".", Date: time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC),
		Tags: tags, Thumbnail: "http://localhost:8080/img/" + id + ".png",
	}
}

// TestPagesInBothLanguages opens every page in French and in English.
func TestPagesInBothLanguages(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	d := e.finishedDigest(testItem("a", "reemploi"), testItem("b"))
	type want struct{ fr, en string }
	for _, lang := range []string{"fr", "en"} {
		pick := func(w want) string {
			if lang == "en" {
				return w.en
			}
			return w.fr
		}
		q := "lang=" + lang
		sub := e.addActive(lang+"-pages@example.org", lang)
		conf := e.tokenFor(token.Confirm, sub.ID, e.clock.now().Add(time.Hour))
		unsub := e.tokenFor(token.Unsubscribe, sub.ID, time.Time{})
		prefs := e.tokenFor(token.Preferences, sub.ID, time.Time{})
		pages := []struct {
			name   string
			res    func() response
			status int
			wants  []want
		}{
			{"subscribe form", func() response { return e.get("/subscribe?" + q) }, 200,
				[]want{{"S’abonner à la lettre d’information", "Subscribe to the newsletter"},
					{"Adresse électronique", "Email address"}, {"Thèmes (facultatif)", "Topics (optional)"},
					{`<legend>Langue des courriels</legend>`, `<legend>Language of the emails</legend>`},
					{`value="reemploi"`, `value="reemploi"`}, {`hreflang="en"`, `hreflang="fr"`}}},
			{"subscribed", func() response {
				return e.post("/subscribe?"+q, url.Values{"email": {lang + "-new@example.org"}, "language": {lang}})
			}, 200, []want{{"Vérifiez votre messagerie", "Check your inbox"}, {lang + "-new@example.org", lang + "-new@example.org"}}},
			{"confirm", func() response { return e.get("/confirm?token=" + conf + "&" + q) }, 200,
				[]want{{"Confirmer votre abonnement", "Confirm your subscription"}, {"Confirmer mon abonnement", "Confirm my subscription"},
					{`method="post"`, `method="post"`}, {`name="csrf"`, `name="csrf"`}}},
			{"confirmed", func() response { return e.post("/confirm?token="+conf+"&"+q, url.Values{}) }, 200,
				[]want{{"Abonnement confirmé", "Subscription confirmed"}, {"Choisir mes thèmes et ma langue", "Choose my topics and language"}}},
			{"unsubscribe", func() response { return e.get("/unsubscribe?token=" + unsub + "&" + q) }, 200,
				[]want{{"Me désabonner", "Unsubscribe me"}, {`method="post"`, `method="post"`}}},
			{"preferences", func() response { return e.get("/preferences?token=" + prefs + "&" + q) }, 200,
				[]want{{"Mes préférences", "My preferences"}, {"Ne plus recevoir la lettre", "Stop receiving the newsletter"}, {"Enregistrer", "Save"}}},
			{"unsubscribed", func() response { return e.request("POST", "/unsubscribe?token="+unsub+"&"+q, nil) }, 200,
				[]want{{"Désabonnement effectué", "You are unsubscribed"}, {"Vous abonner de nouveau", "Subscribe again"}}},
			{"archive", func() response { return e.get("/digests/?" + q) }, 200,
				[]want{{"Archives de la lettre d’information", "Newsletter archive"}, {"Lettre du 27 novembre 2026", "Newsletter of November 27, 2026"},
					{"2 publications", "2 publications"}, {`type="application/atom+xml"`, `type="application/atom+xml"`}}},
			{"digest", func() response { return e.get("/digests/" + strconv.FormatInt(d.ID, 10) + "?" + q) }, 200,
				[]want{{"<h1>Lettre du 27 novembre 2026</h1>", "<h1>Newsletter of November 27, 2026</h1>"},
					{"21 novembre 2026", "November 21, 2026"}, {"Publication a &lt;b&gt;", "Publication a &lt;b&gt;"}}},
			{"bad link", func() response { return e.get("/confirm?token=nope&" + q) }, 400,
				[]want{{"Lien invalide ou expiré", "Invalid or expired link"}}},
			{"not found", func() response { return e.get("/digests/999?" + q) }, 404,
				[]want{{"Page introuvable", "Page not found"}}},
			{"form expired", func() response {
				return e.request("POST", "/subscribe?"+q, url.Values{"email": {"x@example.org"}})
			}, 400, []want{{"Formulaire expiré", "Form expired"}}},
		}
		for _, pg := range pages {
			t.Run(lang+"/"+pg.name, func(t *testing.T) {
				var wants []string
				for _, w := range pg.wants {
					wants = append(wants, pick(w))
				}
				checkPage(t, pg.res(), pg.status, lang, wants...)
			})
		}
	}
}

func TestLanguageNegotiation(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, func(o *Options) { o.Lang = "en" })
	for _, tc := range []struct{ target, accept, want string }{
		{"/subscribe", "", "en"}, // the site's
		{"/subscribe", "fr-FR,fr;q=0.9,en;q=0.8", "fr"},
		{"/subscribe", "de-DE, en-GB;q=0.7, fr;q=0.5", "en"},
		{"/subscribe", "de, fr;q=0.3", "fr"},
		{"/subscribe", "de", "en"},
		{"/subscribe", "fr;q=0, en;q=0", "en"},
		{"/subscribe", "fr;q=bogus", "en"},
		{"/subscribe?lang=fr", "en", "fr"},
		{"/subscribe?lang=de", "fr", "fr"},
		{"/digests/?lang=fr", "", "fr"},
	} {
		res := e.get(tc.target, "Accept-Language", tc.accept)
		if !strings.Contains(res.body, `<html lang="`+tc.want+`"`) {
			t.Errorf("%s with Accept-Language %q: want %s", tc.target, tc.accept, tc.want)
		}
		if !strings.Contains(res.header.Get("Vary"), "Accept-Language") {
			t.Errorf("%s: no Vary: Accept-Language", tc.target)
		}
	}
}

// TestSubscribeLifecycle: subscribe → the confirmation email → its link →
// active → preferences → a digest sent to them → the RFC 8058 one-click
// unsubscribe from that digest's header → the next digest skips them.
func TestSubscribeLifecycle(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	ctx := context.Background()
	res := e.subscribe("  Jeanne.Martin@Example.ORG ", "en", "podcast", "reemploi")
	checkPage(t, res, 200, "fr", "Jeanne.Martin@Example.ORG")
	sub := e.subscriber("Jeanne.Martin@example.org")
	if sub.Status != store.StatusPending || sub.Lang != "en" || !slices.Equal(sub.Topics, []string{"podcast", "reemploi"}) {
		t.Fatalf("after the form: %+v", sub)
	}
	msgs := e.smtp.WaitFor(1, 5*time.Second)
	if got := mailSubject(t, msgs[0]); got != "Confirm your subscription to Exemple" {
		t.Errorf("subject %q", got)
	}
	if len(msgs[0].To) != 1 || msgs[0].To[0] != "Jeanne.Martin@example.org" {
		t.Errorf("sent to %v", msgs[0].To)
	}
	text := mailText(t, msgs[0])
	link := linkIn(t, text, testPublicURL+"confirm?token=")
	if !strings.Contains(text, "valid until December 4, 2026") {
		t.Errorf("the email does not say until when the link works:\n%s", text)
	}

	res = e.get(pathOf(t, link), "Accept-Language", "en")
	checkPage(t, res, 200, "en", "Confirm my subscription", "Jeanne.Martin@example.org")
	if got := e.subscriber("Jeanne.Martin@example.org"); got.Status != store.StatusPending {
		t.Fatalf("opening the link confirmed by itself: %+v", got)
	}
	res = e.post(pathOf(t, link), url.Values{}, "Accept-Language", "en")
	checkPage(t, res, 200, "en", "Your subscription is confirmed.", "Jeanne.Martin@example.org")
	if got := e.subscriber("Jeanne.Martin@example.org"); got.Status != store.StatusActive || got.ConfirmedAt.IsZero() {
		t.Fatalf("after the button: %+v", got)
	}
	again := e.post(pathOf(t, link), url.Values{}, "Accept-Language", "en")
	if again.status != 200 || !strings.Contains(again.body, "Your subscription is confirmed.") || e.subscriber("Jeanne.Martin@example.org").Status != store.StatusActive {
		t.Fatal("confirming twice must answer the same")
	}

	// The page's preferences link works and changes the topics.
	prefs := pathOf(t, testPublicURL+strings.TrimPrefix(hrefAfter(t, res.body, "/preferences?"), "/"))
	res = e.post(prefs, url.Values{"topics": {"video"}, "language": {"fr"}})
	checkPage(t, res, 200, "en", "Your preferences are saved.")
	if got := e.subscriber("Jeanne.Martin@example.org"); got.Lang != "fr" || !slices.Equal(got.Topics, []string{"video"}) {
		t.Fatalf("after the preferences: lang %q topics %v", got.Lang, got.Topics)
	}

	// A digest with a video goes to them, in French.
	sender := &digest.Sender{Store: e.st, Mailer: e.srv.opts.Mailer, Renderer: e.renderer, Now: e.clock.now}
	d1, err := e.st.CreateDigest(ctx, "n°1", []store.DigestItem{testItem("v1", "video")}, e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sender.Send(ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	msgs = e.smtp.WaitFor(2, 5*time.Second)
	digestMail := msgs[1]
	if !strings.Contains(mailSubject(t, digestMail), "nouvelle publication") {
		t.Errorf("digest subject %q", mailSubject(t, digestMail))
	}
	// Its "view in the browser" link is the archive page.
	archive := linkIn(t, mailText(t, digestMail), testPublicURL+"digests/")
	checkPage(t, e.get(pathOf(t, archive)), 200, "fr", "Publication v1")

	// One click from the mail client, exactly as RFC 8058 says.
	lu := digestMail.Header.Get("List-Unsubscribe")
	if digestMail.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatal("the digest lacks List-Unsubscribe-Post")
	}
	oneClick := strings.TrimSuffix(strings.TrimPrefix(strings.Split(lu, ",")[0], "<"), ">")
	res = oneClickPOST(t, e.h, pathOf(t, oneClick))
	if res.status != 200 {
		t.Fatalf("one-click POST: %d", res.status)
	}
	if got := e.subscriber("Jeanne.Martin@example.org"); got.Status != store.StatusUnsubscribed {
		t.Fatalf("after one click: %s", got.Status)
	}

	d2, err := e.st.CreateDigest(ctx, "n°2", []store.DigestItem{testItem("v2", "video")}, e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	r2, err := sender.Send(ctx, d2.ID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := e.smtp.Count(); n != 2 || r2.Sent != 0 {
		t.Fatalf("the next digest reached them: %d messages, result %+v", n, r2)
	}
}

// hrefAfter returns the first href in body that starts with prefix.
func hrefAfter(t *testing.T, body, prefix string) string {
	t.Helper()
	i := strings.Index(body, `href="`+prefix)
	if i < 0 {
		t.Fatalf("no link to %s", prefix)
	}
	rest := body[i+len(`href="`):]
	return strings.ReplaceAll(rest[:strings.IndexByte(rest, '"')], "&amp;", "&")
}

// oneClickPOST sends the request RFC 8058 §3.2 describes.
func oneClickPOST(t *testing.T, h http.Handler, target string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// TestSubscribeSameAnswer: the answer does not tell a known address from
// an unknown one; the owner of an active address gets a note instead of a
// confirmation, and an unsubscribed address stays so until confirmed.
func TestSubscribeSameAnswer(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	ctx := context.Background()
	first := e.subscribe("someone@example.org", "fr")
	e.clock.add(formMailCooldown) // a new link, not held back
	second := e.subscribe("someone@example.org", "fr")
	if first.status != 200 || first.status != second.status || first.body != second.body {
		t.Fatalf("unknown then known (pending) address: %d vs %d, bodies equal %v", first.status, second.status, first.body == second.body)
	}
	for _, res := range []response{first, second} {
		for _, c := range res.cookies {
			t.Errorf("the answer sets a cookie %s", c.Name)
		}
	}

	active := e.addActive("active@example.org", "fr", "podcast")
	unsub := e.addActive("gone@example.org", "en")
	if err := e.st.SetStatus(ctx, unsub.ID, store.StatusUnsubscribed, e.clock.now()); err != nil {
		t.Fatal(err)
	}
	fresh := e.subscribe("fresh@example.org", "fr")
	for _, addr := range []string{"active@example.org", "gone@example.org"} {
		res := e.subscribe(addr, "fr", "video")
		if res.status != fresh.status || strings.ReplaceAll(res.body, addr, "X") != strings.ReplaceAll(fresh.body, "fresh@example.org", "X") {
			t.Errorf("%s: the answer differs from a new address's", addr)
		}
	}
	msgs := e.smtp.WaitFor(5, 5*time.Second)
	byTo := map[string][]string{}
	for _, m := range msgs {
		byTo[m.To[0]] = append(byTo[m.To[0]], mailText(t, m))
	}
	if len(byTo["someone@example.org"]) != 2 {
		t.Errorf("a pending address asking again gets a new link: %d emails", len(byTo["someone@example.org"]))
	}
	note := byTo["active@example.org"]
	if len(note) != 1 || strings.Contains(note[0], "confirm?token=") || !strings.Contains(note[0], "preferences?token=") {
		t.Errorf("the active address should get a note with its preferences link, got %q", note)
	}
	if got := e.subscriber("active@example.org"); got.Status != store.StatusActive || !slices.Equal(got.Topics, active.Topics) {
		t.Errorf("someone else's form changed an active subscriber: %+v", got)
	}

	gone := e.subscriber("gone@example.org")
	if gone.Status != store.StatusUnsubscribed {
		t.Fatalf("an unsubscribed address became %s without confirming", gone.Status)
	}
	if !slices.Equal(gone.Topics, []string{"video"}) || gone.Lang != "fr" {
		t.Errorf("the new request's choices should wait for the confirmation: %+v", gone)
	}
	link := linkIn(t, byTo["gone@example.org"][0], testPublicURL+"confirm?token=")
	if res := e.post(pathOf(t, link), url.Values{}); res.status != 200 {
		t.Fatalf("confirm: %d", res.status)
	}
	if got := e.subscriber("gone@example.org"); got.Status != store.StatusActive {
		t.Fatalf("after confirming: %s", got.Status)
	}
}

// TestSubscribeMailCooldown: the form sends one email per address and
// hour, whatever the address's state and however many requests; the page
// answers the same, and the newest choices are kept for the link sent.
func TestSubscribeMailCooldown(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	e.addActive("active@example.org", "fr", "podcast")
	first := e.subscribe("victim@example.org", "fr")
	for range 5 {
		e.clock.add(time.Minute)
		if res := e.subscribe("victim@example.org", "fr", "video"); res.status != first.status || res.body != first.body {
			t.Fatalf("a held-back request is answered differently: %d", res.status)
		}
		e.subscribe("active@example.org", "fr")
	}
	e.clock.add(formMailCooldown)
	e.subscribe("victim@example.org", "en")
	// The form sends before it answers: every email is in by now.
	msgs := e.smtp.Messages()
	byTo := map[string]int{}
	for _, m := range msgs {
		byTo[m.To[0]]++
	}
	if byTo["victim@example.org"] != 2 || byTo["active@example.org"] != 1 {
		t.Errorf("emails per address %v: want 2 for the pending one (one per hour), 1 for the active one", byTo)
	}
	if got := e.subscriber("victim@example.org"); got.Lang != "en" {
		t.Errorf("the newest request's choices are not kept: %+v", got)
	}
}

// TestConfirmNeedsThePost: opening a confirmation link, as mail scanners
// and link previews do, only shows a button; the subscription becomes
// active when that button's form is posted with its CSRF token.
func TestConfirmNeedsThePost(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	e.subscribe("scanne@example.org", "fr")
	link := pathOf(t, linkIn(t, mailText(t, e.smtp.WaitFor(1, 5*time.Second)[0]), testPublicURL+"confirm?token="))
	pending := func(when string) {
		t.Helper()
		if got := e.subscriber("scanne@example.org"); got.Status != store.StatusPending || !got.ConfirmedAt.IsZero() {
			t.Fatalf("%s: %s, want still pending", when, got.Status)
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		if res := e.request(method, link, nil); res.status != 200 {
			t.Fatalf("%s %s: %d", method, link, res.status)
		}
		pending(method + " of the link")
	}
	res := e.get(link)
	checkPage(t, res, 200, "fr", "Confirmer mon abonnement", "scanne@example.org", `method="post"`)
	if !strings.Contains(res.body, `action="/confirm?token=`) {
		t.Errorf("the form does not post to the signed URL:\n%s", res.body)
	}

	// Without the form's token, or with another form's, nothing happens.
	if res := e.request("POST", link, url.Values{}); res.status != 400 || !strings.Contains(res.body, "Formulaire expiré") {
		t.Errorf("POST without CSRF: %d", res.status)
	}
	pending("a POST without CSRF")
	csrf, cookie := e.formToken("/subscribe")
	if res := e.request("POST", link, url.Values{csrfField: {csrf}}, "Cookie", cookie.Name+"="+cookie.Value); res.status != 400 {
		t.Errorf("POST with the subscription form's CSRF: %d", res.status)
	}
	pending("a POST with another form's CSRF")

	res = e.post(link, url.Values{})
	checkPage(t, res, 200, "fr", "Votre abonnement est confirmé.")
	if got := e.subscriber("scanne@example.org"); got.Status != store.StatusActive {
		t.Fatalf("after the button: %s", got.Status)
	}
}

func TestHoneypot(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	bot := e.post("/subscribe", url.Values{"email": {"bot@example.org"}, "language": {"fr"}, honeypotField: {"http://spam.example"}})
	if _, err := e.st.GetByEmail(context.Background(), "bot@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the honeypot stored the address: %v", err)
	}
	human := e.subscribe("bot@example.org", "fr")
	if bot.status != 200 || bot.body != human.body {
		t.Errorf("the honeypot's answer differs from a real one (%d)", bot.status)
	}
	msgs := e.smtp.WaitFor(1, 5*time.Second)
	time.Sleep(50 * time.Millisecond)
	if len(e.smtp.Messages()) != 1 || msgs[0].To[0] != "bot@example.org" {
		t.Errorf("the honeypot sent an email: %d messages", e.smtp.Count())
	}
}

func TestSubscribeValidation(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	long := strings.Repeat("a", 250) + "@example.org"
	for _, tc := range []struct {
		name   string
		form   url.Values
		wants  []string
		absent string
	}{
		{"bad email", url.Values{"email": {"not an address"}}, []string{`aria-invalid="true"`, `aria-describedby="email-error"`, `id="email-error"`, "Saisissez une adresse électronique valide", `value="not an address"`}, ""},
		{"header injection", url.Values{"email": {"a@example.org\r\nBcc: b@example.org"}}, []string{`id="email-error"`}, ""},
		{"too long", url.Values{"email": {long}}, []string{"ne doit pas dépasser 254 caractères"}, ""},
		{"unknown topic", url.Values{"email": {"ok@example.org"}, "topics": {"reemploi", "../../etc"}}, []string{`aria-describedby="topics-error"`, "Choisissez vos thèmes parmi ceux de la liste."}, ""},
		{"bad language", url.Values{"email": {"ok@example.org"}, "language": {"de"}}, []string{`id="language-error"`, "Choisissez le français ou l’anglais."}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.post("/subscribe", tc.form)
			checkPage(t, res, 400, "fr", tc.wants...)
			if !strings.Contains(res.body, "Le formulaire contient des erreurs") {
				t.Error("no error summary")
			}
		})
	}
	n := 0
	for _, err := range e.st.ListByStatus(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 0 || e.smtp.Count() != 0 {
		t.Errorf("invalid forms stored %d subscribers, sent %d emails", n, e.smtp.Count())
	}
}

func TestSubscribeRateLimit(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, func(o *Options) { o.SubscribeRate = 3 })
	for i := range 3 {
		if res := e.subscribe("r"+strconv.Itoa(i)+"@example.org", "fr"); res.status != 200 {
			t.Fatalf("request %d: %d", i+1, res.status)
		}
	}
	res := e.subscribe("r3@example.org", "fr")
	checkPage(t, res, http.StatusTooManyRequests, "fr", "Trop de demandes")
	if ra, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
		t.Errorf("Retry-After %q", res.header.Get("Retry-After"))
	}
	if _, err := e.st.GetByEmail(context.Background(), "r3@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Error("the refused request stored its address")
	}
	// X-Forwarded-For is ignored without TrustProxy.
	if res := e.post("/subscribe", url.Values{"email": {"r4@example.org"}}, "X-Forwarded-For", "203.0.113.9"); res.status != 429 {
		t.Errorf("a forged X-Forwarded-For escaped the limit: %d", res.status)
	}
	e.clock.add(20 * time.Minute) // one token back
	if res := e.subscribe("r5@example.org", "fr"); res.status != 200 {
		t.Errorf("after 20 minutes: %d", res.status)
	}
	if res := e.subscribe("r6@example.org", "fr"); res.status != 429 {
		t.Errorf("the refilled token was spent: %d", res.status)
	}

	p := newPageEnv(t, testPublicURL, func(o *Options) { o.SubscribeRate = 1; o.TrustProxy = true })
	for _, xff := range []string{"198.51.100.1", "evil, 198.51.100.2", "198.51.100.3"} {
		if res := p.post("/subscribe", url.Values{"email": {"p@example.org"}}, "X-Forwarded-For", xff); res.status != 200 {
			t.Errorf("client %q: %d", xff, res.status)
		}
	}
	if res := p.post("/subscribe", url.Values{"email": {"p@example.org"}}, "X-Forwarded-For", "198.51.100.9, 198.51.100.2"); res.status != 429 {
		t.Errorf("the same last hop must share a bucket: %d", res.status)
	}
}

func TestRateLimiterBounded(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(2, 100)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		if ok, _ := l.allow("k"+strconv.Itoa(i), now); !ok {
			t.Fatal("a new key was refused")
		}
	}
	if n := l.size(); n > 100 {
		t.Fatalf("%d buckets kept, want at most 100", n)
	}
	l.allow("x", now)
	l.allow("x", now)
	ok, wait := l.allow("x", now)
	if ok || wait <= 0 || wait > 30*time.Minute {
		t.Fatalf("third request: ok %v wait %v", ok, wait)
	}
	if ok, _ := l.allow("x", now.Add(31*time.Minute)); !ok {
		t.Fatal("not refilled after 31 minutes")
	}
	later := now.Add(2 * time.Hour)
	l.allow("y", later) // sweeps: everything refilled
	if n := l.size(); n != 1 {
		t.Fatalf("%d buckets after everything refilled, want 1", n)
	}
	if ok, _ := newRateLimiter(-1, 10).allow("z", now); !ok {
		t.Fatal("a negative rate means no limit")
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		remote, xff string
		trust       bool
		want        string
	}{
		{"192.0.2.1:5555", "", false, "192.0.2.1"},
		{"192.0.2.1:5555", "203.0.113.7", false, "192.0.2.1"},
		{"192.0.2.1:5555", "203.0.113.7", true, "203.0.113.7"},
		{"192.0.2.1:5555", "1.2.3.4, 203.0.113.7", true, "203.0.113.7"},
		{"192.0.2.1:5555", "garbage", true, "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", false, "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.3]:1", "", false, "192.0.2.3"},
	} {
		r := httptest.NewRequest("POST", "/subscribe", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientKey(r, tc.trust); got != tc.want {
			t.Errorf("%s / %q / %v: %q, want %q", tc.remote, tc.xff, tc.trust, got, tc.want)
		}
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	other, err := token.NewSigner([]byte("another secret of 32 bytes......"))
	if err != nil {
		t.Fatal(err)
	}
	csrf, cookie := e.formToken("/subscribe")
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure || cookie.Path != "/" || cookie.MaxAge != 7200 {
		t.Errorf("cookie %+v", cookie)
	}
	nonce := cookie.Value
	cookieHeader := cookie.Name + "=" + cookie.Value
	form := func(tok string) url.Values {
		v := url.Values{"email": {"csrf@example.org"}, "language": {"fr"}}
		if tok != "" {
			v.Set(csrfField, tok)
		}
		return v
	}
	expired := e.signer.Sign(token.Form, nonce+"|subscribe", e.clock.now().Add(-time.Second))
	for _, tc := range []struct {
		name   string
		form   url.Values
		cookie string
	}{
		{"no token, no cookie", form(""), ""},
		{"no cookie", form(csrf), ""},
		{"no token", form(""), cookieHeader},
		{"forged", form(other.Sign(token.Form, nonce+"|subscribe", e.clock.now().Add(time.Hour))), cookieHeader},
		{"other nonce", form(csrf), csrfCookie + "=" + "AAAAAAAAAAAAAAAAAAAAAA"},
		{"other form", form(e.signer.Sign(token.Form, nonce+"|preferences:1", e.clock.now().Add(time.Hour))), cookieHeader},
		{"wrong purpose", form(e.signer.Sign(token.Unsubscribe, nonce+"|subscribe", time.Time{})), cookieHeader},
		{"expired", form(expired), cookieHeader},
		{"malformed", form("%%%"), cookieHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.cookie != "" {
				headers = []string{"Cookie", tc.cookie}
			}
			checkPage(t, e.request("POST", "/subscribe", tc.form, headers...), 400, "fr", "Formulaire expiré")
		})
	}
	if _, err := e.st.GetByEmail(context.Background(), "csrf@example.org"); !errors.Is(err, store.ErrNotFound) || e.smtp.Count() != 0 {
		t.Fatalf("a refused form changed something: %v, %d emails", err, e.smtp.Count())
	}
	// The genuine pair works, and still does an hour later; not after 2 h.
	if res := e.request("POST", "/subscribe", form(csrf), "Cookie", cookieHeader); res.status != 200 {
		t.Fatalf("the genuine form: %d", res.status)
	}
	e.clock.add(2*time.Hour + time.Second)
	if res := e.request("POST", "/subscribe", form(csrf), "Cookie", cookieHeader); res.status != 400 {
		t.Fatalf("a form older than 2 h: %d", res.status)
	}

	s := newPageEnv(t, "https://lettre.example.test/sous/", nil)
	if res := s.get("/subscribe"); len(res.cookies) != 1 || !res.cookies[0].Secure || res.cookies[0].Path != "/sous/" {
		t.Errorf("behind https: cookie %+v", res.cookies)
	} else if !strings.Contains(res.body, `action="/sous/subscribe?lang=fr"`) || !strings.Contains(res.body, `href="/sous/assets/bulletin.css?v=`) {
		t.Error("the pages' links ignore PublicURL's path")
	}
}

// TestBadTokens: every bad token on every signed page gets 400 and
// changes nothing.
func TestBadTokens(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	ctx := context.Background()
	sub, _, err := e.st.CreatePending(ctx, store.NewSubscriber{Email: "victim@example.org", Lang: "fr", Topics: []string{"podcast"}}, e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := token.NewSigner([]byte("another secret of 32 bytes......"))
	now := e.clock.now()
	bad := map[string]func(p token.Purpose) string{
		"forged":      func(p token.Purpose) string { return other.SignID(p, sub.ID, time.Time{}) },
		"expired":     func(p token.Purpose) string { return e.signer.SignID(p, sub.ID, now.Add(-time.Minute)) },
		"malformed":   func(token.Purpose) string { return "bm90LmEudG9rZW4" },
		"empty":       func(token.Purpose) string { return "" },
		"garbage":     func(token.Purpose) string { return "a.b.c%00<script>" },
		"too long":    func(token.Purpose) string { return strings.Repeat("A", 600) + ".x" },
		"unknown id":  func(p token.Purpose) string { return e.signer.SignID(p, 99999, time.Time{}) },
		"id not num":  func(p token.Purpose) string { return e.signer.Sign(p, "victim@example.org", time.Time{}) },
		"tampered id": func(p token.Purpose) string { return tamper(e.signer.SignID(p, sub.ID, time.Time{})) },
	}
	purposes := []token.Purpose{token.Confirm, token.Unsubscribe, token.Preferences, token.Form}
	routes := []struct {
		method, path string
		want         token.Purpose
	}{
		{"GET", "/confirm", token.Confirm},
		{"POST", "/confirm", token.Confirm},
		{"GET", "/unsubscribe", token.Unsubscribe},
		{"POST", "/unsubscribe", token.Unsubscribe},
		{"GET", "/preferences", token.Preferences},
		{"POST", "/preferences", token.Preferences},
	}
	before := e.subscriber("victim@example.org")
	for _, rt := range routes {
		cases := map[string]string{}
		for name, mk := range bad {
			if name == "unknown id" && rt.path == "/unsubscribe" {
				continue // leaving a list one is not on is fine: 200
			}
			if name == "unknown id" && rt.method == "POST" && rt.path == "/confirm" {
				continue // no form exists for it: the CSRF check refuses it (400) first
			}
			cases[name] = mk(rt.want)
		}
		for _, p := range purposes {
			if p != rt.want {
				cases["purpose "+string(p)] = e.signer.SignID(p, sub.ID, time.Time{})
			}
		}
		for name, tok := range cases {
			t.Run(rt.method+rt.path+"/"+name, func(t *testing.T) {
				target := rt.path + "?token=" + url.QueryEscape(tok)
				var res response
				if rt.method == "POST" && rt.path == "/confirm" {
					res = e.request("POST", target, url.Values{})
				} else if rt.method == "POST" && rt.path == "/preferences" {
					res = e.request("POST", target, url.Values{"topics": {"video"}, "language": {"en"}})
				} else if rt.method == "POST" {
					res = oneClickPOST(t, e.h, target)
				} else {
					res = e.get(target)
				}
				if res.status != 400 || !strings.Contains(res.body, "Lien invalide ou expiré") {
					t.Errorf("status %d, want 400 and the bad-link page", res.status)
				}
			})
		}
	}
	after := e.subscriber("victim@example.org")
	if after.Status != before.Status || after.Lang != before.Lang || !slices.Equal(after.Topics, before.Topics) || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("a bad token changed the subscriber:\n%+v\n%+v", before, after)
	}
	if res := e.get("/unsubscribe?token=" + e.signer.SignID(token.Unsubscribe, 99999, time.Time{})); res.status != 200 {
		t.Errorf("unsubscribing a removed subscriber: %d, want 200", res.status)
	}
}

// tamper makes the id inside a token's payload another, keeping its
// signature.
func tamper(tok string) string {
	enc := base64.RawURLEncoding
	payload, sig, _ := strings.Cut(tok, ".")
	b, _ := enc.DecodeString(payload)
	return enc.EncodeToString(append(b, '0')) + "." + sig // id 1 becomes 10
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	sub := e.addActive("leave@example.org", "en")
	tok := e.tokenFor(token.Unsubscribe, sub.ID, time.Time{})
	page := e.get("/unsubscribe?token=" + tok)
	checkPage(t, page, 200, "fr", "leave@example.org", `<form method="post" action="/unsubscribe?token=`+tok+`&amp;lang=fr">`)
	if e.subscriber("leave@example.org").Status != store.StatusActive {
		t.Fatal("opening the unsubscribe link (as a mail scanner does) unsubscribed")
	}
	// The page's button: a POST with an empty body.
	if res := e.request("POST", hrefTarget(t, page.body, `action="`), url.Values{}); res.status != 200 {
		t.Fatalf("button: %d", res.status)
	}
	if e.subscriber("leave@example.org").Status != store.StatusUnsubscribed {
		t.Fatal("the button did not unsubscribe")
	}
	if res := oneClickPOST(t, e.h, "/unsubscribe?token="+tok); res.status != 200 {
		t.Fatalf("unsubscribing twice: %d", res.status)
	}
	// Some mail clients send the one-click body as multipart/form-data.
	other := e.addActive("multipart@example.org", "fr")
	req := httptest.NewRequest(http.MethodPost, "/unsubscribe?token="+e.tokenFor(token.Unsubscribe, other.ID, time.Time{}),
		strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 200 || e.subscriber("multipart@example.org").Status != store.StatusUnsubscribed {
		t.Fatalf("multipart one-click: %d, %s", rec.Code, e.subscriber("multipart@example.org").Status)
	}
	// Only a confirmation brings them back: preferences do not.
	prefs := e.tokenFor(token.Preferences, sub.ID, time.Time{})
	res := e.post("/preferences?token="+prefs, url.Values{"language": {"fr"}})
	checkPage(t, res, 200, "fr", "Vous êtes désabonné(e)")
	if e.subscriber("leave@example.org").Status != store.StatusUnsubscribed {
		t.Fatal("saving preferences resubscribed")
	}
}

// hrefTarget returns the URL of the first attribute opened by prefix.
func hrefTarget(t *testing.T, body, prefix string) string {
	t.Helper()
	i := strings.Index(body, prefix)
	if i < 0 {
		t.Fatalf("no %s", prefix)
	}
	rest := body[i+len(prefix):]
	return strings.ReplaceAll(rest[:strings.IndexByte(rest, '"')], "&amp;", "&")
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	sub := e.addActive("prefs@example.org", "", "podcast", "ancien-theme")
	tok := e.tokenFor(token.Preferences, sub.ID, time.Time{})
	res := e.get("/preferences?token=" + tok + "&lang=en")
	checkPage(t, res, 200, "en", "prefs@example.org",
		`value="podcast" checked`, `value="ancien-theme" checked`, `value="video">`,
		`id="language-fr" name="language" value="fr" checked`, "/unsubscribe?token=")
	if strings.Contains(res.body, "not confirmed") {
		t.Error("an active subscriber is told they are not confirmed")
	}

	res = e.post("/preferences?token="+tok, url.Values{"topics": {"Vidéo", "reemploi"}, "language": {"en"}})
	checkPage(t, res, 200, "fr", "Vos préférences sont enregistrées.", `value="video" checked`, `value="reemploi" checked`, `value="en" checked`)
	got := e.subscriber("prefs@example.org")
	if got.Lang != "en" || !slices.Equal(got.Topics, []string{"reemploi", "video"}) {
		t.Fatalf("stored: lang %q topics %v", got.Lang, got.Topics)
	}
	if strings.Contains(res.body, "ancien-theme") {
		t.Error("a topic the site does not have and the subscriber dropped is still offered")
	}

	// Nothing checked: every topic.
	res = e.post("/preferences?token="+tok, url.Values{"language": {"en"}})
	if res.status != 200 || e.subscriber("prefs@example.org").Topics != nil {
		t.Fatalf("no topic checked: %d, topics %v", res.status, e.subscriber("prefs@example.org").Topics)
	}

	before := e.subscriber("prefs@example.org")
	res = e.post("/preferences?token="+tok, url.Values{"topics": {"inconnu"}, "language": {"fr"}})
	checkPage(t, res, 400, "fr", "Choisissez vos thèmes parmi ceux de la liste.")
	// Without the form's token: refused, nothing changed.
	res = e.request("POST", "/preferences?token="+tok, url.Values{"topics": {"video"}, "language": {"fr"}})
	checkPage(t, res, 400, "fr", "Formulaire expiré")
	// A token of another subscriber's form does not serve.
	mate := e.addActive("mate@example.org", "fr")
	mateCSRF, cookie := e.formToken("/preferences?token=" + e.tokenFor(token.Preferences, mate.ID, time.Time{}))
	res = e.request("POST", "/preferences?token="+tok, url.Values{"topics": {"video"}, csrfField: {mateCSRF}}, "Cookie", cookie.Name+"="+cookie.Value)
	if res.status != 400 {
		t.Errorf("another subscriber's form token: %d", res.status)
	}
	if after := e.subscriber("prefs@example.org"); !after.UpdatedAt.Equal(before.UpdatedAt) || after.Lang != before.Lang {
		t.Fatal("a refused form changed the preferences")
	}

	pending, _, err := e.st.CreatePending(context.Background(), store.NewSubscriber{Email: "wait@example.org"}, e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, e.get("/preferences?token="+e.tokenFor(token.Preferences, pending.ID, time.Time{})), 200, "fr",
		"Votre abonnement n’est pas encore confirmé")
}

func TestSubscribeFormTopics(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	res := e.get("/subscribe")
	checkPage(t, res, 200, "fr", `<fieldset id="topics">`, "<legend>Thèmes (facultatif)")
	for _, tag := range *e.srv.tags.Load() {
		if !strings.Contains(res.body, `name="topics" value="`+tag+`"`) {
			t.Errorf("tag %q is not offered", tag)
		}
	}
	if !strings.Contains(res.body, `<div class="hp" aria-hidden="true">`) || !strings.Contains(res.body, `name="website" value="" tabindex="-1"`) {
		t.Error("no hidden honeypot field")
	}
	if strings.Contains(res.body, "noindex") {
		t.Error("the subscription form should be indexable")
	}
}

func TestSiteTags(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, nil)
	tags := *e.srv.tags.Load()
	if !slices.Contains(tags, "podcast") || !slices.Contains(tags, "reemploi") || !slices.Contains(tags, "video") {
		t.Fatalf("site tags %v", tags)
	}
	if slices.Contains(tags, "posts") {
		t.Errorf("collection tags are not topics: %v", tags)
	}
	if !slices.IsSorted(tags) {
		t.Errorf("not sorted: %v", tags)
	}
}

// TestNoSubscribeWithoutMailer: without a mailer, no subscription form is
// offered, but the signed pages and the archive still work.
func TestNoSubscribeWithoutMailer(t *testing.T) {
	t.Parallel()
	e := newPageEnv(t, testPublicURL, func(o *Options) { o.Mailer = nil })
	if res := e.get("/subscribe"); res.status != 404 {
		t.Errorf("GET /subscribe: %d, want 404", res.status)
	}
	if res := e.get("/digests/"); res.status != 200 || strings.Contains(res.body, "/subscribe") {
		t.Errorf("archive: %d, links to the form: %v", res.status, strings.Contains(res.body, "/subscribe"))
	}
	sub := e.addActive("x@example.org", "fr")
	if res := e.get("/preferences?token=" + e.tokenFor(token.Preferences, sub.ID, time.Time{})); res.status != 200 {
		t.Errorf("preferences: %d", res.status)
	}
}
