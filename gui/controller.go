package gui

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/tlsconfig"
	"github.com/porthole-dev/porthole/tunnel"
)

// Listener is what the controller needs of a started *tunnel.Listener.
type Listener interface {
	Addr() net.Addr
	Stop() error
	Done() <-chan struct{}
	Err() error
}

// ListenFunc starts a local listener for cfg; tunnel.Listen by default.
type ListenFunc func(ctx context.Context, addr string, cfg tunnel.Config) (Listener, error)

func tunnelListen(ctx context.Context, addr string, cfg tunnel.Config) (Listener, error) {
	return tunnel.Listen(ctx, addr, cfg)
}

// maxLog is how many events each connection's log keeps.
const maxLog = 500

// Controller owns the saved connections and the running tunnels. It has
// no Fyne code: the window renders its State and calls its methods, and
// it reports changes through OnChange from any goroutine.
type Controller struct {
	Store  *connections.Store
	Listen ListenFunc          // nil: tunnel.Listen
	Tokens authflow.TokenStore // token cache shared by every sign-in
	// OpenURL opens a sign-in URL in a browser; nil opens nothing (the
	// URL is still shown as a link).
	OpenURL      func(ctx context.Context, signInURL string) error
	LoginTimeout time.Duration // 0: authflow's default
	Stderr       io.Writer     // authflow's notices; nil discards
	// OnChange is told that connection id's state or log changed ("" when
	// the list itself changed). It runs on the caller's goroutine and
	// must not block.
	OnChange func(id string)
	// OnSignedIn is told that a connection's sign-in finished (a token
	// was cached). Any goroutine; must not block.
	OnSignedIn func()
	// OnNotify is asked to tell the user something (a sign-in is needed,
	// a connection failed). Must not block.
	OnNotify func(title, body string)

	mu     sync.Mutex
	list   []connections.Connection
	runs   map[string]*run
	failed map[string]error // why a connection is off, until it starts again
	logs   map[string][]LogEntry
	auths  map[tlsconfig.Options]*authflow.Authenticator
}

// run is one running listener.
type run struct {
	cancel    context.CancelFunc
	ln        Listener
	addr      string
	active    map[uint64]bool
	signInURL string
	lastErr   error
	stopping  bool
}

// Load reads the store. Call it once at start and after outside changes.
func (c *Controller) Load() error {
	list, err := c.Store.List()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.list = list
	var gone []string
	for id := range c.runs {
		if !slices.ContainsFunc(list, func(x connections.Connection) bool { return x.ID == id }) {
			gone = append(gone, id)
		}
	}
	c.mu.Unlock()
	// A running connection removed from the store (by the CLI, or a
	// portal re-import) would have no row left to switch it off.
	for _, id := range gone {
		c.Stop(id)
	}
	c.changed("")
	return nil
}

// WatchStore reloads the list when the store file changes on disk (the
// CLI editing it while the app runs), checking every interval until ctx
// ends. A reload that fails (a half-edited file) is retried next time.
func (c *Controller) WatchStore(ctx context.Context, interval time.Duration) {
	stamp := func() string {
		fi, err := os.Stat(c.Store.Path)
		if err != nil {
			return ""
		}
		return fmt.Sprint(fi.ModTime().UnixNano(), fi.Size())
	}
	// No stamp yet: the first tick reloads, so an edit made between the
	// caller's Load and this goroutine starting is not missed.
	last := ""
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if now := stamp(); now != last {
			if err := c.Load(); err == nil {
				last = now
			}
		}
	}
}

// Connections returns the saved connections, sorted by name.
func (c *Controller) Connections() []connections.Connection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.list)
}

// Connection returns one saved connection by id.
func (c *Controller) Connection(id string) (connections.Connection, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.list, func(x connections.Connection) bool { return x.ID == id })
	if i < 0 {
		return connections.Connection{}, false
	}
	return c.list[i], true
}

// Save validates and stores conn (new when its ID is empty). A running
// connection keeps its old settings until it is restarted.
func (c *Controller) Save(conn connections.Connection) (connections.Connection, error) {
	saved, err := c.Store.Put(conn)
	if err != nil {
		return connections.Connection{}, err
	}
	return saved, c.Load()
}

// Delete stops and removes a connection.
func (c *Controller) Delete(id string) error {
	c.Stop(id)
	if err := c.Store.Delete(id); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.logs, id)
	delete(c.failed, id)
	c.mu.Unlock()
	return c.Load()
}

// Duplicate saves a copy of a connection named "<name> copy", without its
// portal source (so a re-import never touches it) and with a free port.
func (c *Controller) Duplicate(id string) (connections.Connection, error) {
	conn, ok := c.Connection(id)
	if !ok {
		return connections.Connection{}, fmt.Errorf("connection id %q: %w", id, connections.ErrNotFound)
	}
	conn.ID, conn.Source, conn.ListenAddr, conn.Autostart = "", nil, "", false
	conn.Name += " copy"
	conn.Tags = slices.Clone(conn.Tags)
	return c.Save(conn)
}

