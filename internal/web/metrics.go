package web

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/trothu/trothu/internal/db"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(d *db.DB) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trothu_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "trothu_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	gauge := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	gauge("trothu_db_open_connections", "Open connections in the read pool.", func() float64 { return float64(d.Stats().OpenConnections) })
	gauge("trothu_db_in_use_connections", "Read-pool connections in use.", func() float64 { return float64(d.Stats().InUse) })
	gauge("trothu_db_idle_connections", "Idle read-pool connections.", func() float64 { return float64(d.Stats().Idle) })
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "trothu_db_wait_count_total", Help: "Waits for a read-pool connection."}, func() float64 { return float64(d.Stats().WaitCount) }))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "trothu_db_wait_seconds_total", Help: "Time spent waiting for a read-pool connection."}, func() float64 { return d.Stats().WaitDuration.Seconds() }))
	return m
}
