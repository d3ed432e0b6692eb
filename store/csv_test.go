package store

import "testing"

func TestCSVSafeUnsafe(t *testing.T) {
	for _, tc := range []struct{ in, safe string }{
		{"", ""},
		{"Jean", "Jean"},
		{"=1+1", "'=1+1"},
		{"+33", "'+33"},
		{"-x", "'-x"},
		{"@x", "'@x"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'", "'"},
		{"'x", "'x"},
		{"'=x", "''=x"},
		{"''-x", "'''-x"},
		{"x=1", "x=1"},
		{" =x", " =x"},
	} {
		if got := CSVSafe(tc.in); got != tc.safe {
			t.Errorf("CSVSafe(%q) = %q, want %q", tc.in, got, tc.safe)
		}
		if got := CSVUnsafe(tc.safe); got != tc.in {
			t.Errorf("CSVUnsafe(%q) = %q, want %q", tc.safe, got, tc.in)
		}
	}
}

// TestCSVRow: every cell of an exported row is made safe, topics joined
// with ";".
func TestCSVRow(t *testing.T) {
	got := CSVRow(Subscriber{Email: "-moins@example.org", Name: "=HYPERLINK(\"x\")", Lang: "fr", Topics: []string{"+a", "b"}, Status: StatusActive})
	want := []string{"'-moins@example.org", "'=HYPERLINK(\"x\")", "fr", "'+a;b", "active"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cell %d = %q, want %q", i, got[i], want[i])
		}
	}
}
