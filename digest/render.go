package digest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

// ErrNoItems is returned by Preview when no item of the digest meets the
// subscriber's topics (Message says so with ok=false instead).
var ErrNoItems = errors.New("digest: no publication of the digest matches the subscriber's topics")

// emailTemplate is the templates' name of the digest email (HTML and text).
const emailTemplate = "email/digest"

// maxDescription bounds an item's description, in characters, so that ten
// items stay within the 30 KB an email client shows without clipping.
const maxDescription = 500

// EmailData is what the email templates (email/digest.html.tmpl and
// email/digest.txt.tmpl) receive. Every URL in it is absolute, every text
// one line (no CR or LF).
type EmailData struct {
	Lang      string // "fr" or "en": the subscriber's language
	Subject   string
	Preheader string // the summary line mail clients show after the subject
	SiteTitle string
	SiteURL   string
	Count     int       // len(Items)
	Date      time.Time // the digest's creation, in Settings.Location
	Items     []EmailItem
	// Email and Topics are the subscriber's address and topics (as they
	// wrote them; empty = every topic), for the footer.
	Email  string
	Topics []string
	// The footer links, each with a token signed for its purpose.
	UnsubscribeURL, PreferencesURL, ArchiveURL string
}

// EmailItem is one publication as the email shows it.
type EmailItem struct {
	Title       string
	URL         string
	Description string    // at most maxDescription characters; may be empty
	Date        time.Time // in Settings.Location
	Tags        []string
	Thumbnail   string // absolute http(s) URL, or empty
	Type        string
	// Lang is the publication's language tag, for a lang attribute where
	// it differs from the email's (WCAG 3.1.2); may be empty.
	Lang string
}

// Renderer turns a frozen digest and one subscriber into a mailer.Message.
// It is safe for concurrent use; the per-digest work (cleaning items,
// slugging tags) is done once per digest and shared by every message.
type Renderer struct {
	tpl    *templates.Set
	signer *token.Signer
	s      Settings

	host   string // the site's host, for Message-IDs
	listID string // the List-Id header value
	mailto string // the List-Unsubscribe mailto address, or ""

	// placeholders stand for the per-subscriber values in shared
	// renderings: random letters and digits, which no escaper changes and
	// no content can guess.
	placeholders [slots]string

	mu   sync.Mutex
	last *prepared // the digest prepared last; the sender renders one digest at a time

	bufs sync.Pool // *bytes.Buffer
}

// prepared is a digest made ready for rendering once for all its messages.
type prepared struct {
	key     preparedKey
	stored  bool // a stored digest, frozen: its renderings may be shared
	created time.Time
	items   []EmailItem
	slugs   [][]string // the tag slugs of each item
	all     []int      // the index of every item

	mu     sync.Mutex
	shared map[string]*shared // by language, topics or not, and items
}

// preparedKey tells a stored digest's preparation apart from another's.
type preparedKey struct {
	id      int64
	created int64
	n       int
	first   *store.DigestItem
}

// NewRenderer returns a Renderer with the parsed templates, the token signer
// and the settings; settings left empty get their defaults (PublicURL =
// SiteURL, the default subjects, ListID "bulletin.<site host>", Location
// UTC, Lang "fr").
func NewRenderer(tpl *templates.Set, signer *token.Signer, s Settings) *Renderer {
	s.SiteTitle = oneLine(s.SiteTitle)
	s.SiteURL = withSlash(s.SiteURL)
	if s.PublicURL == "" {
		s.PublicURL = s.SiteURL
	}
	s.PublicURL = withSlash(s.PublicURL)
	if s.Location == nil {
		s.Location = time.UTC
	}
	s.Lang = templates.Lang(s.Lang)
	r := &Renderer{tpl: tpl, signer: signer, s: s, host: siteHost(s.SiteURL)}
	r.bufs.New = func() any { return new(bytes.Buffer) }
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	for k := range r.placeholders {
		r.placeholders[k] = "bulletin" + hex.EncodeToString(nonce) + "x" + strconv.Itoa(k) + "x"
	}

	listID := strings.Map(func(c rune) rune {
		if c <= ' ' || c > '~' || c == '<' || c == '>' {
			return -1
		}
		return c
	}, s.ListID)
	if listID == "" {
		listID = "bulletin." + r.host
	}
	r.listID = phrase(s.SiteTitle) + " <" + listID + ">"

	// Empty: no mailto (bulletin reads no mail; a request sent to an
	// address nobody reads would be lost). The one-click URL does it all.
	r.mailto = addressOf(s.UnsubscribeMailto)
	return r
}

