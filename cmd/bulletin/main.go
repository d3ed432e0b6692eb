// Command bulletin turns a folder of Markdown publications into RSS, Atom
// and JSON feeds and into an email digest for subscribers.
//
// One command per verb: build, check, digest, subscribers, serve, version.
// Run "bulletin help" or "bulletin <command> --help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// version is the release of bulletin; set with -ldflags "-X main.version=…".
var version = "0.1.0"

// command is one verb of the command line.
type command struct {
	name    string
	summary [2]string // French, English
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv carries what every command writes to and reads from, so that tests
// can run commands in-process.
type cliEnv struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) (string, bool)
	// environ lists the environment as "NAME=value" pairs, to warn about
	// BULLETIN_* variables that name no key; nil skips that check.
	environ func() []string
	lang    string // "fr" or "en": the language of messages
	// isTerminal reports whether stdin and stdout are a terminal.
	isTerminal bool
	// warnings counts the warnings printed with warn (configuration,
	// labels), for the summary of check: content diagnostics are counted
	// by the publication.Site.
	warnings int
}

// warn prints one warning that is not about a content file on stderr.
func (e *cliEnv) warn(msg string) {
	e.warnings++
	fmt.Fprintf(e.stderr, "%s%s\n", e.t("attention : ", "warning: "), msg)
}

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func commands() []command {
	return []command{
		{"build", [2]string{"écrit les flux RSS, Atom et JSON du site", "write the site's RSS, Atom and JSON feeds"}, runBuild},
		{"check", [2]string{"signale chaque problème du contenu, sans rien écrire", "report every problem in the content, writing nothing"}, runCheck},
		{"digest", [2]string{"prévisualise, envoie et suit la lettre d'information", "preview, send and follow the email digest"}, runDigest},
		{"subscribers", [2]string{"importe, ajoute, liste et exporte les abonnés", "import, add, list and export subscribers"}, runSubscribers},
		{"serve", [2]string{"sert les flux, les pages d'abonnement et l'envoi programmé", "serve feeds, subscription pages and scheduled sends"}, runServe},
		{"version", [2]string{"affiche la version", "print the version"}, runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &cliEnv{
		stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin,
		getenv:     os.LookupEnv,
		environ:    os.Environ,
		lang:       messageLang(os.LookupEnv),
		isTerminal: isTerminal(os.Stdin) && isTerminal(os.Stdout),
	}
	// Packages that log without being handed a logger use the default one:
	// make it the same as the commands' (text on a terminal, JSON else).
	slog.SetDefault(newLogger(&cliEnv{stderr: os.Stderr, isTerminal: isTerminal(os.Stderr)}))
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		var ee exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ee):
			return ee.code
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(env.stderr, "bulletin %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(env.stderr, env.t("bulletin : commande inconnue %q (voir « bulletin help »)\n", "bulletin: unknown command %q (see \"bulletin help\")\n"), args[0])
	return 2
}

// errUsage reports a command line that was already explained on stderr.
var errUsage = errors.New("usage")

func usage(env *cliEnv) {
	w := env.stdout
	fmt.Fprintln(w, env.t("bulletin — flux et lettre d'information pour un site de publications", "bulletin — feeds and email digest for a publications site"))
	fmt.Fprintln(w)
	fmt.Fprintln(w, env.t("Utilisation : bulletin <commande> [options]", "Usage: bulletin <command> [flags]"))
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, env.pick(c.summary))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, env.t("« bulletin <commande> --help » détaille les options d'une commande.", "\"bulletin <command> --help\" lists a command's flags."))
}

func runVersion(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "version", "", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "bulletin %s\n", version)
	return nil
}

// messageLang picks the language of CLI messages from BULLETIN_LANG, then
// LC_ALL, LC_MESSAGES and LANG: French when they say so, else English.
func messageLang(getenv func(string) (string, bool)) string {
	for _, k := range []string{"BULLETIN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, ok := getenv(k); ok && v != "" {
			if strings.HasPrefix(strings.ToLower(v), "fr") {
				return "fr"
			}
			return "en"
		}
	}
	return "en"
}

// t returns the French or the English text, in the user's language.
func (e *cliEnv) t(fr, en string) string {
	if e.lang == "fr" {
		return fr
	}
	return en
}

func (e *cliEnv) pick(s [2]string) string { return e.t(s[0], s[1]) }

// parseFlags parses a command's flags; a bad flag, already explained on
// stderr by the flag package, becomes errUsage (exit status 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// newFlagSet makes a flag set whose --help prints the command's synopsis.
func newFlagSet(env *cliEnv, name, synopsisFR, synopsisEN string) *flag.FlagSet {
	fs := flag.NewFlagSet("bulletin "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, env.t("Utilisation : bulletin %s [options]%s\n", "Usage: bulletin %s [flags]%s\n"), name, env.t(synopsisFR, synopsisEN))
		if summary, ok := commandSummary(name); ok {
			fmt.Fprintf(out, "\n%s.\n\n", capitalize(env.pick(summary)))
		}
		fmt.Fprintln(out, env.t("Options :", "Flags:"))
		fs.PrintDefaults()
	}
	return fs
}

// commandSummary returns the one-line summary of a command ("build") or
// of a subcommand ("digest send").
func commandSummary(name string) ([2]string, bool) {
	words := strings.Fields(name)
	if len(words) == 0 {
		return [2]string{}, false
	}
	var subs []subcommand
	for _, c := range commands() {
		if c.name != words[0] {
			continue
		}
		if len(words) == 1 {
			return c.summary, true
		}
		switch c.name {
		case "digest":
			subs = digestSubcommands()
		case "subscribers":
			subs = subscribersSubcommands()
		}
	}
	for _, s := range subs {
		if len(words) == 2 && s.name == words[1] {
			return s.summary, true
		}
	}
	return [2]string{}, false
}

// capitalize upper-cases the first letter of s ("écrit" → "Écrit").
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
