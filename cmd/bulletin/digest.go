package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ecoresponsable/bulletin/config"
	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

func runDigest(ctx context.Context, env *cliEnv, args []string) error {
	return runSubcommand(ctx, env, "digest", digestSubcommands(), args)
}

// digestSubcommands are the verbs of "bulletin digest".
func digestSubcommands() []subcommand {
	return []subcommand{
		{"preview", [2]string{"écrit le HTML et le texte de la lettre qui partirait maintenant", "write the HTML and text of the digest that would go out now"}, runDigestPreview},
		{"send", [2]string{"reprend les lettres inachevées, puis envoie la nouvelle", "resume the unfinished digests, then send the new one"}, runDigestSend},
		{"status", [2]string{"montre les dernières lettres et leurs envois", "show the last digests and their deliveries"}, runDigestStatus},
	}
}

// digestSession is what every digest command works with.
type digestSession struct {
	cfg      *config.Config
	st       *store.SQLite
	now      time.Time
	loc      *time.Location
	renderer *digest.Renderer
	signer   *token.Signer
	site     *publication.Site // loaded on first use
}

// openDigest loads the configuration and the store and prepares the
// renderer (templates, signing secret). Close the session when done.
func openDigest(ctx context.Context, env *cliEnv, sf *siteFlags) (*digestSession, error) {
	cfg, err := loadConfig(env, sf, nil)
	if err != nil {
		return nil, err
	}
	now, err := parseNow(sf.now)
	if err != nil {
		return nil, err
	}
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	tpl, err := templates.Load(cfg.Resolve(cfg.Digest.Templates))
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	secret := []byte(cfg.Secret)
	if cfg.Secret == "" {
		if secret, err = st.Secret(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	signer, err := token.NewSigner(secret)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("secret (BULLETIN_SECRET): %w", err)
	}
	if err := noteSecret(ctx, env, st, secret); err != nil {
		st.Close()
		return nil, err
	}
	r := digest.NewRenderer(tpl, signer, digestSettings(cfg, loc))
	if err := r.Validate(); err != nil {
		st.Close()
		return nil, err
	}
	return &digestSession{cfg: cfg, st: st, now: now, loc: loc, renderer: r, signer: signer}, nil
}

func (s *digestSession) Close() error { return s.st.Close() }

// secretSeenKey is the setting holding a fingerprint of the secret that
// signed the links sent so far (never the secret itself).
const secretSeenKey = "secret.fingerprint"

// noteSecret warns when the signing secret is not the one recorded with
// the database: BULLETIN_SECRET set for serve but not for the commands (or
// the reverse, or changed) means that the links of one side's emails do
// not verify on the other, and unsubscribing fails. The new one is
// recorded, so the warning comes once per change.
func noteSecret(ctx context.Context, env *cliEnv, st *store.SQLite, secret []byte) error {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("bulletin: fingerprint of the signing secret"))
	fp := hex.EncodeToString(m.Sum(nil))[:16]
	seen, ok, err := st.GetSetting(ctx, secretSeenKey)
	if err != nil {
		return err
	}
	if ok && seen == fp {
		return nil
	}
	if ok && linksSent(ctx, st) {
		env.warn(env.t("le secret de signature n’est plus celui des courriels déjà envoyés (BULLETIN_SECRET défini, retiré ou changé) : leurs liens de désinscription et de préférences ne fonctionnent plus ; donnez le même BULLETIN_SECRET à serve et aux commandes",
			"the signing secret is not the one of the emails already sent (BULLETIN_SECRET set, unset or changed): their unsubscribe and preferences links no longer work; give serve and the commands the same BULLETIN_SECRET"))
	}
	return st.SetSetting(ctx, secretSeenKey, fp)
}

// linksSent reports whether emails with signed links may be out: a digest
// was created, or someone waits for a confirmation email. Before that, a
// new secret (set after a first preview) breaks nothing.
func linksSent(ctx context.Context, st *store.SQLite) bool {
	if n, err := st.CountDigests(ctx); err != nil || n > 0 {
		return true
	}
	counts, err := st.CountByStatus(ctx)
	return err != nil || counts[store.StatusPending] > 0
}

