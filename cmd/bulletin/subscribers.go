package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/ecoresponsable/bulletin/config"
	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
)

// subcommand is one verb of a command with verbs (subscribers, digest).
type subcommand struct {
	name    string
	summary [2]string // French, English
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// runSubcommand dispatches args to one of subs, or prints their list.
func runSubcommand(ctx context.Context, env *cliEnv, command string, subs []subcommand, args []string) error {
	if len(args) > 0 {
		for _, s := range subs {
			if s.name == args[0] {
				return s.run(ctx, env, args[1:])
			}
		}
	}
	w := env.stderr
	help := len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help")
	if help {
		w = env.stdout
	} else if len(args) > 0 {
		fmt.Fprintf(env.stderr, env.t("bulletin %s : sous-commande inconnue %q\n\n", "bulletin %s: unknown subcommand %q\n\n"), command, args[0])
	}
	fmt.Fprintf(w, env.t("Utilisation : bulletin %s <sous-commande> [options]\n\n", "Usage: bulletin %s <subcommand> [flags]\n\n"), command)
	for _, s := range subs {
		fmt.Fprintf(w, "  %-10s %s\n", s.name, env.pick(s.summary))
	}
	fmt.Fprintf(w, "\n"+env.t("« bulletin %s <sous-commande> --help » détaille ses options.\n", "\"bulletin %s <subcommand> --help\" lists its flags.\n"), command)
	if help {
		return nil
	}
	return errUsage
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments ("add EMAIL --name X") and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// wantArgs checks the number of positional arguments, printing the usage
// when it is wrong.
func wantArgs(fs *flag.FlagSet, args []string, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		fs.Usage()
		return errUsage
	}
	return nil
}

// openStore opens the database named by store.database.
func openStore(ctx context.Context, cfg *config.Config) (*store.SQLite, error) {
	path := cfg.Resolve(cfg.Store.Database)
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store.database %s: %w", path, err)
		}
	}
	return store.OpenSQLite(ctx, path)
}

// withStore loads the configuration, opens the store and runs fn with them.
func withStore(ctx context.Context, env *cliEnv, sf *siteFlags, fn func(cfg *config.Config, st *store.SQLite) error) error {
	cfg, err := loadConfig(env, sf, nil)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(cfg, st)
}

func runSubscribers(ctx context.Context, env *cliEnv, args []string) error {
	return runSubcommand(ctx, env, "subscribers", subscribersSubcommands(), args)
}

// subscribersSubcommands are the verbs of "bulletin subscribers".
func subscribersSubcommands() []subcommand {
	return []subcommand{
		{"import", [2]string{"importe ou met à jour les abonnés d'un fichier CSV", "import or update subscribers from a CSV file"}, runSubscribersImport},
		{"add", [2]string{"ajoute un abonné actif", "add an active subscriber"}, runSubscribersAdd},
		{"remove", [2]string{"supprime un abonné", "remove a subscriber"}, runSubscribersRemove},
		{"list", [2]string{"liste les abonnés", "list subscribers"}, runSubscribersList},
		{"export", [2]string{"exporte les abonnés en CSV", "export subscribers as CSV"}, runSubscribersExport},
	}
}

// The CSV columns of import and export.
const (
	colEmail  = "email"
	colName   = "name"
	colLang   = "lang"
	colTopics = "topics"
	colStatus = "status"
)

// importStats counts what an import did.
type importStats struct {
	rows                                     int
	created, updated, unchanged              int
	refusedUnsubscribed, refusedBounced, bad int
	reported                                 []string // "FILE:LINE: reason", in file order
}

