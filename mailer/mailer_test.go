package mailer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

var testDate = time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("CET", 3600))

// digestMessage is a message like the digest sends: UTF-8 everywhere,
// List-* headers, both bodies.
func digestMessage() *Message {
	return &Message{
		From:      "Équipe Bulletin <bulletin@example.org>",
		ReplyTo:   "Rédaction <redaction@example.org>",
		To:        "Jean Dupont <jean@example.net>",
		Subject:   "Les nouveautés de la semaine — n°12 « été »",
		Date:      testDate,
		MessageID: "d12.s345.abc@bulletin.example.org",
		Headers: [][2]string{
			{"List-Id", "Bulletin <bulletin.example.org>"},
			{"List-Unsubscribe", "<https://bulletin.example.org/unsubscribe?s=345&t=0123456789abcdef0123456789abcdef>, <mailto:unsubscribe@example.org?subject=unsubscribe%20345>"},
			{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
		},
		Text: "Bonjour Jean,\n\nVoici les nouveautés : café, crème brûlée, 10 € = dix euros.\n.\nUne ligne qui commence par un point.\n",
		HTML: "<!doctype html>\n<html lang=\"fr\"><body><p>Bonjour Jean,</p>\n<p>Voici les nouveautés : café, crème brûlée, 10&nbsp;€ = dix euros.</p></body></html>\n",
	}
}

// parsed is a rendered message read back with the standard library.
type parsed struct {
	raw    []byte
	header mail.Header
	parts  []part
}

type part struct {
	contentType, encoding string
	body                  string // decoded
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%s", err, raw)
	}
	p := parsed{raw: raw, header: msg.Header}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body := decodeBody(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		p.parts = append(p.parts, part{msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), body})
		return p
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("media type %q, want multipart/alternative", mediaType)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		mp, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		enc := mp.Header.Get("Content-Transfer-Encoding")
		p.parts = append(p.parts, part{mp.Header.Get("Content-Type"), enc, decodeBody(t, enc, mp)})
	}
	return p
}

func decodeBody(t *testing.T, encoding string, r io.Reader) string {
	t.Helper()
	if !strings.EqualFold(encoding, "quoted-printable") {
		t.Fatalf("Content-Transfer-Encoding %q, want quoted-printable", encoding)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(r))
	if err != nil {
		t.Fatalf("quoted-printable: %v", err)
	}
	return string(b)
}

// lf undoes the CRLF line endings that mail requires.
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// headerNames lists the header field names of raw in order.
func headerNames(raw []byte) []string {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if i := strings.IndexByte(line, ':'); i > 0 {
			names = append(names, line[:i])
		}
	}
	return names
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return s
}

func render(t *testing.T, m *Message) []byte {
	t.Helper()
	raw, err := Render(m)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return raw
}

func TestRenderMultipartStructure(t *testing.T) {
	m := digestMessage()
	p := parse(t, render(t, m))

	if len(p.parts) != 2 {
		t.Fatalf("%d parts, want 2 (text, html)", len(p.parts))
	}
	for i, want := range []struct{ mediaType, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		got := p.parts[i]
		mt, params, err := mime.ParseMediaType(got.contentType)
		if err != nil || mt != want.mediaType || !strings.EqualFold(params["charset"], "utf-8") {
			t.Errorf("part %d: Content-Type %q, want %s; charset=UTF-8", i, got.contentType, want.mediaType)
		}
		if lf(got.body) != want.body {
			t.Errorf("part %d decodes to\n%q\nwant\n%q", i, lf(got.body), want.body)
		}
	}
	if got := p.header.Get("MIME-Version"); got != "1.0" {
		t.Errorf("MIME-Version %q", got)
	}
}

