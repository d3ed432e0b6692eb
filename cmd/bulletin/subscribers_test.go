package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/store"
)

// cliCase is one in-process run of the command line.
type cliCase struct {
	env      map[string]string
	stdin    string
	terminal bool
	ctx      context.Context // nil: context.Background()
}

// run runs args and returns the exit status, stdout and stderr.
func (c cliCase) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &cliEnv{
		stdout: &out, stderr: &errb, stdin: strings.NewReader(c.stdin),
		getenv:     func(k string) (string, bool) { v, ok := c.env[k]; return v, ok },
		lang:       "en",
		isTerminal: c.terminal,
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	code := run(ctx, e, args)
	return code, out.String(), errb.String()
}

// tempConfig copies the sample configuration into a temporary folder, so
// that its database and outbox are created there, and returns its path.
func tempConfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../bulletin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bulletin.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// openConfigStore opens the database of the configuration at cfgPath.
func openConfigStore(t *testing.T, cfgPath string) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(filepath.Dir(cfgPath), "bulletin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSubscribersImport(t *testing.T) {
	cfg := tempConfig(t)
	dir := filepath.Dir(cfg)
	csvPath := writeFile(t, dir, "subs.csv", "\ufeffEmail,Name,Lang,Topics\n"+
		"alice@example.org,Alice,fr,\n"+ // line 2
		"  Bob@ÉCOLE.Fr ,Bob,EN,sobriete; podcast\n"+ // 3: trimmed, domain lower-cased and IDNA-encoded
		"not-an-address,X,fr,\n"+ // 4
		"carol@example.org,Carol,de,\n"+ // 5
		"alice@example.org,Alice again,fr,\n"+ // 6: duplicate
		"dave@example.org,\"Dave, \"\"D\"\"\",,reemploi\n"+ // 7
		"eve@example.org,Eve,fr,,extra\n"+ // 8: too many fields
		",,,\n"+ // 9: blank, ignored
		"frank@example,Frank,fr,\n") // 10: no dot in the domain
	c := cliCase{}
	code, stdout, stderr := c.run(t, "subscribers", "import", "--config", cfg, csvPath)
	if code != 1 {
		t.Errorf("import with invalid rows exited %d, want 1", code)
	}
	for _, want := range []string{
		csvPath + ":4: invalid email address",
		csvPath + ":5: lang \"de\"",
		csvPath + ":6: alice@example.org already on line 2",
		csvPath + ":8: 5 fields",
		csvPath + ":10: invalid email address",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, ":9:") {
		t.Errorf("a blank row was reported:\n%s", stderr)
	}
	if !strings.Contains(stdout, "8 rows: 3 created, 0 updated, 0 unchanged, 0 unsubscribed not reactivated, 0 bounced not reactivated, 5 invalid") {
		t.Errorf("summary: %q", stdout)
	}

	st := openConfigStore(t, cfg)
	ctx := context.Background()
	bob, err := st.GetByEmail(ctx, "Bob@xn--cole-9oa.fr")
	if err != nil {
		t.Fatalf("the IDNA-encoded address was not imported: %v", err)
	}
	if bob.Lang != "en" || strings.Join(bob.Topics, ",") != "podcast,sobriete" || bob.Status != store.StatusActive {
		t.Errorf("bob = %+v", bob)
	}
	if dave, err := st.GetByEmail(ctx, "dave@example.org"); err != nil || dave.Name != `Dave, "D"` || dave.Lang != "" {
		t.Errorf("dave = %+v, %v", dave, err)
	}

	// Alice unsubscribes; importing the same file again changes nothing and
	// does not bring her back.
	alice, err := st.GetByEmail(ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetStatus(ctx, alice.ID, store.StatusUnsubscribed, time.Now()); err != nil {
		t.Fatal(err)
	}
	before := map[string]store.Subscriber{}
	for sub, err := range st.ListByStatus(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		before[sub.Email] = sub
	}
	_, stdout, stderr = c.run(t, "subscribers", "import", "--config", cfg, csvPath)
	if !strings.Contains(stdout, "0 created, 0 updated, 2 unchanged, 1 unsubscribed not reactivated") {
		t.Errorf("second import summary: %q", stdout)
	}
	if !strings.Contains(stderr, csvPath+":2: alice@example.org unsubscribed: not reactivated") {
		t.Errorf("the refused reactivation is not reported:\n%s", stderr)
	}
	for sub, err := range st.ListByStatus(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		if b := before[sub.Email]; !b.UpdatedAt.Equal(sub.UpdatedAt) || b.Status != sub.Status {
			t.Errorf("%s changed on re-import: %+v → %+v", sub.Email, b, sub)
		}
	}
}

func TestSubscribersImportBadFile(t *testing.T) {
	cfg := tempConfig(t)
	dir := filepath.Dir(cfg)
	cases := map[string]string{
		"noemail.csv": "name,lang\nAlice,fr\n",
		"empty.csv":   "",
	}
	for name, content := range cases {
		path := writeFile(t, dir, name, content)
		code, _, stderr := cliCase{}.run(t, "subscribers", "import", "--config", cfg, path)
		if code != 1 || !strings.Contains(stderr, path) {
			t.Errorf("%s: exit %d, stderr %q; want 1 naming the file", name, code, stderr)
		}
	}
	if code, _, _ := (cliCase{}).run(t, "subscribers", "import", "--config", cfg); code != 2 {
		t.Errorf("import without a file exited %d, want 2", code)
	}
}

func TestSubscribersAddRemoveListExport(t *testing.T) {
	cfg := tempConfig(t)
	c := cliCase{}
	code, stdout, stderr := c.run(t, "subscribers", "add", "Jean@Exemple.FR", "--config", cfg, "--name", "Jean", "--lang", "fr", "--topics", "climat, web")
	if code != 0 || !strings.Contains(stdout, "Jean@exemple.fr added") {
		t.Fatalf("add: %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := c.run(t, "subscribers", "add", "--config", cfg, " Jean@EXEMPLE.fr"); code != 1 || !strings.Contains(stderr, "already a subscriber (status active)") {
		t.Errorf("second add: %d %q", code, stderr)
	}
	if code, _, stderr := c.run(t, "subscribers", "add", "--config", cfg, "x@y.org", "--lang", "de"); code != 1 || !strings.Contains(stderr, "want fr or en") {
		t.Errorf("add with a bad lang: %d %q", code, stderr)
	}
	if code, _, _ := c.run(t, "subscribers", "add", "--config", cfg, "second@example.org"); code != 0 {
		t.Fatal("add second failed")
	}
	st := openConfigStore(t, cfg)
	second, _ := st.GetByEmail(context.Background(), "second@example.org")
	if err := st.SetStatus(context.Background(), second.ID, store.StatusBounced, time.Now()); err != nil {
		t.Fatal(err)
	}

	_, stdout, _ = c.run(t, "subscribers", "list", "--config", cfg, "--status", "active")
	if !strings.Contains(stdout, "Jean@exemple.fr") || !strings.Contains(stdout, "climat,web") || strings.Contains(stdout, "second@") {
		t.Errorf("list --status active:\n%s", stdout)
	}
	if code, _, _ := c.run(t, "subscribers", "list", "--config", cfg, "--status", "gone"); code != 1 {
		t.Errorf("list with an unknown status exited %d", code)
	}

	_, stdout, _ = c.run(t, "subscribers", "export", "--config", cfg)
	want := "email,name,lang,topics,status\nJean@exemple.fr,Jean,fr,climat;web,active\nsecond@example.org,,,,bounced\n"
	if stdout != want {
		t.Errorf("export:\n%s\nwant:\n%s", stdout, want)
	}
	out := filepath.Join(filepath.Dir(cfg), "export.csv")
	if code, _, _ := c.run(t, "subscribers", "export", "--config", cfg, out); code != 0 {
		t.Fatal("export to a file failed")
	}
	if data, err := os.ReadFile(out); err != nil || string(data) != want {
		t.Errorf("export file: %q, %v", data, err)
	}
	// The export imports back without changing anything.
	_, stdout, _ = c.run(t, "subscribers", "import", "--config", cfg, out)
	if !strings.Contains(stdout, "2 rows: 0 created, 0 updated, 1 unchanged, 0 unsubscribed not reactivated, 1 bounced not reactivated, 0 invalid") {
		t.Errorf("re-import of the export: %q", stdout)
	}

	if code, stdout, _ := c.run(t, "subscribers", "remove", "--config", cfg, "Jean@exemple.FR"); code != 0 || !strings.Contains(stdout, "removed") {
		t.Errorf("remove: %d %q", code, stdout)
	}
	if code, _, stderr := c.run(t, "subscribers", "remove", "--config", cfg, "Jean@exemple.fr"); code != 1 || !strings.Contains(stderr, "no subscriber") {
		t.Errorf("remove again: %d %q", code, stderr)
	}
	if code, _, _ := c.run(t, "subscribers", "nope"); code != 2 {
		t.Errorf("unknown subcommand exited %d, want 2", code)
	}
	if code, stdout, _ := c.run(t, "subscribers", "--help"); code != 0 || !strings.Contains(stdout, "import") {
		t.Errorf("subscribers --help: %d %q", code, stdout)
	}
}

// TestSubscribersExportFormulas: no exported cell starts as a spreadsheet
// formula (OWASP CSV injection), and importing the export gives every
// address, name and topic back unchanged.
func TestSubscribersExportFormulas(t *testing.T) {
	cfg := tempConfig(t)
	st := openConfigStore(t, cfg)
	ctx := context.Background()
	now := time.Now()
	for _, in := range []store.NewSubscriber{
		{Email: "=cmd|'/Ccalc'!A0@example.org", Name: "=HYPERLINK(\"https://evil.example\")", Lang: "fr"},
		{Email: "+plus@example.org", Name: "+33 6 12 34 56 78", Topics: []string{"-moins", "podcast"}},
		{Email: "-moins@example.org", Name: "@SUM(A1)", Lang: "en", Topics: []string{"=x", "@y"}},
		{Email: "apostrophe@example.org", Name: "'=déjà protégé", Topics: []string{"''+deux"}},
		{Email: "ordinaire@example.org", Name: "'Jean' O'Brien", Topics: []string{"'citation"}},
	} {
		if _, err := st.Add(ctx, in, now); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]store.Subscriber{}
	for sub, err := range st.ListByStatus(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		before[sub.Email] = sub
	}

	out := filepath.Join(filepath.Dir(cfg), "export.csv")
	c := cliCase{}
	if code, _, stderr := c.run(t, "subscribers", "export", "--config", cfg, out); code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would be read as a formula", cell)
			}
		}
	}
	for _, want := range []string{
		`'=cmd|'/Ccalc'!A0@example.org,"'=HYPERLINK(""https://evil.example"")",fr,,active`,
		`'+plus@example.org,'+33 6 12 34 56 78,,'-moins;podcast,active`,
		`'-moins@example.org,'@SUM(A1),en,'=x;@y,active`,
		`ordinaire@example.org,'Jean' O'Brien,,'citation,active`,
		// Already quoted: one more quote, which the import removes.
		`apostrophe@example.org,''=déjà protégé,,'''+deux,active`,
	} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("the export lacks the row %s:\n%s", want, data)
		}
	}

	code, stdout, stderr := c.run(t, "subscribers", "import", "--config", cfg, out)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("%d rows: 0 created, 0 updated, %d unchanged", len(before), len(before))) {
		t.Errorf("re-import of the export: %d %q %s", code, stdout, stderr)
	}
	n := 0
	for sub, err := range st.ListByStatus(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		b, ok := before[sub.Email]
		if !ok || b.Name != sub.Name || b.Lang != sub.Lang || !slices.Equal(b.Topics, sub.Topics) || b.Status != sub.Status || !b.UpdatedAt.Equal(sub.UpdatedAt) {
			t.Errorf("%q changed by the round trip: %+v → %+v", sub.Email, b, sub)
		}
	}
	if n != len(before) {
		t.Errorf("%d subscribers after the round trip, %d before", n, len(before))
	}
}