// digestSettings maps the configuration onto what every digest email carries.
func digestSettings(cfg *config.Config, loc *time.Location) digest.Settings {
	return digest.Settings{
		SiteTitle:         cfg.Site.Title,
		SiteURL:           cfg.Site.URL,
		PublicURL:         cfg.Server.PublicURL,
		From:              digestFrom(cfg),
		ReplyTo:           cfg.Digest.ReplyTo,
		SubjectFR:         cfg.Digest.Subject,
		SubjectEN:         cfg.Digest.SubjectEN,
		ListID:            cfg.Digest.ListID,
		UnsubscribeMailto: cfg.Digest.UnsubscribeMailto,
		Location:          loc,
		Lang:              cfg.Site.Language,
		Labels:            publication.NewLabels(cfg.Site.Labels),
	}
}

// digestFrom is digest.from, else the site's title and author address.
func digestFrom(cfg *config.Config) string {
	if strings.TrimSpace(cfg.Digest.From) != "" {
		return cfg.Digest.From
	}
	if cfg.Site.Author.Email == "" {
		return ""
	}
	return (&mail.Address{Name: cfg.Site.Title, Address: cfg.Site.Author.Email}).String()
}

// smtpConfig maps the configuration onto the SMTP sender's. In the
// configuration, retries 0 means none; in mailer, 0 means its default.
func smtpConfig(cfg *config.Config, logger *slog.Logger) mailer.SMTPConfig {
	retries := cfg.SMTP.Retries
	if retries == 0 {
		retries = -1
	}
	helo := cfg.SMTP.HELO
	if helo == "" {
		if u, err := url.Parse(cfg.Site.URL); err == nil {
			helo = u.Hostname()
		}
	}
	return mailer.SMTPConfig{
		Host:        cfg.SMTP.Host,
		Port:        cfg.SMTP.Port,
		Username:    cfg.SMTP.Username,
		Password:    cfg.SMTP.Password,
		TLS:         cfg.SMTP.TLS,
		Concurrency: cfg.SMTP.Concurrency,
		Rate:        cfg.SMTP.Rate,
		Retries:     retries,
		Timeout:     cfg.SMTP.Timeout.D(),
		HELO:        helo,
		Logger:      logger,
	}
}

// newMailer returns the SMTP sender, or the outbox when no smtp.host is
// configured (outbox is then its folder).
func newMailer(cfg *config.Config, logger *slog.Logger) (m mailer.Sender, outbox string, err error) {
	if strings.TrimSpace(cfg.SMTP.Host) == "" {
		dir := cfg.Resolve(cfg.SMTP.Outbox)
		return mailer.NewOutbox(dir), dir, nil
	}
	m, err = mailer.NewSMTP(smtpConfig(cfg, logger))
	return m, "", err
}

// plan is what `digest send` and `digest preview` would work on now: the
// unfinished digests, resumed first, and the publications a new digest
// would take.
type plan struct {
	unfinished []store.Digest // oldest first
	items      []store.DigestItem
	known      []string
}

// makePlan finds the unfinished digests and selects what is new.
func (s *digestSession) makePlan(ctx context.Context, env *cliEnv) (plan, error) {
	var p plan
	var err error
	if p.unfinished, err = s.st.Unfinished(ctx); err != nil {
		return p, err
	}
	if s.site == nil {
		if s.site, err = loadSite(ctx, env, s.cfg, s.now, false); err != nil {
			return p, err
		}
	}
	p.items, p.known, err = digest.Select(ctx, s.st, s.site.Publications, s.now, s.cfg.Digest.FirstSince.D(), s.cfg.Digest.MaxItems)
	if err != nil {
		return p, err
	}
	return p, warnBackdated(ctx, env, s.st, p.items, s.loc)
}