func runSubscribersImport(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "subscribers import", " FICHIER.csv", " FILE.csv")
	var sf siteFlags
	sf.register(env, fs, false)
	fs.Usage = usageWithNote(env, fs,
		"Colonnes : email (obligatoire), name, lang (fr ou en), topics (thèmes séparés par « ; », vide = tout).",
		"Columns: email (required), name, lang (fr or en), topics (tags separated by \";\", empty = everything).")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, 1); err != nil {
		return err
	}
	return withStore(ctx, env, &sf, func(_ *config.Config, st *store.SQLite) error {
		stats, err := importCSV(ctx, st, pos[0], time.Now())
		for _, r := range stats.reported {
			fmt.Fprintln(env.stderr, r)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, env.t(
			"%s : %d lignes : %d créés, %d mis à jour, %d inchangés, %d désabonnés non réactivés, %d en échec d'envoi non réactivés, %d invalides\n",
			"%s: %d rows: %d created, %d updated, %d unchanged, %d unsubscribed not reactivated, %d bounced not reactivated, %d invalid\n"),
			pos[0], stats.rows, stats.created, stats.updated, stats.unchanged,
			stats.refusedUnsubscribed, stats.refusedBounced, stats.bad)
		if stats.bad > 0 {
			fmt.Fprintf(env.stderr, env.t("%d ligne(s) invalide(s) ignorée(s) ; les autres sont importées\n",
				"%d invalid row(s) skipped; the others were imported\n"), stats.bad)
			return exitError{code: 1}
		}
		return nil
	})
}

