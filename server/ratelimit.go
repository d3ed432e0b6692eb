package server

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// maxRateKeys bounds the client addresses the subscription limiter
// remembers.
const maxRateKeys = 10000

// defaultSubscribeRate is Options.SubscribeRate when it is zero.
const defaultSubscribeRate = 10

// rateLimiter is a token bucket per client address: perHour requests in a
// burst, refilled at perHour an hour. Memory is bounded: a bucket that has
// refilled is the same as none and is dropped; when max buckets are still
// in use, the one idle longest makes room.
type rateLimiter struct {
	perHour float64 // ≤ 0: no limit
	max     int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(perHour, max int) *rateLimiter {
	if perHour == 0 {
		perHour = defaultSubscribeRate
	}
	return &rateLimiter{perHour: float64(perHour), max: max, buckets: map[string]*bucket{}}
}

// allow takes one token for key at now; when there is none it says how long
// until there is.
func (l *rateLimiter) allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	if l.perHour <= 0 {
		return true, 0
	}
	perSecond := l.perHour / 3600
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max || now.Sub(l.swept) > time.Minute {
			l.sweep(now)
		}
		b = &bucket{tokens: l.perHour, at: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.perHour, b.tokens+elapsed*perSecond)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / perSecond * float64(time.Second))
	return false, wait
}

// sweep drops the buckets that have refilled; if that is not enough room,
// it drops the one idle longest. Called with mu held.
func (l *rateLimiter) sweep(now time.Time) {
	l.swept = now
	perSecond := l.perHour / 3600
	var oldestKey string
	var oldest time.Time
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*perSecond >= l.perHour {
			delete(l.buckets, k)
			continue
		}
		if oldestKey == "" || b.at.Before(oldest) {
			oldestKey, oldest = k, b.at
		}
	}
	if len(l.buckets) >= l.max && oldestKey != "" {
		delete(l.buckets, oldestKey)
	}
}

// size is how many buckets are held (for tests).
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey is the address a request is limited by: the peer's, or with
// trustProxy the last hop of X-Forwarded-For (the address the proxy in
// front of us saw; earlier hops are whatever the client wrote). IPv6
// addresses count per /64, the block one subscriber line usually has.
func clientKey(r *http.Request, trustProxy bool) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if trustProxy {
		if values := r.Header.Values("X-Forwarded-For"); len(values) > 0 {
			last := values[len(values)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				host = a.String()
			}
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		if pfx, err := a.Prefix(64); err == nil {
			return pfx.String()
		}
	}
	return a.String()
}