// warnBackdated warns, before anything is sent, when some of the new items
// are dated before the day of the last digest (in the site's time zone):
// back-dated additions, which are right to send, or publications whose URL
// changed (a new permalink pattern, a date in the permalink that was
// edited), which would go out a second time. Days, not instants: a
// publication dated the day of the digest without a time (midnight) was
// most likely published after it.
func warnBackdated(ctx context.Context, env *cliEnv, st store.Store, items []store.DigestItem, loc *time.Location) error {
	last, err := st.LastDigest(ctx)
	if err != nil || last == nil {
		return err
	}
	if loc == nil {
		loc = time.UTC
	}
	day := func(t time.Time) string { return t.In(loc).Format("2006-01-02") }
	lastDay := day(last.CreatedAt)
	n := 0
	for _, it := range items {
		if day(it.Date) < lastDay {
			n++
		}
	}
	if n > 0 {
		env.warn(fmt.Sprintf(env.t(
			"%d des %d publications nouvelles sont datées d'avant la dernière lettre (%s) : ajouts antidatés, ou publications dont l'URL a changé (motif de permalien, date dans l'URL) et qui partiraient une seconde fois ; un « id » dans leur en-tête garde une publication la même",
			"%d of the %d new publications are dated before the last digest (%s): back-dated additions, or publications whose URL changed (permalink pattern, a date in the URL) that would go out a second time; an \"id\" in their front matter keeps a publication the same"),
			n, len(items), lastDay))
	}
	return nil
}

// nextDigest is the digest to look at now: an unsaved one of the new items,
// else the oldest unfinished one (nil when there is neither). The boolean
// says whether it is unfinished.
func (s *digestSession) nextDigest(p plan) (*store.Digest, bool) {
	if len(p.items) > 0 {
		return &store.Digest{Status: store.DigestSending, CreatedAt: s.now, Items: p.items,
			Subject: s.renderer.Subject(s.cfg.Site.Language, len(p.items), s.now)}, false
	}
	if len(p.unfinished) > 0 {
		return &p.unfinished[0], true
	}
	return nil, false
}

func (env *cliEnv) nothingNew() string {
	return env.t("rien de nouveau depuis la dernière lettre : aucune lettre n'est créée, rien n'est envoyé",
		"nothing new since the last digest: no digest created, nothing sent")
}

func runDigestPreview(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "digest preview", "", "")
	var sf siteFlags
	sf.register(env, fs, true)
	out := fs.String("out", "digest-preview.html", env.t("fichier HTML écrit ; le texte va dans le .txt à côté", "HTML file written; the text goes to the .txt next to it"))
	lang := fs.String("lang", "", env.t("langue de la lettre : fr ou en (défaut : celle de l'abonné, ou du site)", "language of the digest: fr or en (default: the subscriber's, or the site's)"))
	email := fs.String("subscriber", "", env.t("prévisualise pour cet abonné (ses thèmes, sa langue, ses liens)", "preview for this subscriber (their topics, language and links)"))
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, 0); err != nil {
		return err
	}
	l, err := checkLang(env, *lang)
	if err != nil {
		return err
	}
	s, err := openDigest(ctx, env, &sf)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := s.makePlan(ctx, env)
	if err != nil {
		return err
	}
	d, unfinished := s.nextDigest(p)
	if d == nil {
		fmt.Fprintln(env.stdout, env.nothingNew())
		return nil
	}
	sub := store.Subscriber{Email: "subscriber@example.org", Lang: s.cfg.Site.Language, Status: store.StatusActive}
	if *email != "" {
		if sub, err = s.st.GetByEmail(ctx, *email); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf(env.t("aucun abonné %s", "no subscriber %s"), *email)
			}
			return err
		}
	}
	if l != "" {
		sub.Lang = l
	}
	html, text, subject, err := s.renderer.Preview(*d, sub)
	if errors.Is(err, digest.ErrNoItems) {
		fmt.Fprintf(env.stdout, env.t("aucune publication de la lettre ne correspond aux thèmes de %s (%s) : il ne la recevrait pas\n",
			"no publication of the digest matches the topics of %s (%s): they would not get it\n"), sub.Email, strings.Join(sub.Topics, ", "))
		return nil
	}
	if err != nil {
		return err
	}
	htmlPath, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	textPath := strings.TrimSuffix(htmlPath, filepath.Ext(htmlPath)) + ".txt"
	for path, body := range map[string]string{htmlPath: html, textPath: text} {
		if err := writeFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, body); return err }); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	which := env.t("nouvelle lettre, non enregistrée", "new digest, not saved")
	if unfinished {
		which = fmt.Sprintf(env.t("lettre n° %d, inachevée", "unfinished digest #%d"), d.ID)
	}
	fmt.Fprintf(env.stdout, env.t("%s (%s, %d publication(s)) : %s\n  %s\n  %s\n", "%s (%s, %d publication(s)): %s\n  %s\n  %s\n"),
		env.t("Aperçu", "Preview"), which, len(digest.ItemsFor(d.Items, sub.Topics)), subject, displayPath(htmlPath), displayPath(textPath))
	return nil
}