// importCSV applies every valid row of the CSV file at path with
// store.Upsert. Problems are collected in stats.reported as "FILE:LINE:
// reason"; the error is for what stops the import (unreadable file, no
// email column, a database failure).
func importCSV(ctx context.Context, st store.Store, path string, now time.Time) (importStats, error) {
	var stats importStats
	f, err := os.Open(path)
	if err != nil {
		return stats, err
	}
	defer f.Close()
	report := func(line int, format string, args ...any) {
		stats.reported = append(stats.reported, fmt.Sprintf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}

	br := bufio.NewReader(f)
	r := csv.NewReader(br)
	// Spreadsheets set to French write ";" between cells: a header line
	// with semicolons and no comma is read that way.
	// Topics inside a cell are then separated by commas.
	topicSep := ";"
	if first, _ := br.Peek(4096); !bytes.Contains(firstLine(first), []byte(",")) && bytes.Contains(firstLine(first), []byte(";")) {
		r.Comma, topicSep = ';', ","
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return stats, fmt.Errorf("%s: empty file, want a header row (email,name,lang,topics)", path)
	}
	if err != nil {
		return stats, fmt.Errorf("%s: header: %w", path, err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case colEmail, colName, colLang, colTopics, colStatus:
			if _, dup := cols[h]; dup {
				return stats, fmt.Errorf("%s:1: column %q appears twice", path, h)
			}
			cols[h] = i
		default:
			report(1, "unknown column %q ignored", h)
		}
	}
	if _, ok := cols[colEmail]; !ok {
		return stats, fmt.Errorf("%s:1: no %q column in the header row %q", path, colEmail, strings.Join(header, ","))
	}
	field := func(rec []string, col string) string {
		if i, ok := cols[col]; ok && i < len(rec) {
			return store.CSVUnsafe(strings.TrimSpace(rec[i]))
		}
		return ""
	}

	seen := map[string]int{} // normalised address → line
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			stats.rows++
			stats.bad++
			report(pe.StartLine, "%v", pe.Err)
			continue
		}
		if err != nil {
			return stats, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		if slices.ContainsFunc(rec, func(f string) bool { return !utf8.ValidString(f) }) {
			stats.rows++
			stats.bad++
			report(line, "not UTF-8 text (save the file as \"CSV UTF-8\")")
			continue
		}
		stats.rows++
		if len(rec) > len(header) {
			stats.bad++
			report(line, "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		email, err := store.NormalizeEmail(field(rec, colEmail))
		if err != nil {
			stats.bad++
			report(line, "%s", strings.TrimPrefix(err.Error(), "store: "))
			continue
		}
		lang := strings.ToLower(field(rec, colLang))
		if lang != "" && lang != "fr" && lang != "en" {
			stats.bad++
			report(line, "lang %q: want fr, en or nothing", lang)
			continue
		}
		if first, dup := seen[email]; dup {
			stats.bad++
			report(line, "%s already on line %d; skipped", email, first)
			continue
		}
		seen[email] = line
		res, err := st.Upsert(ctx, store.NewSubscriber{
			Email: email, Name: field(rec, colName), Lang: lang, Topics: splitTopics(field(rec, colTopics), topicSep),
		}, now)
		if errors.Is(err, store.ErrInvalidName) {
			stats.bad++
			report(line, "%s: name longer than %d characters; skipped", email, store.MaxNameLength)
			continue
		}
		if err != nil {
			return stats, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		switch res {
		case store.UpsertCreated:
			stats.created++
		case store.UpsertUpdated:
			stats.updated++
		case store.UpsertUnchanged:
			stats.unchanged++
		case store.UpsertRefusedUnsubscribed:
			stats.refusedUnsubscribed++
			report(line, "%s unsubscribed: not reactivated (only their own confirmation can)", email)
		case store.UpsertRefusedBounced:
			stats.refusedBounced++
			report(line, "%s is bounced: not reactivated", email)
		}
	}
	return stats, nil
}

// firstLine is b up to its first line break.
func firstLine(b []byte) []byte {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		return b[:i]
	}
	return b
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// splitTopics splits a list of topics on sep, trimming and dropping empty ones.
func splitTopics(s, sep string) []string {
	var out []string
	for _, t := range strings.Split(s, sep) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// checkLang accepts fr, en or nothing.
func checkLang(env *cliEnv, lang string) (string, error) {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang != "" && lang != "fr" && lang != "en" {
		return "", fmt.Errorf("--lang %q: %s", lang, env.t("fr ou en attendu", "want fr or en"))
	}
	return lang, nil
}

func runSubscribersAdd(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "subscribers add", " ADRESSE", " EMAIL")
	var sf siteFlags
	sf.register(env, fs, false)
	name := fs.String("name", "", env.t("nom de l'abonné", "the subscriber's name"))
	lang := fs.String("lang", "", env.t("langue des courriels : fr ou en (défaut : celle du site)", "language of the emails: fr or en (default: the site's)"))
	topics := fs.String("topics", "", env.t("thèmes suivis, séparés par des virgules (défaut : tous)", "topics followed, comma-separated (default: all)"))
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, 1); err != nil {
		return err
	}
	l, err := checkLang(env, *lang)
	if err != nil {
		return err
	}
	return withStore(ctx, env, &sf, func(cfg *config.Config, st *store.SQLite) error {
		sub, err := st.Add(ctx, store.NewSubscriber{Email: pos[0], Name: *name, Lang: l, Topics: splitTopics(*topics, ",")}, time.Now())
		switch {
		case errors.Is(err, store.ErrExists):
			cur, gerr := st.GetByEmail(ctx, pos[0])
			if gerr != nil {
				return err
			}
			return fmt.Errorf(env.t("%s est déjà abonné (statut %s)", "%s is already a subscriber (status %s)"), cur.Email, cur.Status)
		case errors.Is(err, store.ErrInvalidEmail):
			return errors.New(strings.TrimPrefix(err.Error(), "store: "))
		case errors.Is(err, store.ErrInvalidName):
			return fmt.Errorf(env.t("--name : au plus %d caractères", "--name: at most %d characters"), store.MaxNameLength)
		case err != nil:
			return err
		}
		fmt.Fprintf(env.stdout, env.t("%s ajouté (n° %d)\n", "%s added (id %d)\n"), sub.Email, sub.ID)
		warnUnknownTopics(ctx, env, cfg, sub.Topics)
		return nil
	})
}

// warnUnknownTopics warns about topics that no published publication has
// as a tag (compared by slug), most likely misspelt: the subscriber would
// get nothing from them. Without a readable content folder, it says
// nothing.
func warnUnknownTopics(ctx context.Context, env *cliEnv, cfg *config.Config, topics []string) {
	if len(topics) == 0 {
		return
	}
	dir, opts, err := siteOptions(cfg, time.Now())
	if err != nil {
		return
	}
	site, err := publication.Load(ctx, dir, opts)
	if err != nil {
		return
	}
	known := map[string]bool{}
	tags := site.Tags()
	for _, t := range tags {
		known[publication.Slug(t)] = true
	}
	for _, topic := range topics {
		if !known[publication.Slug(topic)] {
			env.warn(fmt.Sprintf(env.t("le thème %q n’est l’étiquette d’aucune publication du site (%s)",
				"topic %q is the tag of no publication of the site (%s)"), topic, strings.Join(tags, ", ")))
		}
	}
}

func runSubscribersRemove(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "subscribers remove", " ADRESSE", " EMAIL")
	var sf siteFlags
	sf.register(env, fs, false)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, 1); err != nil {
		return err
	}
	return withStore(ctx, env, &sf, func(_ *config.Config, st *store.SQLite) error {
		sub, err := st.GetByEmail(ctx, pos[0])
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf(env.t("aucun abonné %s", "no subscriber %s"), strings.TrimSpace(pos[0]))
		case errors.Is(err, store.ErrInvalidEmail):
			return errors.New(strings.TrimPrefix(err.Error(), "store: "))
		case err != nil:
			return err
		}
		if err := st.Remove(ctx, sub.ID); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, env.t("%s supprimé\n", "%s removed\n"), sub.Email)
		return nil
	})
}