func TestRenderHeaders(t *testing.T) {
	m := digestMessage()
	p := parse(t, render(t, m))
	h := p.header

	for _, c := range []struct{ field, want string }{
		{"From", m.From}, {"Reply-To", m.ReplyTo}, {"To", m.To},
	} {
		addr, err := mail.ParseAddress(h.Get(c.field))
		if err != nil {
			t.Errorf("%s %q: %v", c.field, h.Get(c.field), err)
			continue
		}
		want, _ := mail.ParseAddress(c.want)
		if addr.Name != want.Name || addr.Address != want.Address {
			t.Errorf("%s = %q <%s>, want %q <%s>", c.field, addr.Name, addr.Address, want.Name, want.Address)
		}
	}

	rawSubject := h.Get("Subject")
	if !isASCII(rawSubject) || !strings.Contains(rawSubject, "=?UTF-8?") {
		t.Errorf("Subject %q is not RFC 2047 encoded", rawSubject)
	}
	if got := decodeHeader(t, rawSubject); got != m.Subject {
		t.Errorf("Subject decodes to %q, want %q", got, m.Subject)
	}
	date, err := h.Date()
	if err != nil || !date.Equal(m.Date) {
		t.Errorf("Date %q (%v), want %v", h.Get("Date"), err, m.Date)
	}
	if got := h.Get("Message-ID"); got != "<"+m.MessageID+">" {
		t.Errorf("Message-ID %q, want <%s>", got, m.MessageID)
	}
	for _, kv := range m.Headers {
		// net/mail joins folded lines with the CRLF removed, keeping the space.
		if got := h.Get(kv[0]); got != kv[1] {
			t.Errorf("%s = %q, want %q", kv[0], got, kv[1])
		}
	}

	var order []string
	for _, name := range headerNames(p.raw) {
		if strings.HasPrefix(name, "List-") {
			order = append(order, name)
		}
	}
	if want := []string{"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("List-* headers in order %v, want %v", order, want)
	}
	for _, name := range headerNames(p.raw) {
		if strings.EqualFold(name, "User-Agent") || strings.EqualFold(name, "X-Mailer") {
			t.Errorf("unexpected %s header", name)
		}
	}
}

func TestRenderKeepsExtraHeaderOrder(t *testing.T) {
	m := digestMessage()
	m.Headers = [][2]string{{"X-Zeta", "1"}, {"X-Alpha", "2"}, {"X-Mid", "été à la plage"}, {"X-Alpha", "3"}}
	p := parse(t, render(t, m))
	var got []string
	for _, name := range headerNames(p.raw) {
		if strings.HasPrefix(name, "X-") {
			got = append(got, name)
		}
	}
	if strings.Join(got, ",") != "X-Zeta,X-Alpha,X-Mid,X-Alpha" {
		t.Errorf("extra headers in order %v", got)
	}
	if v := p.header["X-Alpha"]; len(v) != 2 || v[0] != "2" || v[1] != "3" {
		t.Errorf("X-Alpha = %q, want [2 3]", v)
	}
	if got := decodeHeader(t, p.header.Get("X-Mid")); got != "été à la plage" {
		t.Errorf("X-Mid decodes to %q", got)
	}
}

func TestRenderRemovesHeaderInjection(t *testing.T) {
	const evil = "\r\nBcc: evil@x"
	cases := []struct {
		name   string
		mutate func(*Message)
	}{
		{"subject", func(m *Message) { m.Subject = "Hello" + evil }},
		{"subject LF only", func(m *Message) { m.Subject = "Hello\nBcc: evil@x\n" }},
		{"from name", func(m *Message) { m.From = "Bulletin" + evil + " <bulletin@example.org>" }},
		{"to name", func(m *Message) { m.To = "Jean" + evil + " <jean@example.net>" }},
		{"reply-to", func(m *Message) { m.ReplyTo = "Rédaction" + evil + " <r@example.org>" }},
		{"extra header value", func(m *Message) { m.Headers = [][2]string{{"List-Id", "<l.example.org>" + evil}} }},
		{"message-id", func(m *Message) { m.MessageID = "abc@host" + "\r\n" }},
		{"control chars", func(m *Message) { m.Subject = "Hi\x00\x1b[31m\u0085Bcc: evil@x\u2028" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := digestMessage()
			c.mutate(m)
			raw := render(t, m)
			p := parse(t, raw)
			if v, ok := p.header["Bcc"]; ok {
				t.Fatalf("injected Bcc header %q", v)
			}
			for _, name := range headerNames(raw) {
				if strings.EqualFold(name, "bcc") {
					t.Fatalf("injected header line %q", name)
				}
			}
			head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
			for i, line := range bytes.Split(head, []byte("\r\n")) {
				if bytes.ContainsAny(line, "\r\n\x00\x1b") {
					t.Errorf("header line %d holds a control character: %q", i, line)
				}
			}
			if len(p.parts) != 2 || lf(p.parts[0].body) != m.Text {
				t.Errorf("body changed")
			}
		})
	}
}

