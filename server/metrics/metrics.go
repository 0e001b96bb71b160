// Package metrics is pomerium-server's Prometheus metrics: one registry
// per server (no globals), named porthole_<subsystem>_<name>_<unit>,
// labelled only by route name, status class and direction (bounded; never
// a user). Serve it with Handler, optionally behind basic auth.
//
//	m := metrics.New()
//	m.Request("verify", 200, 12*time.Millisecond)
//	http.ListenAndServe("127.0.0.1:9090", m.Handler("user", "pass"))
package metrics

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the server's collectors. A nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	tunnelsActive   *prometheus.GaugeVec
	tunnelsTotal    *prometheus.CounterVec
	tunnelBytes     *prometheus.CounterVec
	signIns         prometheus.Counter
	signInFailures  prometheus.Counter
	reloads         prometheus.Counter
	reloadFailures  prometheus.Counter
	reloadOK        prometheus.Gauge
	reloadTime      prometheus.Gauge
	routes          prometheus.Gauge
}

// New registers every collector on a fresh registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "porthole_proxy_requests_total", Help: "HTTP requests to routes, by route name and status class (2xx, 3xx, 4xx, 5xx).",
	}, []string{"route", "code"})
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "porthole_proxy_request_duration_seconds", Help: "Time to serve HTTP requests to routes, by route name.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
	}, []string{"route"})
	m.tunnelsActive = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "porthole_tunnel_connections_active", Help: "CONNECT and connect-udp tunnels open now, by route name.",
	}, []string{"route"})
	m.tunnelsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "porthole_tunnel_connections_total", Help: "CONNECT and connect-udp tunnels opened, by route name.",
	}, []string{"route"})
	m.tunnelBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "porthole_tunnel_bytes_total", Help: "Bytes carried by CONNECT and connect-udp tunnels, by route name and direction (in: client to upstream).",
	}, []string{"route", "direction"})
	m.signIns = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "porthole_auth_sign_ins_total", Help: "Completed sign-ins.",
	})
	m.signInFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "porthole_auth_sign_in_failures_total", Help: "Sign-in callbacks that failed (bad state, code exchange, token verification).",
	})
	m.reloads = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "porthole_config_reloads_total", Help: "Configuration reloads applied.",
	})
	m.reloadFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "porthole_config_reload_failures_total", Help: "Configuration reloads refused (the running configuration stayed).",
	})
	m.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "porthole_config_last_reload_success", Help: "1 when the last configuration reload succeeded, else 0.",
	})
	m.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "porthole_config_last_reload_success_timestamp_seconds", Help: "When the configuration last loaded successfully (Unix time).",
	})
	m.routes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "porthole_config_routes", Help: "Routes in the live route table.",
	})
	m.reg.MustRegister(m.requests, m.requestDuration, m.tunnelsActive, m.tunnelsTotal, m.tunnelBytes,
		m.signIns, m.signInFailures, m.reloads, m.reloadFailures, m.reloadOK, m.reloadTime, m.routes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reloadOK.Set(1)
	m.reloadTime.SetToCurrentTime()
	return m
}

// Registry is where other parts register their own collectors (the
// store's health, for one).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Request records one proxied HTTP request.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, statusClass(status)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(d.Seconds())
}

// TunnelOpened counts a tunnel; call the returned func with the bytes
// carried when it closes.
func (m *Metrics) TunnelOpened(route string) (closed func(in, out int64)) {
	if m == nil {
		return func(int64, int64) {}
	}
	m.tunnelsTotal.WithLabelValues(route).Inc()
	g := m.tunnelsActive.WithLabelValues(route)
	g.Inc()
	return func(in, out int64) {
		g.Dec()
		m.tunnelBytes.WithLabelValues(route, "in").Add(float64(in))
		m.tunnelBytes.WithLabelValues(route, "out").Add(float64(out))
	}
}

// SignIn records a sign-in callback's outcome.
func (m *Metrics) SignIn(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.signIns.Inc()
	} else {
		m.signInFailures.Inc()
	}
}

// Reload records a configuration reload's outcome.
func (m *Metrics) Reload(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads.Inc()
		m.reloadOK.Set(1)
		m.reloadTime.SetToCurrentTime()
		return
	}
	m.reloadFailures.Inc()
	m.reloadOK.Set(0)
}

// Routes sets the live route count.
func (m *Metrics) Routes(n int) {
	if m != nil {
		m.routes.Set(float64(n))
	}
}

func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}

// Handler serves /metrics (Prometheus text format); with user set,
// only to requests carrying that basic-auth user and password.
func (m *Metrics) Handler(user, password string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.Handle("/metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user != "" {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="metrics"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	return mux
}
