package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the server's Prometheus registry and instruments; each
// Server has its own (no global registry).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec // by route and status code
	feeds    *prometheus.CounterVec // by feed and status (200, 304)
}

func newMetrics() *metrics {
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
	}
	m.reg.MustRegister(m.requests, m.feeds,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