func runDigestStatus(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "digest status", "", "")
	var sf siteFlags
	sf.register(env, fs, true)
	limit := fs.Int("limit", 10, env.t("nombre de lettres montrées", "number of digests shown"))
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, 0); err != nil {
		return err
	}
	cfg, err := loadConfig(env, &sf, nil)
	if err != nil {
		return err
	}
	loc, err := cfg.Location()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	counts, err := st.CountByStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, env.t("Abonnés : %d actifs, %d en attente, %d désabonnés, %d en échec\n\n", "Subscribers: %d active, %d pending, %d unsubscribed, %d bounced\n\n"),
		counts[store.StatusActive], counts[store.StatusPending], counts[store.StatusUnsubscribed], counts[store.StatusBounced])
	list, err := st.ListDigests(ctx, max(*limit, 1))
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(env.stdout, env.t("Aucune lettre envoyée pour l'instant.", "No digest yet."))
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, env.t("N°\tDATE\tÉTAT\tPUBLICATIONS\tENVOYÉS\tÉCHECS\tEN ATTENTE\tREPORTÉS\tIGNORÉS\t", "ID\tDATE\tSTATE\tITEMS\tSENT\tFAILED\tPENDING\tDEFERRED\tSKIPPED\t"))
	for _, d := range list {
		full, err := st.GetDigest(ctx, d.ID)
		if err != nil {
			return err
		}
		state := env.t("terminée", "done")
		if d.Status == store.DigestSending {
			state = env.t("inachevée", "unfinished")
		}
		c := d.Deliveries
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", d.ID, d.CreatedAt.In(loc).Format("2006-01-02 15:04"),
			state, len(full.Items), c.Sent, c.Failed, c.Pending, c.Deferred, c.Skipped)
	}
	return tw.Flush()
}