// TestSubscribersImportFromFrenchSpreadsheets: what a spreadsheet set to
// French saves — cells separated by ";", Windows line ends — imports; a
// row that is not UTF-8 (saved as "CSV" in Windows-1252) is reported, not
// stored garbled.
func TestSubscribersImportFromFrenchSpreadsheets(t *testing.T) {
	cfg := tempConfig(t)
	csvPath := writeFile(t, filepath.Dir(cfg), "abonnes.csv", "email;name;lang;topics\r\n"+
		"zoe@example.org;Zoé Léger;fr;sobriete,podcast\r\n"+
		"yann@example.org;Yann L\xe9ger;fr;\r\n")
	code, _, stderr := cliCase{}.run(t, "subscribers", "import", "--config", cfg, csvPath)
	if code != 1 || !strings.Contains(stderr, csvPath+":3: not UTF-8 text") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	st := openConfigStore(t, cfg)
	zoe, err := st.GetByEmail(context.Background(), "zoe@example.org")
	if err != nil || zoe.Name != "Zoé Léger" || !slices.Equal(zoe.Topics, []string{"podcast", "sobriete"}) && !slices.Equal(zoe.Topics, []string{"sobriete", "podcast"}) {
		t.Errorf("zoe: %+v %v", zoe, err)
	}
	if _, err := st.GetByEmail(context.Background(), "yann@example.org"); err == nil {
		t.Error("the Windows-1252 row was stored")
	}
}