// State is what the window shows for one connection.
type State struct {
	Running   bool
	Starting  bool   // Listen has not returned yet
	Addr      string // local address while running
	Active    int    // open client connections
	SignInURL string // set while a sign-in waits for the browser
	Err       error  // why it stopped, or the last failed connection
	// Traffic are the listener's live counters while it runs (bytes each
	// way, connections in all); zero for a listener without counters.
	Traffic tunnel.Stats
}

// Text is the status line: off, listening on ADDR, signing in, N active,
// error: reason; with the bytes each way once some flowed.
func (s State) Text() string {
	if s.Running && !s.Starting && s.Active == 0 && s.SignInURL == "" && s.Err == nil {
		return "listening on " + s.Addr + s.trafficSuffix()
	}
	return s.Short()
}

// Short is Text without the local address, for the row (which shows the
// address in a column of its own): "2 active · ↑1.2 MiB ↓40 KiB".
func (s State) Short() string {
	switch {
	case s.SignInURL != "":
		return "signing in"
	case !s.Running && s.Err != nil:
		return errorText(s.Err)
	case !s.Running:
		return "off"
	case s.Starting:
		return "starting"
	case s.Active > 0:
		return fmt.Sprintf("%d active", s.Active) + s.trafficSuffix()
	case s.Err != nil:
		return errorText(s.Err)
	}
	return "listening" + s.trafficSuffix()
}

// State returns the current state of connection id.
func (c *Controller) State(id string) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.runs[id]
	if r == nil {
		return State{Err: c.failed[id]}
	}
	return State{Running: true, Starting: r.ln == nil, Addr: r.addr, Active: len(r.active), SignInURL: r.signInURL, Err: r.lastErr, Traffic: statsOf(r.ln)}
}

// LogEntry is one line of a connection's log.
type LogEntry struct {
	Time time.Time
	Text string
}

func (e LogEntry) String() string { return e.Time.Format("2006-01-02 15:04:05") + "  " + e.Text }

// Log returns connection id's log, newest first.
func (c *Controller) Log(id string) []LogEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := slices.Clone(c.logs[id])
	slices.Reverse(l)
	return l
}

// WriteLog writes connection id's log to w, newest first.
func (c *Controller) WriteLog(id string, w io.Writer) error {
	for _, e := range c.Log(id) {
		if _, err := fmt.Fprintln(w, e.String()); err != nil {
			return fmt.Errorf("writing the log: %w", err)
		}
	}
	return nil
}

func (c *Controller) logLocked(id, text string) { c.logAtLocked(id, time.Now(), text) }

func (c *Controller) logAtLocked(id string, t time.Time, text string) {
	if c.logs == nil {
		c.logs = map[string][]LogEntry{}
	}
	l := append(c.logs[id], LogEntry{Time: t, Text: text})
	if len(l) > maxLog {
		l = slices.Delete(l, 0, len(l)-maxLog)
	}
	c.logs[id] = l
}

// Running reports whether connection id is started.
func (c *Controller) Running(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[id] != nil
}

// RunningCount is how many connections are started.
func (c *Controller) RunningCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.runs)
}

