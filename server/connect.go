package server

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/routing"
)

// baseURL is this server as the client reached it, for absolute
// sign-in URLs where r.Host names something else (CONNECT).
func (s *Server) baseURL(r *http.Request) string {
	host := ""
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		host = la.String()
		if r.TLS != nil && r.TLS.ServerName != "" {
			if _, port, err := net.SplitHostPort(host); err == nil {
				host = net.JoinHostPort(r.TLS.ServerName, port)
			}
		}
	}
	if host == "" {
		host = s.address
	}
	return "https://" + host
}

// authorize applies rt's policy to r and writes the refusal when not
// allowed (302 sign-in, 401, 403). signIn builds the sign-in Location.
// staleSignIn sends a stale or invalid explicit token to signIn instead
// of a 401: tunnel clients (pomerium-cli up to v0.33.0) delete their
// token and fail on a 401, while every release signs in again on a
// redirect.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, rt *routing.Route, signIn func(), staleSignIn bool) (auth, bool) {
	a := s.authenticate(r)
	dec := rt.Policy.EvaluateRequest(a.identity(), policyRequest(r, rt))
	switch {
	case dec == policy.Allow:
		return a, true
	case a.session == nil && a.explicit() && staleSignIn:
		s.log.Info("refused: invalid or expired token, sending to sign in", "route", rt.Name, "host", r.Host)
		signIn()
	case a.session == nil && a.explicit():
		// A token was sent but it is bad or expired: the client must drop it.
		// A stale cookie is not that: a browser just signs in again below.
		s.log.Info("refused: invalid or expired token", "route", rt.Name, "host", r.Host)
		http.Error(w, "invalid or expired credentials; sign in again", http.StatusUnauthorized)
	case dec == policy.SignIn:
		signIn()
	default:
		// Also reached without a session, when the policy denies everyone
		// whoever they are (no rule, reject): signing in would not help.
		user := ""
		if a.session != nil {
			user = a.session.Email
		}
		s.log.Info("refused: policy denies", "route", rt.Name, "user", user)
		forbidden(w, r, rt)
	}
	return a, false
}

// tunnelSignIn answers a tunnel request that must sign in: a 302 to
// this server's sign-in page.
func (s *Server) tunnelSignIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", s.baseURL(r)+"/.pomerium/sign_in")
	w.WriteHeader(http.StatusFound)
}

// admitTunnel is what every tunnel (CONNECT, connect-udp) passes before
// its upstream is dialed: the route's client CA, then its policy, with a
// stale or missing token sent to sign in, then an upstream to dial.
func (s *Server) admitTunnel(w http.ResponseWriter, r *http.Request, rt *routing.Route) (auth, bool) {
	r, ok := s.checkClientCert(w, r, rt)
	if !ok {
		return auth{}, false
	}
	a, ok := s.authorize(w, r, rt, func() { s.tunnelSignIn(w, r) }, true)
	if !ok {
		return auth{}, false
	}
	if len(rt.To) == 0 {
		// 503, never 502: pomerium-cli deletes its token on a 502.
		http.Error(w, "route "+rt.Name+" has no upstream", http.StatusServiceUnavailable)
		return auth{}, false
	}
	return a, true
}

// tunnelDialTimeout bounds a tunnel's upstream dial, even when the
// route's timeout is unlimited (0) for long-lived streams.
func tunnelDialTimeout(rt *routing.Route) time.Duration {
	if t := rt.EffectiveTimeout(); t > 0 {
		return t
	}
	return defaultDialTimeout
}

func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request) {
	rt := s.table.Load().MatchTCP(r.Host)
	if rt == nil {
		s.log.Info("connect: no route", "authority", r.Host)
		http.Error(w, "no route for "+r.Host, http.StatusNotFound)
		return
	}
	a, ok := s.admitTunnel(w, r, rt)
	if !ok {
		return
	}
	up, _, err := rt.Pool.DialTCP(r.Context(), clientIP(r), tunnelDialTimeout(rt))
	if err != nil {
		logErr(s.log, "connect: dialing upstream", err, "route", rt.Name)
		http.Error(w, "upstream of "+rt.Name+" is unreachable", http.StatusServiceUnavailable)
		return
	}
	defer up.Close()
	// On shutdown both ends are reset: a tunnel cut short must not look
	// like one that finished.
	var client atomic.Pointer[io.Closer]
	var shutdown atomic.Bool
	release, ok := s.trackTunnel(func() {
		shutdown.Store(true)
		resetConn(up)
		if c := client.Load(); c != nil {
			(*c).Close()
		}
	})
	if !ok {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer release()
	idle := rt.EffectiveIdleTimeout() // 0: unlimited
	user := ""
	if a.session != nil {
		user = a.session.Email
	}
	s.log.Info("tunnel open", "route", rt.Name, "user", user, "proto", r.Proto)
	closed := s.metrics.TunnelOpened(rt.Name)
	start := time.Now()
	streamDeadlines(w)
	var in, out int64
	failed := false
	if r.ProtoMajor == 1 {
		in, out = s.tunnelHTTP1(w, up, idle, &client)
	} else {
		var body io.Closer = r.Body
		client.Store(&body)
		in, out, failed = tunnelHTTP2(w, r, up, idle)
	}
	closed(in, out)
	s.log.Info("tunnel closed", "route", rt.Name, "user", user, "bytes_in", in, "bytes_out", out, "duration", time.Since(start).Round(time.Millisecond), "failed", failed || shutdown.Load())
	if r.ProtoMajor == 2 && (failed || shutdown.Load()) {
		panic(http.ErrAbortHandler) // RST_STREAM: the client resets its side
	}
}

func closeWrite(c any) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// activity closes a tunnel after idle without bytes in either direction
// (never when idle is 0).
type activity struct {
	done  atomic.Bool
	last  atomic.Int64
	idle  time.Duration
	timer *time.Timer
	once  sync.Once
}

func newActivity(idle time.Duration, onIdle func()) *activity {
	a := &activity{idle: idle}
	a.touch()
	if idle <= 0 {
		return a
	}
	var check func()
	check = func() {
		since := time.Since(time.Unix(0, a.last.Load()))
		if since >= a.idle {
			a.done.Store(true)
			a.once.Do(onIdle)
			return
		}
		a.timer.Reset(a.idle - since)
	}
	a.timer = time.AfterFunc(idle, check)
	return a
}

// fired reports whether the idle timeout ended the connection.
func (a *activity) fired() bool { return a.done.Load() }

func (a *activity) touch() { a.last.Store(time.Now().UnixNano()) }

// progress is touch as a copy loop's callback.
func (a *activity) progress(int) { a.touch() }
func (a *activity) stop() {
	if a.timer != nil {
		a.timer.Stop()
	}
}
