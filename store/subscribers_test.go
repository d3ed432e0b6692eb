package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestUpsertRules(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	row := NewSubscriber{Email: "Jean@Example.org", Name: "Jean", Lang: "fr", Topics: []string{"vélo", "climat"}}

	steps := []struct {
		name string
		in   NewSubscriber
		now  int
		want UpsertResult
	}{
		{"first import creates", row, 0, UpsertCreated},
		{"same data again", row, 10, UpsertUnchanged},
		{"same topics in another order, domain case", NewSubscriber{Email: "Jean@EXAMPLE.org", Name: " Jean ", Lang: "FR",
			Topics: []string{"climat", "vélo", "climat"}}, 20, UpsertUnchanged},
		{"name changed", NewSubscriber{Email: row.Email, Name: "Jean D.", Lang: "fr", Topics: row.Topics}, 30, UpsertUpdated},
	}
	for _, st := range steps {
		got, err := s.Upsert(ctx, st.in, at(st.now))
		if err != nil || got != st.want {
			t.Fatalf("%s: Upsert = %v, %v; want %v", st.name, got, err, st.want)
		}
	}
	sub, err := s.GetByEmail(ctx, "jean@example.org")
	if err == nil {
		t.Fatalf("the local part was lower-cased: found %+v", sub)
	}
	sub, err = s.GetByEmail(ctx, "Jean@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != StatusActive || sub.Name != "Jean D." || !slices.Equal(sub.Topics, []string{"climat", "vélo"}) {
		t.Errorf("after import: %+v", sub)
	}
	if !sub.UpdatedAt.Equal(at(30)) || !sub.CreatedAt.Equal(at(0)) {
		t.Errorf("created %v updated %v, want %v and %v (unchanged imports must not touch updated_at)",
			sub.CreatedAt, sub.UpdatedAt, at(0), at(30))
	}

	for _, status := range []Status{StatusUnsubscribed, StatusBounced} {
		t.Run(string(status), func(t *testing.T) {
			email := string(status) + "@example.org"
			if _, err := s.Upsert(ctx, NewSubscriber{Email: email, Name: "Old", Lang: "fr"}, at(0)); err != nil {
				t.Fatal(err)
			}
			before, _ := s.GetByEmail(ctx, email)
			if err := s.SetStatus(ctx, before.ID, status, at(5)); err != nil {
				t.Fatal(err)
			}
			want := map[Status]UpsertResult{StatusUnsubscribed: UpsertRefusedUnsubscribed, StatusBounced: UpsertRefusedBounced}[status]
			got, err := s.Upsert(ctx, NewSubscriber{Email: email, Name: "New", Lang: "en"}, at(50))
			if err != nil || got != want {
				t.Fatalf("Upsert of a %s address = %v, %v; want %v", status, got, err, want)
			}
			after, _ := s.GetByEmail(ctx, email)
			if after.Status != status || after.Name != "Old" || after.Lang != "fr" || !after.UpdatedAt.Equal(at(5)) {
				t.Errorf("refused import changed the row: %+v", after)
			}
		})
	}

	pending, _, err := s.CreatePending(ctx, NewSubscriber{Email: "p@example.org", Lang: "fr"}, at(0))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Upsert(ctx, NewSubscriber{Email: "p@example.org", Name: "P", Lang: "fr"}, at(1)); err != nil || got != UpsertUpdated {
		t.Fatalf("Upsert of a pending address = %v, %v", got, err)
	}
	if p, _ := s.Get(ctx, pending.ID); p.Status != StatusPending || p.Name != "P" {
		t.Errorf("import of a pending address: %+v, want still pending with the new name", p)
	}

	if _, err := s.Upsert(ctx, NewSubscriber{Email: "a@b"}, at(0)); !errors.Is(err, ErrInvalidEmail) {
		t.Errorf("Upsert(a@b) error = %v, want ErrInvalidEmail", err)
	}
}