// Start opens connection id's local listener. Sign-in happens when the
// first client connects. Errors are also kept in the connection's State.
func (c *Controller) Start(id string) error {
	conn, ok := c.Connection(id)
	if !ok {
		return fmt.Errorf("connection id %q: %w", id, connections.ErrNotFound)
	}
	c.mu.Lock()
	if c.runs[id] != nil {
		c.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{cancel: cancel, active: map[uint64]bool{}}
	if c.runs == nil {
		c.runs = map[string]*run{}
	}
	c.runs[id] = r
	delete(c.failed, id)
	c.logLocked(id, "starting "+conn.Destination)
	c.mu.Unlock()
	c.changed(id)

	ln, err := c.listen(ctx, conn, r)
	c.mu.Lock()
	if err != nil {
		cancel()
		if c.runs[id] == r {
			delete(c.runs, id)
			c.setFailedLocked(id, err)
		}
		c.mu.Unlock()
		c.changed(id)
		c.notify("Connection failed: "+conn.Name, err.Error())
		return err
	}
	if c.runs[id] != r { // stopped while starting
		c.mu.Unlock()
		_ = ln.Stop()
		return nil
	}
	r.ln, r.addr = ln, ln.Addr().String() // the tunnel logs its own "listening"
	c.mu.Unlock()
	c.changed(id)
	go c.watch(id, conn.Name, r)
	return nil
}

func (c *Controller) listen(ctx context.Context, conn connections.Connection, r *run) (Listener, error) {
	dst, err := conn.ParseDestination()
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	tlsCfg, err := conn.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	cfg := tunnel.Config{
		Destination: dst,
		TLSConfig:   tlsCfg,
		Auth:        c.authFor(conn.TLS, tlsCfg),
		Proxy:       http.ProxyFromEnvironment,
		OnEvent:     func(ev tunnel.Event) { c.onEvent(conn.ID, conn.Name, r, ev) },
	}
	addr := conn.ListenAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	listen := c.Listen
	if listen == nil {
		if conn.UDP() {
			return tunnel.ListenUDP(ctx, addr, cfg, tunnel.UDPOptions{})
		}
		listen = tunnelListen
	}
	return listen(ctx, addr, cfg)
}

// watch waits for a listener to end on its own (an error) or by Stop.
func (c *Controller) watch(id, name string, r *run) {
	<-r.ln.Done()
	err := r.ln.Err()
	c.mu.Lock()
	if c.runs[id] != r {
		c.mu.Unlock()
		return
	}
	delete(c.runs, id)
	r.cancel()
	if err != nil && !r.stopping {
		c.setFailedLocked(id, err)
	} else {
		c.logLocked(id, "stopped")
	}
	c.mu.Unlock()
	c.changed(id)
	if err != nil && !r.stopping {
		c.notify("Connection failed: "+name, err.Error())
	}
}

func (c *Controller) setFailedLocked(id string, err error) {
	if c.failed == nil {
		c.failed = map[string]error{}
	}
	c.failed[id] = err
	c.logLocked(id, "error: "+err.Error())
}

// Stop closes connection id's listener and its open connections.
func (c *Controller) Stop(id string) {
	c.mu.Lock()
	r := c.runs[id]
	delete(c.failed, id)
	if r == nil {
		c.mu.Unlock()
		c.changed(id)
		return
	}
	r.stopping = true
	delete(c.runs, id)
	c.logLocked(id, "stopped")
	c.mu.Unlock()
	r.cancel()
	if r.ln != nil {
		_ = r.ln.Stop()
	}
	c.changed(id)
}

// StopAll stops every running connection (at exit).
func (c *Controller) StopAll() {
	c.mu.Lock()
	ids := make([]string, 0, len(c.runs))
	for id := range c.runs {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.Stop(id)
	}
}

// StartAutostart starts the connections marked "start at launch".
func (c *Controller) StartAutostart() {
	for _, conn := range c.Connections() {
		if conn.Autostart {
			_ = c.Start(conn.ID) // the error is in the connection's state
		}
	}
}

// onEvent runs on the tunnel's goroutines and must not block.
func (c *Controller) onEvent(id, name string, r *run, ev tunnel.Event) {
	var title, body string
	signedIn := false
	c.mu.Lock()
	if c.runs[id] != r {
		c.mu.Unlock()
		return
	}
	switch ev.Kind {
	case tunnel.EventListening:
		if ev.Addr != "" {
			r.addr = ev.Addr
		}
	case tunnel.EventSignIn:
		if ev.SignInURL != "" && r.signInURL != ev.SignInURL {
			title, body = "Sign-in needed: "+name, "Finish signing in in your browser."
		}
		r.signInURL = ev.SignInURL
	case tunnel.EventConnected:
		signedIn = r.signInURL != ""
		r.active[ev.ConnID] = true
		r.signInURL, r.lastErr = "", nil
	case tunnel.EventClosed:
		delete(r.active, ev.ConnID)
	case tunnel.EventError:
		delete(r.active, ev.ConnID)
		r.signInURL = ""
		if ev.Err != nil {
			if r.lastErr == nil {
				title, body = "Connection failed: "+name, notifyText(ev.Err)
			}
			r.lastErr = ev.Err
		}
	}
	at := ev.Time
	if at.IsZero() {
		at = time.Now()
	}
	// The entry has its own time stamp; drop the event's.
	line := strings.TrimPrefix(ev.String(), ev.Time.Format(time.TimeOnly)+" ")
	c.logAtLocked(id, at, line)
	c.mu.Unlock()
	c.changed(id)
	if signedIn && c.OnSignedIn != nil {
		c.OnSignedIn()
	}
	if title != "" {
		c.notify(title, body)
	}
}

func (c *Controller) changed(id string) {
	if c.OnChange != nil {
		c.OnChange(id)
	}
}

func (c *Controller) notify(title, body string) {
	if c.OnNotify != nil {
		c.OnNotify(title, body)
	}
}

// authFor returns the authenticator for a set of TLS options: one per
// set, so connections to the same cluster share one sign-in while the
// login API is reached with the same TLS settings as the tunnel.
func (c *Controller) authFor(opts tlsconfig.Options, cfg *tls.Config) *authflow.Authenticator {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.auths[opts]; a != nil {
		return a
	}
	stderr := c.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	a := &authflow.Authenticator{
		Flow: &authflow.Flow{
			HTTPClient: authflow.NewHTTPClient(cfg),
			OpenURL:    c.OpenURL,
			Stderr:     stderr,
			Timeout:    c.LoginTimeout,
		},
		Store: c.Tokens,
	}
	if c.auths == nil {
		c.auths = map[tlsconfig.Options]*authflow.Authenticator{}
	}
	c.auths[opts] = a
	return a
}