func runDigestSend(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "digest send", "", "")
	var sf siteFlags
	sf.register(env, fs, true)
	dryRun := fs.Bool("dry-run", false, env.t("montre qui recevrait quoi, sans rien envoyer ni enregistrer", "show who would get what, sending and recording nothing"))
	to := fs.String("to", "", env.t("envoie une copie de test à cette adresse seulement (rien n'est enregistré)", "send one test copy to this address only (nothing is recorded)"))
	testLang := fs.String("lang", "", env.t("langue de la copie de test (fr ou en ; par défaut celle de l'abonné, sinon du site)", "language of the test copy (fr or en; default: the subscriber's, else the site's)"))
	yes := fs.Bool("yes", false, env.t("envoie sans demander de confirmation (obligatoire hors d'un terminal)", "send without asking for confirmation (required when not on a terminal)"))
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, 0); err != nil {
		return err
	}
	if *testLang != "" && *to == "" {
		fmt.Fprintln(env.stderr, env.t("--lang ne sert qu'avec --to", "--lang only goes with --to"))
		return errUsage
	}
	if *dryRun && *to != "" {
		fmt.Fprintln(env.stderr, env.t("--dry-run et --to s'excluent", "--dry-run and --to cannot be combined"))
		return errUsage
	}
	s, err := openDigest(ctx, env, &sf)
	if err != nil {
		return err
	}
	defer s.Close()
	if *to != "" {
		return s.sendTest(ctx, env, *to, *testLang)
	}
	p, err := s.makePlan(ctx, env)
	if err != nil {
		return err
	}
	if *dryRun {
		return s.dryRun(ctx, env, p)
	}
	if len(p.unfinished) == 0 && len(p.items) == 0 {
		fmt.Fprintln(env.stdout, env.nothingNew())
		return nil
	}
	counts, err := s.st.CountByStatus(ctx)
	if err != nil {
		return err
	}
	active := counts[store.StatusActive]
	if len(p.unfinished) == 0 && active == 0 {
		fmt.Fprintf(env.stdout, env.t("%d nouvelle(s) publication(s) mais aucun abonné actif : aucune lettre n'est créée\n",
			"%d new publication(s) but no active subscriber: no digest created\n"), len(p.items))
		return nil
	}
	if digestFrom(s.cfg) == "" {
		return errors.New(env.t("digest.from (BULLETIN_DIGEST_FROM) n'est pas configuré : l'expéditeur des courriels est inconnu",
			"digest.from (BULLETIN_DIGEST_FROM) is not set: the sender of the emails is unknown"))
	}

	// Say what will happen, and ask unless --yes.
	for _, u := range p.unfinished {
		fmt.Fprintf(env.stdout, env.t("La lettre n° %d (%s) est inachevée : %d envoi(s) en attente sur %d, dont %d différé(s) après un échec temporaire ; elle est reprise d'abord.\n",
			"Digest #%d (%s) is unfinished: %d of %d delivery(ies) pending, %d of them deferred after a temporary failure; resuming it first.\n"),
			u.ID, u.CreatedAt.In(s.loc).Format("2006-01-02 15:04"), u.Deliveries.Pending, u.Deliveries.Total(), u.Deliveries.Deferred)
	}
	if len(p.items) > 0 {
		fmt.Fprintf(env.stdout, env.t("Nouvelle lettre : %d publication(s) pour %d abonné(s) actif(s).\n",
			"New digest: %d publication(s) to %d active subscriber(s).\n"), len(p.items), active)
	}
	if !*yes {
		if !env.isTerminal {
			return errors.New(env.t("pas de terminal pour confirmer : relancez avec --yes pour envoyer",
				"no terminal to confirm on: run again with --yes to send"))
		}
		fmt.Fprint(env.stdout, env.t("Envoyer ? [o/N] ", "Send? [y/N] "))
		answer, _ := bufio.NewReader(env.stdin).ReadString('\n')
		switch strings.ToLower(strings.TrimSpace(answer)) {
		case "o", "oui", "y", "yes":
		default:
			fmt.Fprintln(env.stdout, env.t("Annulé : rien n'est envoyé.", "Cancelled: nothing sent."))
			return exitError{code: 1}
		}
	}

	if _, set := env.getenv("GOGC"); !set {
		defer debug.SetGCPercent(debug.SetGCPercent(sendGCPercent))
	}
	logger := sendLogger(env)
	m, outbox, err := newMailer(s.cfg, logger)
	if err != nil {
		return err
	}
	defer m.Close()
	if outbox != "" {
		fmt.Fprintf(env.stdout, env.t("smtp.host n'est pas configuré : les courriels sont écrits en .eml dans %s\n",
			"smtp.host is not set: the emails are written as .eml files to %s\n"), displayPath(outbox))
	}
	sender := &digest.Sender{
		Store: s.st, Mailer: m, Renderer: s.renderer,
		Concurrency: s.cfg.SMTP.Concurrency, BounceAfter: s.cfg.SMTP.BounceAfter,
		Logger: logger, Holder: "bulletin digest send",
	}

	// Each unfinished digest first, oldest first. One left with only
	// deferred deliveries does not hold back the new digest; any error
	// (an SMTP outage, Ctrl-C) stops here, before it is created.
	for _, u := range p.unfinished {
		if err := s.send(ctx, env, sender, u.ID, outbox); err != nil {
			return err
		}
	}
	if len(p.unfinished) > 0 && len(p.items) == 0 {
		fmt.Fprintln(env.stdout, env.t("Rien d'autre de nouveau.", "Nothing else is new."))
		return nil
	}
	if counts, err = s.st.CountByStatus(ctx); err != nil {
		return err
	} else if counts[store.StatusActive] == 0 {
		fmt.Fprintln(env.stdout, env.t("Aucun abonné actif : aucune nouvelle lettre n'est créée.", "No active subscriber: no new digest created."))
		return nil
	}
	subject := s.renderer.Subject(s.cfg.Site.Language, len(p.items), s.now)
	d, err := s.st.CreateDigestWithKnown(ctx, subject, p.items, p.known, s.now)
	var unfinished *store.UnfinishedError
	if errors.As(err, &unfinished) {
		return fmt.Errorf(env.t("un autre envoi a commencé entre-temps (la lettre n° %d est en cours) ; réessayez quand il aura fini",
			"another send started meanwhile (digest #%d is sending); try again when it is over"), unfinished.DigestID)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, env.t("Lettre n° %d créée : %d publication(s), %d destinataire(s).\n", "Digest #%d created: %d publication(s), %d recipient(s).\n"),
		d.ID, len(d.Items), d.Deliveries.Pending)
	return s.send(ctx, env, sender, d.ID, outbox)
}

