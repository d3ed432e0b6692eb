package templates

import (
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"
)

// catalog holds the strings of the templates per language; it is only read.
// French is the default and the fallback of a key missing in English.
// "{name}" marks a value filled in by Tf or Plural; a ".one"/".other" pair
// is a plural.
var catalog = map[string]map[string]string{
	"fr": {
		"colon":             "\u00a0: ", // French puts a (no-break) space before a colon
		"email.view_online": "Voir dans le navigateur",
		"email.items.one":   "{n} nouvelle publication",
		"email.items.other": "{n} nouvelles publications",
		"email.short.one":   "{n} publication",
		"email.short.other": "{n} publications",
		"email.intro":       "{items} — {date}",
		"email.tags":        "Thèmes",
		"email.why":         "Vous recevez ce courriel parce que vous êtes abonné(e) à {site} avec l’adresse {email}.",
		"email.why_topics":  "Vous ne recevez que les publications de vos thèmes\u00a0: {topics}.",
		"email.unsubscribe": "Se désabonner",
		"email.preferences": "Gérer mes préférences",
		"email.subject":     "{site} — {n} nouvelles publications ({date})",
		"date.first_day":    "1er",
		"month.1":           "janvier",
		"month.2":           "février",
		"month.3":           "mars",
		"month.4":           "avril",
		"month.5":           "mai",
		"month.6":           "juin",
		"month.7":           "juillet",
		"month.8":           "août",
		"month.9":           "septembre",
		"month.10":          "octobre",
		"month.11":          "novembre",
		"month.12":          "décembre",
	},
	"en": {
		"colon":             ": ",
		"email.view_online": "View in your browser",
		"email.items.one":   "{n} new publication",
		"email.items.other": "{n} new publications",
		"email.short.one":   "{n} publication",
		"email.short.other": "{n} publications",
		"email.intro":       "{items} — {date}",
		"email.tags":        "Topics",
		"email.why":         "You are receiving this email because you subscribed to {site} with the address {email}.",
		"email.why_topics":  "You only receive the publications of your topics: {topics}.",
		"email.unsubscribe": "Unsubscribe",
		"email.preferences": "Manage your preferences",
		"email.subject":     "{site} — {n} new publications ({date})",
		"date.first_day":    "1",
		"month.1":           "January",
		"month.2":           "February",
		"month.3":           "March",
		"month.4":           "April",
		"month.5":           "May",
		"month.6":           "June",
		"month.7":           "July",
		"month.8":           "August",
		"month.9":           "September",
		"month.10":          "October",
		"month.11":          "November",
		"month.12":          "December",
	},
}

// Lang returns the language the strings exist in for a subscriber's or
// site's language tag: "en" for English ("en", "EN", "en-GB"), else "fr".
func Lang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if tag == "en" || strings.HasPrefix(tag, "en-") || strings.HasPrefix(tag, "en_") {
		return "en"
	}
	return "fr"
}

// T returns the UI string key in lang ("fr", the default, or "en"); a key
// missing in English falls back to French, an unknown key to itself.
func T(lang, key string) string {
	if s, ok := catalog[Lang(lang)][key]; ok {
		return s
	}
	if s, ok := catalog["fr"][key]; ok {
		return s
	}
	return key
}

// Tf is T with "{name}" placeholders replaced: Tf("fr", "email.why",
// "site", title, "email", addr). Values are inserted as they are; the
// template engine escapes the result.
func Tf(lang, key string, pairs ...string) string {
	s := T(lang, key)
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}

// One reports whether n takes the singular in lang: 0 and 1 in French,
// only 1 in English.
func One(lang string, n int) bool {
	if Lang(lang) == "fr" {
		return n == 0 || n == 1
	}
	return n == 1
}

// Plural returns key+".one" or key+".other" in lang, as n asks, with {n}
// replaced by n: Plural("fr", "email.items", 1) = "1 nouvelle publication".
func Plural(lang, key string, n int) string {
	form := ".other"
	if One(lang, n) {
		form = ".one"
	}
	return strings.ReplaceAll(T(lang, key+form), "{n}", strconv.Itoa(n))
}

// Date writes t's calendar day in lang, in t's own location: "2 juin 2022"
// or "1er juin 2022" in French, "June 2, 2022" in English.
func Date(lang string, t time.Time) string {
	lang = Lang(lang)
	y, m, d := t.Date()
	day := strconv.Itoa(d)
	if d == 1 {
		day = T(lang, "date.first_day")
	}
	month := T(lang, "month."+strconv.Itoa(int(m)))
	if lang == "en" {
		return month + " " + day + ", " + strconv.Itoa(y)
	}
	return day + " " + month + " " + strconv.Itoa(y)
}

// Wrap breaks s into lines of at most width characters at spaces, for
// plain-text parts; a word longer than width (a URL) gets a line of its own.
// Runs of ASCII white space, line breaks included, become one space; a
// no-break space keeps its two words together.
func Wrap(width int, s string) string {
	width = max(width, 1)
	var b strings.Builder
	b.Grow(len(s) + len(s)/width + 1)
	n := 0
	for i, w := range strings.FieldsFunc(s, isBreakable) {
		wl := utf8.RuneCountInString(w)
		if i > 0 {
			if n+1+wl > width {
				b.WriteByte('\n')
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += wl
	}
	return b.String()
}

// Funcs returns the functions every template can call:
//
//	t LANG KEY                 T
//	tf LANG KEY NAME VALUE...  Tf
//	plural LANG KEY N          Plural
//	date LANG TIME             Date
//	join LIST SEP              strings.Join
//	wrap WIDTH TEXT            Wrap
func Funcs() texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"t":      T,
		"tf":     Tf,
		"plural": Plural,
		"date":   Date,
		"join":   strings.Join,
		"wrap":   Wrap,
	}
}

func isBreakable(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}