func TestRenderLongLines(t *testing.T) {
	m := digestMessage()
	long := strings.Repeat("é=a ", 1250) // 5,000 characters on one line
	long2 := strings.Repeat("x", 5000)   // and one without any space
	m.Text = "début\n" + long + "\n" + long2 + "\nfin\n"
	m.HTML = "<p>" + long2 + "</p>\n<p>" + long + "</p>\n"
	m.Subject = strings.Repeat("Un sujet très long ", 30)
	m.Headers = append(m.Headers, [2]string{"X-Long", strings.Repeat("word ", 200)})

	raw := render(t, m)
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Fatalf("line %d is %d octets long (> 998)", i, len(line))
		}
		// Past 78 octets only a single word that cannot be folded may stand.
		if words := strings.Fields(string(line)); len(line) > 78 && len(words) > 2 {
			t.Errorf("line %d is %d octets long, folding should keep it within 78: %.40q", i, len(line), line)
		}
	}
	p := parse(t, raw)
	if lf(p.parts[0].body) != m.Text || lf(p.parts[1].body) != m.HTML {
		t.Error("long lines do not decode back to the input")
	}
	if got := decodeHeader(t, p.header.Get("Subject")); got != clean(m.Subject) {
		t.Errorf("Subject decodes to %q", got)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a := render(t, digestMessage())
	b := render(t, digestMessage())
	if !bytes.Equal(a, b) {
		t.Error("two renders of the same message differ")
	}
	other := digestMessage()
	other.MessageID = "d12.s346.abc@bulletin.example.org"
	if _, pa, _ := mime.ParseMediaType(parse(t, a).header.Get("Content-Type")); pa["boundary"] == "" {
		t.Error("no boundary")
	} else if _, pb, _ := mime.ParseMediaType(parse(t, render(t, other)).header.Get("Content-Type")); pa["boundary"] == pb["boundary"] {
		t.Error("two messages share a MIME boundary")
	}
}

func TestRenderSinglePart(t *testing.T) {
	for _, c := range []struct {
		name, text, html, wantType string
	}{
		{"text only", "Bonjour\n", "", "text/plain"},
		{"html only", "", "<p>Bonjour</p>", "text/html"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := digestMessage()
			m.Text, m.HTML = c.text, c.html
			p := parse(t, render(t, m))
			if len(p.parts) != 1 {
				t.Fatalf("%d parts, want 1", len(p.parts))
			}
			if mt, _, _ := mime.ParseMediaType(p.parts[0].contentType); mt != c.wantType {
				t.Errorf("Content-Type %q, want %s", p.parts[0].contentType, c.wantType)
			}
			if got := lf(p.parts[0].body); got != c.text+c.html {
				t.Errorf("body %q", got)
			}
		})
	}
}

func TestRenderAddressForms(t *testing.T) {
	for _, c := range []struct{ in, name, addr string }{
		{"jean@example.net", "", "jean@example.net"},
		{"<jean@example.net>", "", "jean@example.net"},
		{"Jean Dupont <jean@example.net>", "Jean Dupont", "jean@example.net"},
		{`"Dupont, Jean" <jean@example.net>`, "Dupont, Jean", "jean@example.net"},
		{"Bulletin: l'été <jean@example.net>", "Bulletin: l'été", "jean@example.net"},
		{"=?UTF-8?q?=C3=89quipe?= <jean@example.net>", "Équipe", "jean@example.net"},
	} {
		m := digestMessage()
		m.To = c.in
		p := parse(t, render(t, m))
		got, err := mail.ParseAddress(p.header.Get("To"))
		if err != nil || got.Name != c.name || got.Address != c.addr {
			t.Errorf("To %q renders as %q (%v), want %q <%s>", c.in, p.header.Get("To"), err, c.name, c.addr)
		}
	}
}

