package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ecoresponsable/bulletin/store"
)

// metrics holds the server's Prometheus registry and instruments; each
// Server has its own (no global registry).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec // by route and status code
	feeds    *prometheus.CounterVec // by feed and status (200, 304)
	sendRate prometheus.Gauge       // deliveries per second of the running send
}

func newMetrics(st store.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulletin_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		feeds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulletin_feed_requests_total",
			Help: "Feed requests, by feed and status (200 full response, 304 not modified).",
		}, []string{"feed", "status"}),
		sendRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bulletin_send_rate",
			Help: "Deliveries recorded per second by the digest send running now (0 when none).",
		}),
	}
	m.reg.MustRegister(m.requests, m.feeds, m.sendRate,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.reg.MustRegister(&storeCollector{st: st})
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	subscribersDesc = prometheus.NewDesc("bulletin_subscribers", "Subscribers by status.", []string{"status"}, nil)
	digestsDesc     = prometheus.NewDesc("bulletin_digests", "Digests created.", nil, nil)
	deliveriesDesc  = prometheus.NewDesc("bulletin_deliveries", "Deliveries of every digest, by status.", []string{"status"}, nil)
	deferredDesc    = prometheus.NewDesc("bulletin_deliveries_deferred",
		"Pending deliveries that failed temporarily and wait for the next send (part of bulletin_deliveries{status=\"pending\"}).", nil, nil)
)

// storeCollector reads subscriber, digest and delivery counts from the
// store at each scrape.
type storeCollector struct{ st store.Store }

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- subscribersDesc
	ch <- digestsDesc
	ch <- deliveriesDesc
	ch <- deferredDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if counts, err := c.st.CountByStatus(ctx); err == nil {
		for _, st := range []store.Status{store.StatusPending, store.StatusActive, store.StatusUnsubscribed, store.StatusBounced} {
			ch <- prometheus.MustNewConstMetric(subscribersDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
		}
	}
	if n, err := c.st.CountDigests(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(digestsDesc, prometheus.GaugeValue, float64(n))
	}
	if d, err := c.st.CountDeliveriesByStatus(ctx); err == nil {
		for status, n := range map[string]int{"pending": d.Pending, "sent": d.Sent, "failed": d.Failed, "skipped": d.Skipped} {
			ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(n), status)
		}
		ch <- prometheus.MustNewConstMetric(deferredDesc, prometheus.GaugeValue, float64(d.Deferred))
	}
}