// sendGCPercent is the garbage collector's target during a send. Each
// message allocates some 40 KB (bodies, MIME encoding) over a live heap of
// a few MB, so the default (100) collects every few hundred messages and
// costs about a sixth of the sender's CPU; 400 saves most of it for about
// 12 MB more memory, whatever the number of subscribers (see bench/send.sh).
const sendGCPercent = 400

// send runs the sender on one digest with a progress display and reports
// the outcome. Deliveries deferred after temporary failures are reported
// but are no error: the next send tries them again.
func (s *digestSession) send(ctx context.Context, env *cliEnv, sender *digest.Sender, id int64, outbox string) error {
	sender.Progress = progressReporter(env, sender.Logger)
	res, err := sender.Send(ctx, id)
	var locked *store.LockedError
	if errors.As(err, &locked) {
		return fmt.Errorf(env.t("un autre envoi est en cours : %q (pid %d sur %s) depuis %s, dernier signe de vie %s ; réessayez quand il aura fini",
			"another send is in progress: %q (pid %d on %s) since %s, last heartbeat %s; try again when it is over"),
			locked.Holder, locked.PID, locked.Hostname, locked.Since.In(s.loc).Format(time.RFC3339), locked.Heartbeat.In(s.loc).Format(time.RFC3339))
	}
	rate := 0.0
	if res.Elapsed > 0 {
		rate = float64(res.Sent+res.Failed+res.Skipped) / res.Elapsed.Seconds()
	}
	fmt.Fprintf(env.stdout, env.t("Lettre n° %d : %d envoyé(s), %d échec(s), %d ignoré(s) (thèmes), %d adresse(s) passée(s) en échec définitif ; %d en attente ; %s (%.0f/s)\n",
		"Digest #%d: %d sent, %d failed, %d skipped (topics), %d address(es) now bounced; %d pending; %s (%.0f/s)\n"),
		id, res.Sent, res.Failed, res.Skipped, res.Bounced, res.Pending, res.Elapsed.Round(time.Millisecond), rate)
	if outbox != "" && res.Sent > 0 {
		fmt.Fprintf(env.stdout, env.t("Courriels écrits dans %s\n", "Emails written to %s\n"), displayPath(outbox))
	}
	switch {
	case err == nil && res.Finished:
		return nil
	case res.Interrupted:
		fmt.Fprintf(env.stderr, env.t("Interrompu : les %d envois en attente partiront au prochain « bulletin digest send ».\n",
			"Interrupted: the %d pending deliveries go out with the next \"bulletin digest send\".\n"), res.Pending)
		return exitError{code: 130}
	case err != nil:
		return fmt.Errorf(env.t("envoi arrêté (%d en attente, reprise au prochain « digest send ») : %w",
			"sending stopped (%d pending, resumed by the next \"digest send\"): %w"), res.Pending, err)
	case res.Pending > 0:
		fmt.Fprintf(env.stderr, env.t("La lettre n° %d n'est pas terminée : %d envoi(s) en attente après un échec temporaire ; le prochain « bulletin digest send » les retente (échec au bout de %d envois).\n",
			"Digest #%d is not finished: %d delivery(ies) pending after a temporary failure; the next \"bulletin digest send\" tries them again (failed after %d sends).\n"),
			id, res.Pending, digest.DefaultMaxAttempts)
	}
	return nil
}