// Message renders digest d for subscriber sub: only the items whose tags
// meet sub.Topics (compared by publication.Slug; no topics = every item).
// ok is false, with a nil message, when no item matches: the sender marks
// that delivery skipped. The same digest and subscriber always give the
// same message.
func (r *Renderer) Message(d store.Digest, sub store.Subscriber) (m *mailer.Message, ok bool, err error) {
	b, ok, err := r.render(d, sub)
	if err != nil {
		return nil, false, fmt.Errorf("digest: render digest %d for subscriber %d: %w", d.ID, sub.ID, err)
	}
	if !ok {
		return nil, false, nil
	}
	headers := [][2]string{
		{"List-Id", r.listID},
		{"List-Unsubscribe", r.listUnsubscribe(b.unsubscribeURL)},
		{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
	}
	return &mailer.Message{
		From:      r.s.From,
		ReplyTo:   r.s.ReplyTo,
		To:        recipient(sub),
		Subject:   b.subject,
		Date:      b.date,
		MessageID: messageID(r.host, d, sub.ID),
		Headers:   headers,
		Text:      b.text,
		HTML:      b.html,
	}, true, nil
}

// Preview renders the HTML and text parts and the subject that Message
// would give sub for d, for `digest preview`: d need not be stored (its
// CreatedAt is the date shown) nor sub exist. ErrNoItems when no item
// meets sub's topics.
func (r *Renderer) Preview(d store.Digest, sub store.Subscriber) (html, text string, subject string, err error) {
	b, ok, err := r.render(d, sub)
	if err != nil {
		return "", "", "", fmt.Errorf("digest: preview: %w", err)
	}
	if !ok {
		return "", "", "", ErrNoItems
	}
	return b.html, b.text, b.subject, nil
}

// Validate renders a sample digest in both languages, so that a template
// override that parses but fails on real data (a misspelt field, say) is
// reported before a send starts rather than at every message.
func (r *Renderer) Validate() error {
	at := time.Date(2022, 6, 2, 9, 0, 0, 0, r.s.Location)
	d := store.Digest{ID: 1, CreatedAt: at, Items: []store.DigestItem{
		{PublicationID: "a", Title: "A", URL: r.s.SiteURL + "a/", Description: "A.", Date: at,
			Tags: []string{"a"}, Thumbnail: r.s.SiteURL + "a.png", Type: "video"},
		{PublicationID: "b", Title: "B", URL: r.s.SiteURL + "b/", Date: at},
	}}
	for _, lang := range []string{"fr", "en"} {
		for _, topics := range [][]string{nil, {"a"}} {
			sub := store.Subscriber{ID: 1, Email: "test@example.org", Name: "Test", Lang: lang, Topics: topics}
			if _, _, err := r.Message(d, sub); err != nil {
				return fmt.Errorf("digest: templates do not render: %w", err)
			}
		}
	}
	return nil
}

// Subject is the subject of a digest of n items created at created, in lang:
// Settings.SubjectFR or SubjectEN (or the default) with {site}, {n} and
// {date} filled in, and the phrase "{n} nouvelles publications" (or "{n}
// new publications", "{n} publications") made singular when n asks.
func (r *Renderer) Subject(lang string, n int, created time.Time) string {
	lang = templates.Lang(lang)
	tmpl := r.s.SubjectFR
	if lang == "en" {
		tmpl = r.s.SubjectEN
	}
	if strings.TrimSpace(tmpl) == "" {
		tmpl = templates.T(lang, "email.subject")
	}
	if templates.One(lang, n) {
		for _, key := range []string{"email.items", "email.short"} {
			tmpl = strings.ReplaceAll(tmpl, templates.T(lang, key+".other"), templates.T(lang, key+".one"))
		}
	}
	return oneLine(strings.NewReplacer(
		"{site}", r.s.SiteTitle,
		"{n}", strconv.Itoa(n),
		"{date}", templates.Date(lang, created.In(r.s.Location)),
	).Replace(tmpl))
}

// MessageID is the Message-ID (without angle brackets) of digest d to
// subscriber subscriberID: "bulletin.d<digest>.<created>.s<sub>@<site
// host>", <created> being the digest's creation time (Unix seconds in base
// 36). It depends on nothing else, so a resend after a crash carries the
// same; the creation time keeps two installations on one domain (or a new
// database) from reusing an id, which mail clients would hide (RFC 5322
// §3.6.4 wants them unique).
func MessageID(siteURL string, d store.Digest, subscriberID int64) string {
	return messageID(siteHost(siteURL), d, subscriberID)
}

func messageID(host string, d store.Digest, subscriberID int64) string {
	created := ""
	if !d.CreatedAt.IsZero() {
		created = "." + strconv.FormatInt(d.CreatedAt.Unix(), 36)
	}
	return "bulletin.d" + strconv.FormatInt(d.ID, 10) + created + ".s" + strconv.FormatInt(subscriberID, 10) + "@" + host
}

// UnsubscribeURL is the link that unsubscribes sub in one click (also the
// List-Unsubscribe URL): PublicURL + "unsubscribe?token=…".
func (r *Renderer) UnsubscribeURL(sub store.Subscriber) string {
	return r.s.PublicURL + "unsubscribe?token=" + r.signer.SignID(token.Unsubscribe, sub.ID, time.Time{})
}

// PreferencesURL is the link to sub's preferences page: PublicURL +
// "preferences?token=…".
func (r *Renderer) PreferencesURL(sub store.Subscriber) string {
	return r.s.PublicURL + "preferences?token=" + r.signer.SignID(token.Preferences, sub.ID, time.Time{})
}

// ArchiveURL is the web page of digest digestID: PublicURL + "digests/<id>".
func (r *Renderer) ArchiveURL(digestID int64) string {
	if digestID <= 0 {
		// A digest not created yet (a test copy, a preview): the archive.
		return r.s.PublicURL + "digests/"
	}
	return r.s.PublicURL + "digests/" + strconv.FormatInt(digestID, 10)
}

// body is a rendered email before its headers.
type body struct {
	html, text, subject string
	date                time.Time
	unsubscribeURL      string
}

// values are what differs between two subscribers who get the same items
// in the same language.
type values struct {
	email, unsubscribeToken, preferencesToken string
	topics                                    []string
}

// The slots of the per-subscriber values in a shared rendering.
const (
	slotEmail = iota
	slotTopics
	slotUnsubscribe
	slotPreferences
	slots
)

// topicSep joins the topics in the footer, as the templates do.
const topicSep = ", "

// render renders d for sub. Subscribers who get the same items in the same
// language get the same email but for their address, topics and tokens, so
// the templates run once per such group, with placeholders, and each
// message only fills them in (see shared). The result is byte for byte what
// running the templates for the subscriber gives (direct).
func (r *Renderer) render(d store.Digest, sub store.Subscriber) (body, bool, error) {
	j, ok := r.job(d, sub)
	if !ok {
		return body{}, false, nil
	}
	var sh *shared
	if j.p.stored && j.v.email != "" { // the shared rendering assumes an address
		var err error
		if sh, err = r.shared(j); err != nil {
			return body{}, false, err
		}
	}
	if sh == nil || sh.direct {
		b, err := r.direct(j)
		return b, err == nil, err
	}
	return body{
		html:           sh.html.fill(j.v, true),
		text:           sh.text.fill(j.v, false),
		subject:        sh.subject,
		date:           j.p.created,
		unsubscribeURL: r.s.PublicURL + "unsubscribe?token=" + j.v.unsubscribeToken,
	}, true, nil
}

// job is one email to render: the items idx of the prepared digest p, in
// lang, with the subscriber's values v.
type job struct {
	digestID int64
	p        *prepared
	idx      []int
	lang     string
	v        values
}

// job gathers what rendering d for sub needs; ok is false when no item
// meets sub's topics.
func (r *Renderer) job(d store.Digest, sub store.Subscriber) (job, bool) {
	p := r.prepare(d)
	j := job{digestID: d.ID, p: p, idx: p.match(sub.Topics), lang: r.s.Lang}
	if len(j.idx) == 0 {
		return job{}, false
	}
	if strings.TrimSpace(sub.Lang) != "" {
		j.lang = templates.Lang(sub.Lang)
	}
	j.v = values{
		email:            oneLine(sub.Email),
		unsubscribeToken: r.signer.SignID(token.Unsubscribe, sub.ID, time.Time{}),
		preferencesToken: r.signer.SignID(token.Preferences, sub.ID, time.Time{}),
	}
	for _, t := range sub.Topics {
		if t = oneLine(t); t != "" {
			j.v.topics = append(j.v.topics, oneLine(r.s.Labels.Of(t)))
		}
	}
	return j, true
}

// direct runs the templates for j.
func (r *Renderer) direct(j job) (body, error) {
	data := r.emailData(j.digestID, j.p, j.lang, j.idx, j.v)
	html, text, err := r.bodies(data)
	if err != nil {
		return body{}, err
	}
	return body{html: html, text: text, subject: data.Subject, date: j.p.created, unsubscribeURL: data.UnsubscribeURL}, nil
}

// shared is the rendering of a digest's items for one language, with
// placeholders where the per-subscriber values go.
type shared struct {
	html, text split
	subject    string
	// direct says the templates use a per-subscriber value in a way filling
	// in cannot reproduce (escaped for a URL, repeated per topic, ...):
	// each message of this group then runs the templates itself.
	direct bool
}

// maxShared bounds the groups kept per digest; a digest whose subscribers
// form more groups renders the others directly.
const maxShared = 4096

// shared returns the shared rendering of j's group (its items, language,
// and whether it has topics), making it on first use.
func (r *Renderer) shared(j job) (*shared, error) {
	p, hasTopics := j.p, len(j.v.topics) > 0
	key := make([]byte, 0, 8+4*len(j.idx))
	key = append(key, j.lang...)
	if hasTopics {
		key = append(key, '+')
	}
	for _, i := range j.idx {
		key = append(key, ',')
		key = strconv.AppendInt(key, int64(i), 10)
	}
	p.mu.Lock()
	sh, ok := p.shared[string(key)]
	full := len(p.shared) >= maxShared
	p.mu.Unlock()
	if ok {
		return sh, nil
	}
	if full {
		return nil, nil
	}

	ph := values{
		email:            r.placeholders[slotEmail],
		unsubscribeToken: r.placeholders[slotUnsubscribe],
		preferencesToken: r.placeholders[slotPreferences],
	}
	// The probe's values hold every character that an escaper other than
	// the one fill mimics would change, and two topics, so that a template
	// that treats a value other than fill does renders the probe
	// differently from its filled-in form.
	probe := values{
		email:            `probe+"&'<>é :/?#%=;\@example.org`,
		unsubscribeToken: "probe-UNSUB_token.x",
		preferencesToken: "probe-PREFS_token.y",
	}
	if hasTopics {
		ph.topics = []string{r.placeholders[slotTopics]}
		probe.topics = []string{`a+"&'<>é :/?#%=;\`, "b"}
	}
	data := r.emailData(j.digestID, p, j.lang, j.idx, ph)
	html, text, err := r.bodies(data)
	if err != nil {
		return nil, err
	}
	sh = &shared{html: cut(html, r.placeholders), text: cut(text, r.placeholders), subject: data.Subject}
	wantHTML, wantText, err := r.bodies(r.emailData(j.digestID, p, j.lang, j.idx, probe))
	if err != nil {
		return nil, err
	}
	sh.direct = sh.html.fill(probe, true) != wantHTML || sh.text.fill(probe, false) != wantText

	p.mu.Lock()
	if len(p.shared) < maxShared {
		p.shared[string(key)] = sh
	}
	p.mu.Unlock()
	return sh, nil
}

// split is a rendered part cut at the placeholders: parts[0] slot[0]
// parts[1] ... parts[n].
type split struct {
	parts []string
	slots []int
	size  int
}

// cut splits s at every occurrence of the placeholders.
func cut(s string, placeholders [slots]string) split {
	sp := split{size: len(s)}
	for {
		at, which := -1, -1
		for k, ph := range placeholders {
			if i := strings.Index(s, ph); i >= 0 && (at < 0 || i < at) {
				at, which = i, k
			}
		}
		if at < 0 {
			sp.parts = append(sp.parts, s)
			return sp
		}
		sp.parts = append(sp.parts, s[:at])
		sp.slots = append(sp.slots, which)
		s = s[at+len(placeholders[which]):]
	}
}

// fill puts v's values in the slots, HTML-escaped as html/template escapes
// text and quoted attributes when escape is set.
func (sp split) fill(v values, escape bool) string {
	vals := [slots]string{
		slotEmail:       v.email,
		slotTopics:      strings.Join(v.topics, topicSep),
		slotUnsubscribe: v.unsubscribeToken,
		slotPreferences: v.preferencesToken,
	}
	if escape {
		vals[slotEmail] = htmlEscape(vals[slotEmail])
		vals[slotTopics] = htmlEscape(vals[slotTopics])
	}
	n := sp.size
	for _, k := range sp.slots {
		n += len(vals[k])
	}
	var b strings.Builder
	b.Grow(n)
	for i, part := range sp.parts {
		b.WriteString(part)
		if i < len(sp.slots) {
			b.WriteString(vals[sp.slots[i]])
		}
	}
	return b.String()
}

// htmlEscaper is html/template's escaping of text and quoted attribute
// values (its htmlReplacementTable); control characters are already gone.
var htmlEscaper = strings.NewReplacer(`"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

func htmlEscape(s string) string { return htmlEscaper.Replace(s) }

// emailData gathers what the templates show: the items idx of p in lang,
// with v's per-subscriber values.
func (r *Renderer) emailData(digestID int64, p *prepared, lang string, idx []int, v values) EmailData {
	items := make([]EmailItem, len(idx))
	for k, i := range idx {
		items[k] = p.items[i]
	}
	preheader := templates.Plural(lang, "email.items", len(items)) + templates.T(lang, "colon") + items[0].Title
	if len(items) > 1 {
		preheader += "…"
	}
	return EmailData{
		Lang:           lang,
		Subject:        r.Subject(lang, len(items), p.created),
		Preheader:      preheader,
		SiteTitle:      r.s.SiteTitle,
		SiteURL:        r.s.SiteURL,
		Count:          len(items),
		Date:           p.created,
		Items:          items,
		Email:          v.email,
		Topics:         v.topics,
		UnsubscribeURL: r.s.PublicURL + "unsubscribe?token=" + v.unsubscribeToken,
		PreferencesURL: r.s.PublicURL + "preferences?token=" + v.preferencesToken,
		ArchiveURL:     r.ArchiveURL(digestID),
	}
}

// bodies executes the HTML and text templates.
func (r *Renderer) bodies(data EmailData) (html, text string, err error) {
	buf := r.bufs.Get().(*bytes.Buffer)
	defer r.bufs.Put(buf)
	buf.Reset()
	if err := r.tpl.HTML(buf, emailTemplate, data); err != nil {
		return "", "", err
	}
	html = buf.String()
	buf.Reset()
	if err := r.tpl.Text(buf, emailTemplate, data); err != nil {
		return "", "", err
	}
	return html, buf.String(), nil
}

// match returns the indexes of the items of p whose tags meet topics;
// every item when topics has no usable slug (as ItemsFor decides).
func (p *prepared) match(topics []string) []int {
	want := topicSlugs(topics)
	if len(want) == 0 {
		return p.all
	}
	var out []int
	for i, slugs := range p.slugs {
		if meets(slugs, want) {
			out = append(out, i)
		}
	}
	return out
}

// prepare cleans d's items once: a stored digest is frozen, so the last
// one prepared is kept, with its shared renderings, for the next message;
// an unstored one (id 0, a preview) is prepared each time.
func (r *Renderer) prepare(d store.Digest) *prepared {
	key := preparedKey{id: d.ID, created: d.CreatedAt.UnixNano(), n: len(d.Items)}
	if len(d.Items) > 0 {
		key.first = &d.Items[0]
	}
	if d.ID != 0 {
		r.mu.Lock()
		p := r.last
		r.mu.Unlock()
		if p != nil && p.key == key {
			return p
		}
	}
	p := &prepared{
		key:     key,
		stored:  d.ID != 0,
		created: d.CreatedAt.In(r.s.Location),
		items:   make([]EmailItem, 0, len(d.Items)),
		slugs:   make([][]string, 0, len(d.Items)),
		all:     make([]int, 0, len(d.Items)),
		shared:  map[string]*shared{},
	}
	for i, it := range d.Items {
		var tags, slugs []string
		for _, t := range it.Tags {
			t = oneLine(t)
			if t == "" {
				continue
			}
			tags = append(tags, oneLine(r.s.Labels.Of(t)))
			if s := publication.Slug(t); s != "" {
				slugs = append(slugs, s)
			}
		}
		link := r.absolute(it.URL)
		if link == "" {
			link = r.s.SiteURL
		}
		p.items = append(p.items, EmailItem{
			Title:       oneLine(it.Title),
			URL:         link,
			Description: truncate(oneLine(it.Description), maxDescription),
			Date:        it.Date.In(r.s.Location),
			Tags:        tags,
			Thumbnail:   r.absolute(it.Thumbnail),
			Type:        oneLine(it.Type),
			Lang:        it.Lang, // a BCP 47 tag (publication.Load); the template escapes it
		})
		p.slugs = append(p.slugs, slugs)
		p.all = append(p.all, i)
	}
	if p.stored {
		r.mu.Lock()
		r.last = p
		r.mu.Unlock()
	}
	return p
}

// absolute resolves ref against the site URL and keeps it only if it is
// an http(s) URL; items are stored with absolute URLs, this guards the
// email against anything else (a javascript: link, a relative path).
func (r *Renderer) absolute(ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if !u.IsAbs() {
		base, err := url.Parse(r.s.SiteURL)
		if err != nil || !base.IsAbs() {
			return ""
		}
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// listUnsubscribe is the List-Unsubscribe value: the one-click URL, then
// the mailto when there is an address.
func (r *Renderer) listUnsubscribe(unsubscribeURL string) string {
	v := "<" + unsubscribeURL + ">"
	if r.mailto != "" {
		v += ", <mailto:" + r.mailto + "?subject=unsubscribe>"
	}
	return v
}

// recipient is the To of sub: "Name <addr>" when there is a name, encoded
// by net/mail (quoted, or RFC 2047 for non-ASCII), so that no character of
// the name can break the header.
func recipient(sub store.Subscriber) string {
	email := oneLine(sub.Email)
	name := oneLine(sub.Name)
	if name == "" {
		return email
	}
	return (&mail.Address{Name: name, Address: email}).String()
}

// phrase writes title as the display phrase of List-Id: a quoted string
// when ASCII, else RFC 2047 encoded-words (an encoded-word is not decoded
// inside quotes), Q when the title's ASCII characters are all safe in a
// phrase, else B.
func phrase(title string) string {
	if title == "" {
		return `""`
	}
	ascii, qSafe := true, true
	for _, c := range title {
		if c >= utf8.RuneSelf {
			ascii = false
			continue
		}
		if !(unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune(" !*+-/", c)) {
			qSafe = false
		}
	}
	if ascii {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(title) + `"`
	}
	if qSafe {
		return mime.QEncoding.Encode("UTF-8", title)
	}
	return mime.BEncoding.Encode("UTF-8", title)
}

// addressOf returns the bare address of "Name <addr>" or "addr", "" when
// s holds none.
func addressOf(s string) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		if a, err := mail.ParseAddress(s[i+1 : len(s)-1]); err == nil {
			return a.Address
		}
	}
	return ""
}

// siteHost is the host of siteURL as Message-IDs and List-Ids need it:
// lower case, without port, IDNA-encoded; "localhost" when there is none.
func siteHost(siteURL string) string {
	u, err := url.Parse(strings.TrimSpace(siteURL))
	if err != nil {
		return "localhost"
	}
	h := strings.ToLower(u.Hostname())
	if a, err := idna.Lookup.ToASCII(h); err == nil {
		h = a
	}
	if h == "" || strings.ContainsAny(h, " <>@") || !isPrintableASCII(h) {
		return "localhost"
	}
	return h
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// oneLine removes control characters and collapses white space (CR and LF
// included) into single spaces: what goes into a header or a title. A
// no-break space is kept (French typography uses it before ":").
func oneLine(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		clean = c > ' ' && c < 0x7f || c == ' ' && i > 0 && i < len(s)-1 && s[i+1] != ' '
	}
	if clean {
		return s // the common case of an ASCII address or tag: no allocation
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, c := range s {
		switch c {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0x2028, 0x2029:
			space = b.Len() > 0
			continue
		}
		if unicode.IsControl(c) || c == utf8.RuneError {
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(c)
	}
	return b.String()
}

// truncate shortens s to at most n characters, cutting at a space when one
// is near and ending with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			s = s[:i]
			break
		}
		count++
	}
	if sp := strings.LastIndexByte(s, ' '); sp > len(s)*3/4 {
		s = s[:sp]
	}
	return strings.TrimRight(s, " ,;:.") + "…"
}

func withSlash(u string) string {
	u = strings.TrimSpace(u)
	if u != "" && !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}