func runSubscribersList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "subscribers list", "", "")
	var sf siteFlags
	sf.register(env, fs, false)
	status := fs.String("status", "", env.t("seulement ce statut : pending, active, unsubscribed ou bounced", "only this status: pending, active, unsubscribed or bounced"))
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, 0); err != nil {
		return err
	}
	if *status != "" && !store.Status(*status).Valid() {
		return fmt.Errorf("--status %q: %s", *status, env.t("pending, active, unsubscribed ou bounced attendu", "want pending, active, unsubscribed or bounced"))
	}
	return withStore(ctx, env, &sf, func(_ *config.Config, st *store.SQLite) error {
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, env.t("ADRESSE\tNOM\tLANGUE\tTHÈMES\tSTATUT", "EMAIL\tNAME\tLANG\tTOPICS\tSTATUS"))
		n := 0
		for sub, err := range st.ListByStatus(ctx, store.Status(*status)) {
			if err != nil {
				return err
			}
			n++
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sub.Email, sub.Name, sub.Lang, strings.Join(sub.Topics, ","), sub.Status)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, env.t("%d abonné(s)\n", "%d subscriber(s)\n"), n)
		return nil
	})
}

func runSubscribersExport(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "subscribers export", " [FICHIER.csv]", " [FILE.csv]")
	var sf siteFlags
	sf.register(env, fs, false)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, 1); err != nil {
		return err
	}
	return withStore(ctx, env, &sf, func(_ *config.Config, st *store.SQLite) error {
		n := 0
		write := func(w io.Writer) error {
			cw := csv.NewWriter(w)
			if err := cw.Write([]string{colEmail, colName, colLang, colTopics, colStatus}); err != nil {
				return err
			}
			for sub, err := range st.Export(ctx) {
				if err != nil {
					return err
				}
				n++
				if err := cw.Write(store.CSVRow(sub)); err != nil {
					return err
				}
			}
			cw.Flush()
			return cw.Error()
		}
		if len(pos) == 0 {
			return write(env.stdout)
		}
		if err := writeFileAtomic(pos[0], write); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		fmt.Fprintf(env.stderr, env.t("%d abonné(s) exporté(s) dans %s\n", "%d subscriber(s) exported to %s\n"), n, pos[0])
		return nil
	})
}

// writeFileAtomic writes a file through a temporary file in the same folder
// renamed over it, so that a failure never leaves a half-written file.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// usageWithNote returns a Usage that adds a note under the synopsis.
func usageWithNote(env *cliEnv, fs *flag.FlagSet, fr, en string) func() {
	base := fs.Usage
	return func() {
		base()
		fmt.Fprintf(fs.Output(), "\n%s\n", env.t(fr, en))
	}
}