// sendLogger is the logger of a send: warnings only on a terminal (the
// progress bar shows the rest), every notice otherwise.
func sendLogger(env *cliEnv) *slog.Logger {
	if env.isTerminal {
		return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return newLogger(env)
}

// progressLogEvery is the period of progress lines when not on a terminal.
const progressLogEvery = 5 * time.Second

// progressReporter shows a send's progress: a bar on a terminal, a log line
// every few seconds otherwise.
func progressReporter(env *cliEnv, logger *slog.Logger) func(digest.Progress) {
	if !env.isTerminal {
		var last time.Time
		return func(p digest.Progress) {
			if !p.Done && time.Since(last) < progressLogEvery {
				return
			}
			last = time.Now()
			eta := time.Duration(0)
			if r := p.Rate(); r > 0 {
				eta = time.Duration(float64(p.Pending) / r * float64(time.Second)).Round(time.Second)
			}
			logger.Info("digest: progress", "digest", p.DigestID, "sent", p.Sent, "failed", p.Failed,
				"skipped", p.Skipped, "remaining", p.Pending, "rate", fmt.Sprintf("%.0f/s", p.Rate()), "eta", eta.String())
		}
	}
	var bar *progressbar.ProgressBar
	return func(p digest.Progress) {
		if bar == nil {
			bar = progressbar.NewOptions(p.ToProcess,
				progressbar.OptionSetWriter(env.stderr),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("msg"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetWidth(25),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(env.stderr) }),
			)
		}
		bar.Describe(fmt.Sprintf(env.t("envoyés %d · échecs %d · restants %d", "sent %d · failed %d · remaining %d"), p.Sent, p.Failed, p.Pending))
		_ = bar.Set(p.Processed)
		if p.Done && !bar.IsFinished() {
			_ = bar.Exit()
			fmt.Fprintln(env.stderr)
		}
	}
}

// sendTest sends one copy of the digest that would go out now to addr,
// with every item (no topic filter), and records nothing.
func (s *digestSession) sendTest(ctx context.Context, env *cliEnv, addr, lang string) error {
	email, err := store.NormalizeEmail(addr)
	if err != nil {
		return fmt.Errorf("--to: %s", strings.TrimPrefix(err.Error(), "store: "))
	}
	if lang != "" {
		if lang, err = checkLang(env, lang); err != nil {
			return err
		}
	}
	// A subscriber's own address gets their links (unsubscribe,
	// preferences), which then work; any other address gets links that
	// only show what they look like. Every item is shown either way.
	sub := store.Subscriber{Email: email, Lang: s.cfg.Site.Language, Status: store.StatusActive}
	known, err := s.st.GetByEmail(ctx, email)
	switch {
	case err == nil:
		sub.ID, sub.Lang = known.ID, known.Lang
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if lang != "" {
		sub.Lang = lang
	}
	if digestFrom(s.cfg) == "" {
		return errors.New(env.t("digest.from (BULLETIN_DIGEST_FROM) n'est pas configuré", "digest.from (BULLETIN_DIGEST_FROM) is not set"))
	}
	p, err := s.makePlan(ctx, env)
	if err != nil {
		return err
	}
	d, _ := s.nextDigest(p)
	if d == nil {
		// Nothing new: a copy of the last digest still shows what a
		// template or configuration change does.
		if d, err = s.st.LastDigest(ctx); err != nil {
			return err
		}
		if d == nil {
			fmt.Fprintln(env.stdout, env.t("aucune lettre encore, et rien de nouveau : pas de copie de test à envoyer",
				"no digest yet and nothing new: no test copy to send"))
			return nil
		}
		fmt.Fprintf(env.stdout, env.t("Rien de nouveau : copie de test de la dernière lettre (n° %d).\n",
			"Nothing new: test copy of the last digest (#%d).\n"), d.ID)
	}
	m, ok, err := s.renderer.Message(*d, sub)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("no item to send")
	}
	// A test copy gets its own Message-ID: mail clients hide a second
	// message with an id they already have.
	nonce := make([]byte, 6)
	_, _ = rand.Read(nonce)
	_, host, _ := strings.Cut(digest.MessageID(s.cfg.Site.URL, *d, 0), "@")
	m.MessageID = fmt.Sprintf("bulletin.test.%d.%s@%s", s.now.Unix(), hex.EncodeToString(nonce), host)
	m.Subject = "[TEST] " + m.Subject

	mlr, outbox, err := newMailer(s.cfg, sendLogger(env))
	if err != nil {
		return err
	}
	defer mlr.Close()
	if err := mlr.Send(ctx, m); err != nil {
		return err
	}
	if outbox != "" {
		fmt.Fprintf(env.stdout, env.t("Copie de test écrite dans %s\n", "Test copy written to %s\n"),
			displayPath(filepath.Join(outbox, mailer.FileName(m.MessageID))))
		return nil
	}
	fmt.Fprintf(env.stdout, env.t("Copie de test envoyée à %s : %s (rien n'est enregistré)\n", "Test copy sent to %s: %s (nothing recorded)\n"), email, m.Subject)
	if sub.ID == 0 {
		fmt.Fprintln(env.stdout, env.t("Cette adresse n'est pas abonnée : les liens de désinscription et de préférences de la copie ne mènent nulle part.",
			"This address is not a subscriber: the copy's unsubscribe and preferences links lead nowhere."))
	}
	return nil
}

