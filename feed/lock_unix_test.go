//go:build unix

package feed

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestBuildsIntoOneFolderTakeTurns: a build waits while another holds the
// output folder, goes on once it is released, and gives up when its
// context ends while it waits.
func TestBuildsIntoOneFolderTakeTurns(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Build(context.Background(), dir, Plan(fixture(), testOptions()))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the build did not wait for the folder's holder (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the build did not go on once the folder was released")
	}

	unlock, err = lockDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Build(ctx, dir, Plan(fixture(), testOptions())); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a build waiting for the folder, its context ended: %v", err)
	}
	noTemp(t, dir)
}
