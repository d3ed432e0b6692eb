package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/store"
)

// TestShutdownDuringASendThenResume: stopping the server (SIGTERM cancels
// Run's context) while a digest is going out lets the messages in flight
// finish, records them, and leaves the rest pending; the next start
// resumes the unfinished digest and every subscriber gets exactly one
// message.
func TestShutdownDuringASendThenResume(t *testing.T) {
	e := newAdminEnv(t, 30, 30*time.Millisecond)
	ctx, stop := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	req, _ := http.NewRequest(http.MethodPost, base+"/admin/digests/send", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var started struct{ ID int64 }
	json.NewDecoder(res.Body).Decode(&started)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted || started.ID == 0 {
		t.Fatalf("send: %d", res.StatusCode)
	}
	e.smtp.WaitFor(5, 5*time.Second)
	stop() // what SIGTERM does
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("the server still accepts connections after stopping")
	}
	d, err := e.st.GetDigest(context.Background(), started.ID)
	if err != nil {
		t.Fatal(err)
	}
	received := e.smtp.Count()
	if d.Status != store.DigestSending || d.Deliveries.Pending == 0 || d.Deliveries.Sent != received {
		t.Fatalf("after stopping: status %s, %+v, %d received", d.Status, d.Deliveries, received)
	}

	// The next start resumes it.
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(ctx2, ln2)
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err = e.st.GetDigest(context.Background(), started.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == store.DigestDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not resumed: %+v", d.Deliveries)
		}
		time.Sleep(50 * time.Millisecond)
	}
	per := map[string]int{}
	for _, m := range e.smtp.Messages() {
		per[strings.Join(m.To, ",")]++
	}
	if len(per) != 30 || d.Deliveries.Sent != 30 {
		t.Fatalf("%d recipients reached, %d sent", len(per), d.Deliveries.Sent)
	}
	for to, n := range per {
		if n != 1 {
			t.Errorf("%s got %d messages", to, n)
		}
	}
}
