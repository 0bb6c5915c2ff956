package registry

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	ikdsync "github.com/ikd-field/ikd/sync"
)

// Metrics are the registry's Prometheus metrics. The queue and lag gauges are read from the
// database at scrape time, so every registry process reports the shared truth.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	records  *prometheus.CounterVec
	mails    *prometheus.CounterVec
}

// NewMetrics registers the registry's metrics; st answers the gauges read at scrape time.
func NewMetrics(st Store) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ikd_registry_requests_total",
		Help: "HTTP requests by route and status."}, []string{"route", "status"})
	m.records = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ikd_registry_records_total",
		Help: "Kiosk records by answer (accepted, duplicate, or the rejection code)."}, []string{"answer"})
	m.mails = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ikd_registry_mails_total",
		Help: "Activation e-mail send attempts by result (sent, retry, permanent)."}, []string{"result"})
	m.reg.MustRegister(m.requests, m.records, m.mails, &dbCollector{st: st},
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) request(route string, status int) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

func (m *Metrics) answer(a ikdsync.Answer) {
	if m == nil {
		return
	}
	label := "accepted"
	switch a.Status {
	case ikdsync.StatusDuplicate:
		label = "duplicate"
	case ikdsync.StatusRejected:
		label = a.Code
	}
	m.records.WithLabelValues(label).Inc()
}

// MailResult counts one send attempt; wire it to the mail worker's Observe hook.
func (m *Metrics) MailResult(result string) {
	if m == nil {
		return
	}
	m.mails.WithLabelValues(result).Inc()
}

// dbCollector reads the mail queue and the kiosks' last sync from the database.
type dbCollector struct{ st Store }

var (
	descQueueDepth = prometheus.NewDesc("ikd_registry_mail_queue_depth", "Activation e-mails waiting to be sent.", nil, nil)
	descQueueAge   = prometheus.NewDesc("ikd_registry_mail_queue_oldest_seconds", "Age of the oldest e-mail waiting.", nil, nil)
	descSyncLag    = prometheus.NewDesc("ikd_registry_kiosk_sync_lag_seconds", "Time since each kiosk's last authenticated request.", []string{"kiosk_id", "area"}, nil)
	descScrapeErr  = prometheus.NewDesc("ikd_registry_db_scrape_error", "1 when the database could not be read for these metrics.", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descQueueDepth
	ch <- descQueueAge
	ch <- descSyncLag
	ch <- descScrapeErr
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	failed := 0.0
	n, oldest, err := c.st.MailBacklog(ctx)
	if err == nil {
		ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(n))
		age := 0.0
		if !oldest.IsZero() {
			age = time.Since(oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(descQueueAge, prometheus.GaugeValue, age)
	} else {
		failed = 1
	}
	devs, err := ListDevices(ctx, c.st)
	if err == nil {
		for _, d := range devs {
			if d.LastSeen.IsZero() || !d.RevokedAt.IsZero() {
				continue
			}
			ch <- prometheus.MustNewConstMetric(descSyncLag, prometheus.GaugeValue, time.Since(d.LastSeen).Seconds(), d.KioskID, d.Area)
		}
	} else {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, failed)
}