func TestAddGetRemove(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	sub, err := s.Add(ctx, NewSubscriber{Email: "Marie@ÉCOLE.fr", Name: "Marie\r\nBcc: x", Lang: "en", Topics: nil}, at(0))
	if err != nil {
		t.Fatal(err)
	}
	if sub.ID == 0 || sub.Email != "Marie@xn--cole-9oa.fr" || sub.Status != StatusActive || sub.Topics != nil {
		t.Errorf("Add returned %+v", sub)
	}
	if sub.Name != "Marie  Bcc: x" {
		t.Errorf("control characters kept in the name: %q", sub.Name)
	}
	if _, err := s.Add(ctx, NewSubscriber{Email: "Marie@école.FR"}, at(1)); !errors.Is(err, ErrExists) {
		t.Errorf("second Add error = %v, want ErrExists", err)
	}
	got, err := s.GetByEmail(ctx, " Marie@École.fr ")
	if err != nil || got.ID != sub.ID {
		t.Errorf("GetByEmail = %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, sub.ID+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) error = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, sub.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Remove, Get error = %v", err)
	}
	if err := s.Remove(ctx, sub.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove error = %v, want ErrNotFound", err)
	}
	again := mustAdd(t, s, "marie@xn--cole-9oa.fr")
	if again.ID <= sub.ID {
		t.Errorf("id %d reused after delete (previous %d)", again.ID, sub.ID)
	}
}

func TestDoubleOptIn(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	in := NewSubscriber{Email: "new@example.org", Name: "New", Lang: "fr", Topics: []string{"web"}}
	p, created, err := s.CreatePending(ctx, in, at(0))
	if err != nil || !created || p.Status != StatusPending || !p.ConfirmedAt.IsZero() {
		t.Fatalf("CreatePending = %+v, %v, %v", p, created, err)
	}
	again, created, err := s.CreatePending(ctx, NewSubscriber{Email: in.Email, Name: "Other", Lang: "en"}, at(5))
	if err != nil || created || again.ID != p.ID || again.Name != "New" || !again.UpdatedAt.Equal(at(0)) {
		t.Fatalf("second CreatePending = %+v, %v, %v; want the row unchanged", again, created, err)
	}
	if c, _ := s.CountByStatus(ctx); c[StatusPending] != 1 || c[StatusActive] != 0 {
		t.Errorf("counts %v", c)
	}

	active := mustAdd(t, s, "active@example.org")
	known, created, err := s.CreatePending(ctx, NewSubscriber{Email: "active@example.org"}, at(5))
	if err != nil || created || known.Status != StatusActive {
		t.Errorf("CreatePending of an active address = %+v, %v, %v; want it active and unchanged", known, created, err)
	}

	conf, err := s.Confirm(ctx, p.ID, at(10))
	if err != nil || conf.Status != StatusActive || !conf.ConfirmedAt.Equal(at(10)) {
		t.Fatalf("Confirm = %+v, %v", conf, err)
	}
	if conf2, err := s.Confirm(ctx, p.ID, at(20)); err != nil || !conf2.ConfirmedAt.Equal(at(10)) {
		t.Errorf("second Confirm = %+v, %v; want no change", conf2, err)
	}

	if err := s.SetStatus(ctx, active.ID, StatusUnsubscribed, at(30)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, active.ID, StatusActive, at(31)); !errors.Is(err, ErrUnsubscribed) {
		t.Errorf("SetStatus(active) of an unsubscribed address error = %v, want ErrUnsubscribed", err)
	}
	back, created, err := s.CreatePending(ctx, NewSubscriber{Email: "active@example.org"}, at(32))
	if err != nil || created || back.Status != StatusUnsubscribed {
		t.Errorf("CreatePending of an unsubscribed address = %+v, %v, %v", back, created, err)
	}
	re, err := s.Confirm(ctx, active.ID, at(40))
	if err != nil || re.Status != StatusActive || !re.UnsubscribedAt.Equal(at(30)) {
		t.Errorf("Confirm of an unsubscribed address = %+v, %v", re, err)
	}
	if _, err := s.Confirm(ctx, 9999, at(40)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Confirm(unknown) error = %v", err)
	}
}