// Reply-To may hold several addresses (RFC 5322 §3.6.2): each is kept,
// whatever form it takes; a single one with a name net/mail refuses
// unquoted still works.
func TestRenderReplyToList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string // addresses, in order
	}{
		{"a@x.fr, b@x.fr", []string{"a@x.fr", "b@x.fr"}},
		{`Rédaction <r@x.fr>, "Dupont, Jean" <j@x.fr>, c@x.fr`, []string{"r@x.fr", "j@x.fr", "c@x.fr"}},
		{"Bulletin: l'été <r@x.fr>", []string{"r@x.fr"}},
	} {
		m := digestMessage()
		m.ReplyTo = c.in
		p := parse(t, render(t, m))
		list, err := p.header.AddressList("Reply-To")
		var got []string
		for _, a := range list {
			got = append(got, a.Address)
		}
		if err != nil || strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("Reply-To %q renders as %q (%v), want %v", c.in, p.header.Get("Reply-To"), err, c.want)
		}
	}
	m := digestMessage()
	m.ReplyTo = "a@x.fr, nope"
	if _, err := Render(m); err == nil || !strings.Contains(err.Error(), "Reply-To") {
		t.Errorf("Render with a bad address in the Reply-To list: %v, want an error naming Reply-To", err)
	}
}

func TestRenderRejects(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*Message)
		want   string
	}{
		{"no message-id", func(m *Message) { m.MessageID = "" }, "Message-ID"},
		{"message-id with brackets", func(m *Message) { m.MessageID = "<a@b>" }, "Message-ID"},
		{"message-id without @", func(m *Message) { m.MessageID = "abc" }, "Message-ID"},
		{"no recipient", func(m *Message) { m.To = "" }, "To"},
		{"bad recipient", func(m *Message) { m.To = "not an address" }, "To"},
		{"bad sender", func(m *Message) { m.From = "@@" }, "From"},
		{"bad reply-to", func(m *Message) { m.ReplyTo = "nope" }, "Reply-To"},
		{"reserved header", func(m *Message) { m.Headers = [][2]string{{"bcc", "evil@x"}} }, "bcc"},
		{"header name with CRLF", func(m *Message) { m.Headers = [][2]string{{"X-A\r\nBcc", "evil@x"}} }, "header name"},
		{"header name with colon", func(m *Message) { m.Headers = [][2]string{{"X-A:", "v"}} }, "header name"},
		{"unfoldable word", func(m *Message) { m.Subject = strings.Repeat("a", 1000) }, "Subject"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := digestMessage()
			c.mutate(m)
			_, err := Render(m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Render error %v, want one naming %q", err, c.want)
			}
		})
	}
	if _, err := Render(nil); err == nil {
		t.Error("Render(nil) succeeded")
	}
}

// Validate builds a message as Send would and sends nothing: nil for a good
// one, Invalid (never Permanent) naming the field for a bad one.
func TestValidate(t *testing.T) {
	if err := Validate(digestMessage()); err != nil {
		t.Fatalf("Validate of a good message: %v", err)
	}
	for field, edit := range map[string]func(*Message){
		"From": func(m *Message) { m.From = "Name bulletin@example.org" },
		"To":   func(m *Message) { m.To = strings.Repeat("A", maxWord+1) + " <a@example.org>" },
	} {
		m := digestMessage()
		edit(m)
		err := Validate(m)
		if !IsInvalid(err) || IsPermanent(err) || !strings.Contains(err.Error(), field+":") {
			t.Errorf("Validate with a bad %s: %v, want Invalid naming it", field, err)
		}
	}
}
