package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// benchDigest returns a store with n active subscribers and a digest being
// sent to them.
func benchDigest(b *testing.B, n int) (*SQLite, Digest) {
	b.Helper()
	s, _ := openTest(b)
	seedActive(b, s, "b", n)
	d, err := s.CreateDigest(context.Background(), "bench", sampleItems("p"), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return s, d
}

// BenchmarkMarkSent records one accepted delivery per operation, each its
// own committed transaction, as the sender does.
func BenchmarkMarkSent(b *testing.B) {
	ctx := context.Background()
	s, d := benchDigest(b, b.N)
	now := time.Now()
	b.ResetTimer()
	for i := range b.N {
		if err := s.MarkSent(ctx, d.ID, int64(i+1), "<bench@bulletin>", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarkSentParallel is BenchmarkMarkSent with four concurrent
// callers, the sender's default worker count.
func BenchmarkMarkSentParallel(b *testing.B) {
	ctx := context.Background()
	s, d := benchDigest(b, b.N)
	now := time.Now()
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1)
			if err := s.MarkSent(ctx, d.ID, id, "<bench@bulletin>", now); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPendingDeliveries pages 500 recipients at a time.
func BenchmarkPendingDeliveries(b *testing.B) {
	ctx := context.Background()
	s, d := benchDigest(b, 10_000)
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.PendingDeliveries(ctx, d.ID, int64(i*500%9_500), 500); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateDigest100k freezes a digest for 100,000 active subscribers.
func BenchmarkCreateDigest100k(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	seedActive(b, s, "b", 100_000)
	b.ResetTimer()
	for i := range b.N {
		d, err := s.CreateDigest(ctx, "bench", sampleItems(fmt.Sprint("p", i)), time.Now())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if d.Deliveries.Pending != 100_000 {
			b.Fatalf("%d deliveries", d.Deliveries.Pending)
		}
		if _, err := s.write.ExecContext(ctx, `UPDATE digests SET status = 'done' WHERE id = ?`, d.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