func TestStatusPreferencesAndListing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	c := mustAdd(t, s, "c@example.org")
	a := mustAdd(t, s, "a@example.org")
	b := mustAdd(t, s, "b@example.org")

	if err := s.UpdatePreferences(ctx, a.ID, "EN", []string{"web", "", "climat"}, at(5)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, a.ID)
	if got.Lang != "en" || !slices.Equal(got.Topics, []string{"climat", "web"}) || !got.UpdatedAt.Equal(at(5)) {
		t.Errorf("after UpdatePreferences: %+v", got)
	}
	if err := s.UpdatePreferences(ctx, a.ID, "en", []string{"web", "climat"}, at(9)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, a.ID); !got.UpdatedAt.Equal(at(5)) {
		t.Errorf("identical preferences moved updated_at to %v", got.UpdatedAt)
	}
	if err := s.UpdatePreferences(ctx, 999, "fr", nil, at(5)); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdatePreferences(unknown) error = %v", err)
	}

	if err := s.SetStatus(ctx, b.ID, StatusUnsubscribed, at(7)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, b.ID)
	if got.Status != StatusUnsubscribed || !got.UnsubscribedAt.Equal(at(7)) || !got.UpdatedAt.Equal(at(7)) {
		t.Errorf("after SetStatus(unsubscribed): %+v", got)
	}
	if err := s.SetStatus(ctx, b.ID, "gone", at(8)); err == nil {
		t.Error("SetStatus accepted an unknown status")
	}

	var ids []int64
	for sub, err := range s.ListByStatus(ctx, StatusActive) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	if !slices.Equal(ids, []int64{c.ID, a.ID}) {
		t.Errorf("ListByStatus(active) = %v, want %v", ids, []int64{c.ID, a.ID})
	}
	n := 0
	for _, err := range s.ListByStatus(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 {
		t.Errorf("breaking out of ListByStatus after %d rows", n)
	}
	var emails []string
	for sub, err := range s.Export(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		emails = append(emails, sub.Email)
	}
	if !slices.Equal(emails, []string{"a@example.org", "b@example.org", "c@example.org"}) {
		t.Errorf("Export order = %v", emails)
	}
	counts, err := s.CountByStatus(ctx)
	want := map[Status]int{StatusActive: 2, StatusUnsubscribed: 1, StatusPending: 0, StatusBounced: 0}
	if err != nil || len(counts) != len(want) {
		t.Fatalf("CountByStatus = %v, %v", counts, err)
	}
	for st, n := range want {
		if counts[st] != n {
			t.Errorf("CountByStatus[%s] = %d, want %d", st, counts[st], n)
		}
	}
}

// A name goes into the To header of every email: Add, Upsert and
// CreatePending refuse one longer than MaxNameLength characters, and
// accept one of exactly that many, non-ASCII included.
func TestNameLengthLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	long := strings.Repeat("A", MaxNameLength+1)
	if _, err := s.Add(ctx, NewSubscriber{Email: "long@example.org", Name: long}, at(0)); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Add with a %d-character name: %v, want ErrInvalidName", MaxNameLength+1, err)
	}
	if _, err := s.Upsert(ctx, NewSubscriber{Email: "long@example.org", Name: long}, at(0)); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Upsert with a %d-character name: %v, want ErrInvalidName", MaxNameLength+1, err)
	}
	if _, _, err := s.CreatePending(ctx, NewSubscriber{Email: "long@example.org", Name: long}, at(0)); !errors.Is(err, ErrInvalidName) {
		t.Errorf("CreatePending with a %d-character name: %v, want ErrInvalidName", MaxNameLength+1, err)
	}
	if _, err := s.GetByEmail(ctx, "long@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused name was stored: %v", err)
	}
	ok := strings.Repeat("é", MaxNameLength)
	if sub, err := s.Add(ctx, NewSubscriber{Email: "ok@example.org", Name: "  " + ok + "  "}, at(0)); err != nil || sub.Name != ok {
		t.Errorf("Add with a %d-character name: %q, %v", MaxNameLength, sub.Name, err)
	}
}