// TestSubscribersAddUnknownTopic: a topic that is no tag of the site is
// most likely misspelt; add says so, and still adds the subscriber.
func TestSubscribersAddUnknownTopic(t *testing.T) {
	content, err := filepath.Abs("../../content")
	if err != nil {
		t.Fatal(err)
	}
	cfg := tempConfig(t)
	c := cliCase{env: map[string]string{"BULLETIN_CONTENT_DIR": content}}
	code, stdout, stderr := c.run(t, "subscribers", "add", "--config", cfg, "zoe@example.org", "--topics", "reemplois,Sobriété")
	if code != 0 || !strings.Contains(stdout, "zoe@example.org added") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `warning: topic "reemplois" is the tag of no publication of the site`) || strings.Contains(stderr, `"Sobriété"`) {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// A name too long for the To header of the digest is refused where it
// comes in: `subscribers add` fails naming the limit, and import reports
// the row and goes on with the others.
func TestSubscribersNameTooLong(t *testing.T) {
	cfg := tempConfig(t)
	long := strings.Repeat("A", 901)
	code, _, stderr := cliCase{}.run(t, "subscribers", "add", "--config", cfg, "--name", long, "long@example.org")
	if code != 1 || !strings.Contains(stderr, fmt.Sprintf("at most %d characters", store.MaxNameLength)) {
		t.Errorf("add with a 901-character name: exit %d, stderr %q; want 1 naming the limit", code, stderr)
	}
	path := writeFile(t, filepath.Dir(cfg), "long.csv", "email,name\nlong@example.org,"+long+"\nok@example.org,Ok\n")
	code, _, stderr = cliCase{}.run(t, "subscribers", "import", "--config", cfg, path)
	if !strings.Contains(stderr, path+":2:") || !strings.Contains(stderr, "name longer than") {
		t.Errorf("import with a 901-character name: exit %d, stderr %q; want line 2 reported", code, stderr)
	}
	st := openConfigStore(t, cfg)
	if _, err := st.GetByEmail(context.Background(), "long@example.org"); err == nil {
		t.Error("the subscriber with the long name was stored")
	}
	if _, err := st.GetByEmail(context.Background(), "ok@example.org"); err != nil {
		t.Errorf("the other row of the import: %v", err)
	}
}
