package store

import "strings"

// csvFormulaStart lists the first characters that make a spreadsheet read
// a cell as a formula.
const csvFormulaStart = "=+-@\t\r"

// CSVRow is a subscriber as both exports (`bulletin subscribers export`
// and the admin API's subscribers.csv) write it — email, name, lang,
// topics separated by ";", status — every cell made safe with CSVSafe:
// addresses, names and topics are all typed by someone else.
func CSVRow(sub Subscriber) []string {
	cells := []string{sub.Email, sub.Name, sub.Lang, strings.Join(sub.Topics, ";"), string(sub.Status)}
	for i, c := range cells {
		cells[i] = CSVSafe(c)
	}
	return cells
}

// CSVSafe keeps a spreadsheet from reading a cell as a formula (OWASP's
// advice on CSV injection): a cell starting with = + - @ tab or CR gets a
// single quote in front. A cell that already starts with quotes followed by
// one of those gets one more, so that CSVUnsafe gives every value back.
func CSVSafe(s string) string {
	if formulaAfterQuotes(s) {
		return "'" + s
	}
	return s
}

// CSVUnsafe undoes CSVSafe, for imports: it removes the first quote of a
// cell made of quotes followed by = + - @ tab or CR, and leaves any other
// cell alone.
func CSVUnsafe(s string) string {
	if strings.HasPrefix(s, "'") && formulaAfterQuotes(s) {
		return s[1:]
	}
	return s
}

// formulaAfterQuotes reports whether s, without the single quotes it starts
// with, starts with one of csvFormulaStart.
func formulaAfterQuotes(s string) bool {
	rest := strings.TrimLeft(s, "'")
	return rest != "" && strings.ContainsRune(csvFormulaStart, rune(rest[0]))
}
