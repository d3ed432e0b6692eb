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
		"colon":                        "\u00a0: ", // French puts a (no-break) space before a colon
		"email.view_online":            "Voir dans le navigateur",
		"email.items.one":              "{n} nouvelle publication",
		"email.items.other":            "{n} nouvelles publications",
		"email.short.one":              "{n} publication",
		"email.short.other":            "{n} publications",
		"email.intro":                  "{items} — {date}",
		"email.tags":                   "Thèmes",
		"email.why":                    "Vous recevez ce courriel parce que vous êtes abonné(e) à {site} avec l’adresse {email}.",
		"email.why_topics":             "Vous ne recevez que les publications de vos thèmes\u00a0: {topics}.",
		"email.unsubscribe":            "Se désabonner",
		"email.preferences":            "Gérer mes préférences",
		"email.subject":                "{site} — {n} nouvelles publications ({date})",
		"confirm_email.subject":        "Confirmez votre abonnement à {site}",
		"confirm_email.intro":          "Vous avez demandé à recevoir la lettre d’information de {site} à l’adresse {email}. Pour confirmer, suivez ce lien\u00a0:",
		"confirm_email.action":         "Confirmer mon abonnement",
		"confirm_email.expires":        "Ce lien est valable jusqu’au {date}.",
		"confirm_email.copy":           "Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur\u00a0:",
		"confirm_email.ignore":         "Si vous n’êtes pas à l’origine de cette demande, ignorez ce message\u00a0: vous ne recevrez rien.",
		"confirm_email.subject_active": "Votre abonnement à {site}",
		"confirm_email.already":        "Quelqu’un, sans doute vous, a demandé à abonner l’adresse {email} à la lettre d’information de {site}. Cette adresse est déjà abonnée\u00a0: il n’y a rien à faire. Vous pouvez choisir vos thèmes et votre langue, ou vous désabonner.",
		"page.lang_name":               "Français",
		"page.nav_label":               "Liens de la lettre d’information",
		"page.nav_subscribe":           "S’abonner",
		"page.nav_archive":             "Archives",
		"page.nav_feed":                "Flux Atom des lettres",
		"form.errors_title":            "Le formulaire contient des erreurs",
		"form.topics":                  "Thèmes (facultatif)",
		"form.topics_hint":             "Ne cochez rien pour recevoir toutes les publications.",
		"form.language":                "Langue des courriels",
		"form.error_email":             "Saisissez une adresse électronique valide, par exemple nom@domaine.fr.",
		"form.error_email_long":        "L’adresse électronique ne doit pas dépasser 254 caractères.",
		"form.error_topics":            "Choisissez vos thèmes parmi ceux de la liste.",
		"form.error_language":          "Choisissez le français ou l’anglais.",
		"subscribe.title":              "S’abonner à la lettre d’information",
		"subscribe.intro":              "Recevez par courriel un résumé régulier des nouvelles publications de {site}.",
		"subscribe.email":              "Adresse électronique",
		"subscribe.email_hint":         "Format attendu\u00a0: nom@domaine.fr",
		"subscribe.honeypot":           "Ne remplissez pas ce champ",
		"subscribe.submit":             "S’abonner",
		"subscribe.privacy":            "Votre adresse ne sert qu’à l’envoi de cette lettre. Chaque courriel contient un lien pour vous désabonner en un clic.",
		"subscribed.title":             "Vérifiez votre messagerie",
		"subscribed.sent":              "Un courriel vient d’être envoyé à l’adresse {email}.",
		"subscribed.follow":            "Suivez le lien qu’il contient pour confirmer votre abonnement. Ce lien est valable 7 jours.",
		"subscribed.known":             "Si cette adresse était déjà abonnée, le courriel vous indique comment gérer vos préférences.",
		"subscribed.spam":              "Rien reçu d’ici quelques minutes\u00a0? Regardez dans vos courriers indésirables, ou recommencez.",
		"subscribed.again":             "Revenir au formulaire",
		"confirm.title":                "Confirmer votre abonnement",
		"confirm.question":             "Recevoir la lettre d’information de {site} à l’adresse {email}\u00a0?",
		"confirm.button":               "Confirmer mon abonnement",
		"confirm.ignore":               "Si vous n’êtes pas à l’origine de cette demande, fermez simplement cette page\u00a0: vous ne recevrez rien.",
		"confirmed.title":              "Abonnement confirmé",
		"confirmed.done":               "Votre abonnement est confirmé.",
		"confirmed.body":               "Vous recevrez la lettre d’information de {site} à l’adresse {email}.",
		"confirmed.preferences":        "Choisir mes thèmes et ma langue",
		"unsubscribe.title":            "Se désabonner",
		"unsubscribe.question":         "Ne plus recevoir la lettre d’information de {site} à l’adresse {email}\u00a0?",
		"unsubscribe.button":           "Me désabonner",
		"unsubscribe.keep":             "Pour rester abonné(e), fermez simplement cette page.",
		"unsubscribed.title":           "Désabonnement effectué",
		"unsubscribed.done":            "Vous êtes désabonné(e).",
		"unsubscribed.body":            "Vous ne recevrez plus la lettre d’information de {site}.",
		"unsubscribed.again":           "Vous avez changé d’avis\u00a0?",
		"unsubscribed.again_link":      "Vous abonner de nouveau",
		"preferences.title":            "Mes préférences",
		"preferences.address":          "Adresse",
		"preferences.saved":            "Vos préférences sont enregistrées.",
		"preferences.pending":          "Votre abonnement n’est pas encore confirmé\u00a0: suivez le lien du courriel de confirmation.",
		"preferences.unsubscribed":     "Vous êtes désabonné(e)\u00a0: vous ne recevez plus la lettre.",
		"preferences.bounced":          "Les courriels envoyés à cette adresse n’arrivent plus\u00a0: la lettre ne vous est plus envoyée.",
		"preferences.submit":           "Enregistrer",
		"preferences.unsubscribe":      "Ne plus recevoir la lettre",
		"archive.title":                "Archives de la lettre d’information",
		"archive.intro":                "Les lettres envoyées, de la plus récente à la plus ancienne.",
		"archive.empty":                "Aucune lettre n’a encore été envoyée.",
		"archive.entry":                "Lettre du {date}",
		"archive.count.one":            "{n} publication",
		"archive.count.other":          "{n} publications",
		"archive.feed":                 "Suivre les lettres par flux Atom",
		"archive.feed_title":           "{site} – lettres d’information",
		"archive.back":                 "Toutes les lettres",
		"feed_page.title":              "{feed} – flux {format}",
		"feed_page.is_feed":            "Ceci est un flux {format}.",
		"feed_page.how":                "Pour suivre les nouvelles publications, copiez son adresse dans votre lecteur de flux.",
		"feed_page.others":             "Autres formats",
		"feed_page.subscribe":          "Ou recevez-les par courriel dans la lettre d’information",
		"feed_page.items":              "Publications",
		"feed_page.empty":              "Aucune publication pour l’instant.",
		"error.link_title":             "Lien invalide ou expiré",
		"error.link":                   "Ce lien n’est pas valide ou n’est plus valable. Un lien de confirmation est valable 7 jours\u00a0; pour en recevoir un nouveau, abonnez-vous de nouveau.",
		"error.form_title":             "Formulaire expiré",
		"error.form":                   "Ce formulaire a expiré ou n’a pas pu être vérifié. Rechargez la page et recommencez.",
		"error.rate_title":             "Trop de demandes",
		"error.rate":                   "Trop de demandes d’abonnement ont été faites depuis votre connexion. Réessayez un peu plus tard.",
		"error.notfound_title":         "Page introuvable",
		"error.notfound":               "La page demandée n’existe pas ou plus.",
		"error.server_title":           "Erreur",
		"error.server":                 "Une erreur s’est produite de notre côté. Réessayez dans quelques minutes.",
		"error.mail":                   "Le courriel n’a pas pu être envoyé. Réessayez dans quelques minutes.",
		"error.back_form":              "Revenir au formulaire d’abonnement",
		"error.back_archive":           "Voir les archives",
		"date.first_day":               "1er",
		"month.1":                      "janvier",
		"month.2":                      "février",
		"month.3":                      "mars",
		"month.4":                      "avril",
		"month.5":                      "mai",
		"month.6":                      "juin",
		"month.7":                      "juillet",
		"month.8":                      "août",
		"month.9":                      "septembre",
		"month.10":                     "octobre",
		"month.11":                     "novembre",
		"month.12":                     "décembre",
	},
	"en": {
		"colon":                        ": ",
		"email.view_online":            "View in your browser",
		"email.items.one":              "{n} new publication",
		"email.items.other":            "{n} new publications",
		"email.short.one":              "{n} publication",
		"email.short.other":            "{n} publications",
		"email.intro":                  "{items} — {date}",
		"email.tags":                   "Topics",
		"email.why":                    "You are receiving this email because you subscribed to {site} with the address {email}.",
		"email.why_topics":             "You only receive the publications of your topics: {topics}.",
		"email.unsubscribe":            "Unsubscribe",
		"email.preferences":            "Manage your preferences",
		"email.subject":                "{site} — {n} new publications ({date})",
		"confirm_email.subject":        "Confirm your subscription to {site}",
		"confirm_email.intro":          "You asked to receive the {site} newsletter at {email}. To confirm, follow this link:",
		"confirm_email.action":         "Confirm my subscription",
		"confirm_email.expires":        "This link is valid until {date}.",
		"confirm_email.copy":           "If the button does not work, copy this address into your browser:",
		"confirm_email.ignore":         "If you did not ask for this, ignore this email: you will receive nothing.",
		"confirm_email.subject_active": "Your subscription to {site}",
		"confirm_email.already":        "Someone, probably you, asked to subscribe {email} to the {site} newsletter. This address is already subscribed: there is nothing to do. You can choose your topics and language, or unsubscribe.",
		"page.lang_name":               "English",
		"page.nav_label":               "Newsletter links",
		"page.nav_subscribe":           "Subscribe",
		"page.nav_archive":             "Archive",
		"page.nav_feed":                "Atom feed of the newsletters",
		"form.errors_title":            "The form has errors",
		"form.topics":                  "Topics (optional)",
		"form.topics_hint":             "Leave them all unchecked to receive every publication.",
		"form.language":                "Language of the emails",
		"form.error_email":             "Enter a valid email address, such as name@example.org.",
		"form.error_email_long":        "The email address must be at most 254 characters long.",
		"form.error_topics":            "Choose your topics from the list.",
		"form.error_language":          "Choose French or English.",
		"subscribe.title":              "Subscribe to the newsletter",
		"subscribe.intro":              "Get a regular email summary of the new publications of {site}.",
		"subscribe.email":              "Email address",
		"subscribe.email_hint":         "Expected format: name@example.org",
		"subscribe.honeypot":           "Leave this field empty",
		"subscribe.submit":             "Subscribe",
		"subscribe.privacy":            "Your address is only used to send this newsletter. Every email has a link to unsubscribe in one click.",
		"subscribed.title":             "Check your inbox",
		"subscribed.sent":              "An email has just been sent to {email}.",
		"subscribed.follow":            "Follow the link it contains to confirm your subscription. The link is valid for 7 days.",
		"subscribed.known":             "If this address was already subscribed, the email tells you how to manage your preferences.",
		"subscribed.spam":              "Nothing after a few minutes? Check your spam folder, or try again.",
		"subscribed.again":             "Back to the form",
		"confirm.title":                "Confirm your subscription",
		"confirm.question":             "Receive the {site} newsletter at {email}?",
		"confirm.button":               "Confirm my subscription",
		"confirm.ignore":               "If you did not ask for this, simply close this page: you will receive nothing.",
		"confirmed.title":              "Subscription confirmed",
		"confirmed.done":               "Your subscription is confirmed.",
		"confirmed.body":               "You will receive the {site} newsletter at {email}.",
		"confirmed.preferences":        "Choose my topics and language",
		"unsubscribe.title":            "Unsubscribe",
		"unsubscribe.question":         "Stop receiving the {site} newsletter at {email}?",
		"unsubscribe.button":           "Unsubscribe me",
		"unsubscribe.keep":             "To stay subscribed, simply close this page.",
		"unsubscribed.title":           "You are unsubscribed",
		"unsubscribed.done":            "You are unsubscribed.",
		"unsubscribed.body":            "You will no longer receive the {site} newsletter.",
		"unsubscribed.again":           "Changed your mind?",
		"unsubscribed.again_link":      "Subscribe again",
		"preferences.title":            "My preferences",
		"preferences.address":          "Address",
		"preferences.saved":            "Your preferences are saved.",
		"preferences.pending":          "Your subscription is not confirmed yet: follow the link in the confirmation email.",
		"preferences.unsubscribed":     "You are unsubscribed: you no longer receive the newsletter.",
		"preferences.bounced":          "Emails sent to this address no longer arrive: the newsletter is not sent to you any more.",
		"preferences.submit":           "Save",
		"preferences.unsubscribe":      "Stop receiving the newsletter",
		"archive.title":                "Newsletter archive",
		"archive.intro":                "The newsletters sent, newest first.",
		"archive.empty":                "No newsletter has been sent yet.",
		"archive.entry":                "Newsletter of {date}",
		"archive.count.one":            "{n} publication",
		"archive.count.other":          "{n} publications",
		"archive.feed":                 "Follow the newsletters in an Atom feed",
		"archive.feed_title":           "{site} – newsletters",
		"archive.back":                 "All newsletters",
		"feed_page.title":              "{feed} – {format} feed",
		"feed_page.is_feed":            "This is an {format} feed.",
		"feed_page.how":                "To follow new publications, copy its address into your feed reader.",
		"feed_page.others":             "Other formats",
		"feed_page.subscribe":          "Or get them by email in the newsletter",
		"feed_page.items":              "Publications",
		"feed_page.empty":              "No publications yet.",
		"error.link_title":             "Invalid or expired link",
		"error.link":                   "This link is not valid or has expired. A confirmation link is valid for 7 days; to get a new one, subscribe again.",
		"error.form_title":             "Form expired",
		"error.form":                   "This form has expired or could not be verified. Reload the page and try again.",
		"error.rate_title":             "Too many requests",
		"error.rate":                   "Too many subscription requests came from your connection. Please try again a little later.",
		"error.notfound_title":         "Page not found",
		"error.notfound":               "The page you asked for does not exist.",
		"error.server_title":           "Something went wrong",
		"error.server":                 "Something went wrong on our side. Please try again in a few minutes.",
		"error.mail":                   "The email could not be sent. Please try again in a few minutes.",
		"error.back_form":              "Back to the subscription form",
		"error.back_archive":           "See the archive",
		"date.first_day":               "1",
		"month.1":                      "January",
		"month.2":                      "February",
		"month.3":                      "March",
		"month.4":                      "April",
		"month.5":                      "May",
		"month.6":                      "June",
		"month.7":                      "July",
		"month.8":                      "August",
		"month.9":                      "September",
		"month.10":                     "October",
		"month.11":                     "November",
		"month.12":                     "December",
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
// no-break space keeps its two words together, and so does French
// punctuation written after an ordinary space ("vraiment ?", "« mot »"):
// no line starts with "?", "!", ":", ";" or "»", nor ends with "«".
func Wrap(width int, s string) string {
	width = max(width, 1)
	// Units that no line break may split: a word with the punctuation
	// that follows it, "«" with the word after it.
	var units []string
	for _, w := range strings.FieldsFunc(s, isBreakable) {
		if k := len(units) - 1; k >= 0 && (strings.Trim(w, "?!:;»") == "" || strings.HasSuffix(units[k], "«")) {
			units[k] += " " + w
			continue
		}
		units = append(units, w)
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/width + 1)
	n := 0
	for i, w := range units {
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