// dryRun prints who would get what, one line per recipient, without
// sending or recording anything.
func (s *digestSession) dryRun(ctx context.Context, env *cliEnv, p plan) error {
	if len(p.unfinished) == 0 && len(p.items) == 0 {
		fmt.Fprintln(env.stdout, env.nothingNew())
		return nil
	}
	w := bufio.NewWriter(env.stdout)
	defer w.Flush()
	line := func(sub store.Subscriber, items []store.DigestItem, would, skipped *int) {
		n := len(digest.ItemsFor(items, sub.Topics))
		if n == 0 {
			*skipped++
			fmt.Fprintf(w, "%s\t%s\n", sub.Email, env.t("ignoré (aucune publication dans ses thèmes)", "skipped (no publication in their topics)"))
			return
		}
		*would++
		fmt.Fprintf(w, "%s\t%d %s\n", sub.Email, n, env.t("publication(s)", "publication(s)"))
	}
	for _, d := range p.unfinished {
		fmt.Fprintf(w, env.t("# lettre n° %d (inachevée) : %d publication(s), %d envoi(s) en attente\n",
			"# digest #%d (unfinished): %d publication(s), %d delivery(ies) pending\n"), d.ID, len(d.Items), d.Deliveries.Pending)
		would, skipped := 0, 0
		for after := int64(0); ; {
			batch, err := s.st.PendingDeliveries(ctx, d.ID, after, 1000)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				break
			}
			for _, r := range batch {
				line(r.Subscriber, d.Items, &would, &skipped)
			}
			after = batch[len(batch)-1].ID
		}
		fmt.Fprintf(w, env.t("# %d recevraient la lettre n° %d, %d seraient ignorés\n", "# %d would get digest #%d, %d would be skipped\n"), would, d.ID, skipped)
	}
	if len(p.items) > 0 {
		fmt.Fprintf(w, env.t("# nouvelle lettre : %d publication(s)\n", "# new digest: %d publication(s)\n"), len(p.items))
		for _, it := range p.items {
			fmt.Fprintf(w, "#   %s  %s\n", it.Date.In(s.loc).Format("2006-01-02"), it.Title)
		}
		would, skipped := 0, 0
		for sub, err := range s.st.ListByStatus(ctx, store.StatusActive) {
			if err != nil {
				return err
			}
			line(sub, p.items, &would, &skipped)
		}
		fmt.Fprintf(w, env.t("# %d recevraient la nouvelle lettre, %d seraient ignorés\n", "# %d would get the new digest, %d would be skipped\n"), would, skipped)
	}
	fmt.Fprintln(w, env.t("# essai à blanc : rien n'a été envoyé ni enregistré", "# dry run: nothing was sent or recorded"))
	return nil
}
