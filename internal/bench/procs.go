package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a child process whose CPU time and memory the harness reads
// from /proc.
type proc struct {
	name    string
	cmd     *exec.Cmd
	log     *bytes.Buffer // a helper's stderr
	logPath string        // a product binary's stderr (a file: see start)
}

// logs is the start of the child's stderr, for an error message.
func (p *proc) logs() string {
	if p.logPath == "" {
		return p.log.String()
	}
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 64<<10))
	return string(b)
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// cpu is the user+system time the process has used so far.
func (p *proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid()))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields count from its closing paren.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", p.pid())
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// switches is the context switches of all the process's threads so far,
// voluntary and not: each is a thread put to sleep or taken off its CPU.
func (p *proc) switches() (int64, error) {
	dirs, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.pid()))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, d := range dirs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", p.pid(), d.Name()))
		if err != nil {
			continue // the thread ended: its switches are gone with it
		}
		for _, k := range []string{"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"} {
			c, _ := statusField(string(b), k)
			n += c
		}
	}
	return n, nil
}

// statusField is the number after "key:" in a /proc status file, with a
// unit after it (" kB") left out, and whether the key was there.
func statusField(status, key string) (int64, bool) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			num, _, _ := strings.Cut(strings.TrimSpace(v), " ")
			n, err := strconv.ParseInt(num, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// rss is the resident set size in bytes.
func (p *proc) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0, err
	}
	kb, ok := statusField(string(b), "VmRSS")
	if !ok {
		return 0, fmt.Errorf("/proc/%d/status: no VmRSS", p.pid())
	}
	return kb << 10, nil
}

func (p *proc) stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	}
}

// procs starts and finally stops the children.
type procs struct {
	dir  string
	self string
	all  []*proc
}

func (ps *procs) stopAll() {
	for i := len(ps.all) - 1; i >= 0; i-- {
		ps.all[i].stop()
	}
}

// startHelper starts this executable in a helper role and returns the
// address it printed.
func (ps *procs) startHelper(ctx context.Context, role string, args ...string) (*proc, string, error) {
	cmd := exec.CommandContext(ctx, ps.self, append([]string{role}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	p := &proc{name: role, cmd: cmd, log: &bytes.Buffer{}}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting %s: %w", role, err)
	}
	ps.all = append(ps.all, p)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return nil, "", fmt.Errorf("%s printed no address: %w (%s)", role, err, p.logs())
	}
	return p, strings.TrimSpace(line), nil
}

// start starts a product binary with env; it is ready when ready returns nil.
func (ps *procs) start(ctx context.Context, name string, env []string, ready func() error, args ...string) (*proc, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	// stderr goes to a file, not a pipe: the client prints a line for each
	// connection, and a pipe would wake this process, the one timing
	// them, to copy every line.
	logf, err := os.CreateTemp(ps.dir, filepath.Base(name)+"-*.log")
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	p := &proc{name: filepath.Base(name), cmd: cmd, logPath: logf.Name()}
	cmd.Stdout = io.Discard
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	ps.all = append(ps.all, p)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ready()
		if err == nil {
			return p, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s not ready: %w\n%s", name, strings.Join(args, " "), err, p.logs())
		}
		time.Sleep(50 * time.Millisecond) // polling a child's readiness
	}
}

// limitedBuffer keeps the start of a child's log.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// freePort picks a loopback port for a child that needs it named up front.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// writeCert makes a self-signed ECDSA P-256 certificate for 127.0.0.1
// (the kind the dev CA issues) for the relay.
func writeCert(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "relay.pem"), filepath.Join(dir, "relay-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

// startServer runs pomerium-server --dev with one tcp route to echo.
func (ps *procs) startServer(ctx context.Context, bin, name, echo string) (*proc, string, string, error) {
	addr, err := freePort()
	if err != nil {
		return nil, "", "", err
	}
	dir := filepath.Join(ps.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", "", err
	}
	cfg := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("routes:\n  - from: tcp+https://%s/bench.internal:7100\n    to: tcp://%s\n    allow_any_authenticated_user: true\n", addr, echo)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		return nil, "", "", err
	}
	ca := filepath.Join(dir, "dev", "ca.pem")
	ready := func() error {
		pool, err := loadPool(ca)
		if err != nil {
			return err
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		defer c.CloseIdleConnections()
		resp, err := c.Get("https://" + addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz: %s", resp.Status)
		}
		return nil
	}
	p, err := ps.start(ctx, filepath.Join(bin, "pomerium-server"), []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, ready,
		"--dev", "--dev-dir", filepath.Join(dir, "dev"), "--address", addr, "--dev-auto-login", "dev@example.com",
		"--config", cfg, "--log-level", "error")
	if err != nil {
		return nil, "", "", err
	}
	p.name = "server-" + name
	return p, addr, ca, nil
}

// startClient signs pomerium-cli in to the server at addr (the "browser"
// is this executable) and starts `pomerium-cli tcp` on a local port.
func (ps *procs) startClient(ctx context.Context, bin, name, addr, ca string, extra ...string) (*proc, string, error) {
	dir := filepath.Join(ps.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	browser := filepath.Join(dir, "browser")
	script := fmt.Sprintf("#!/bin/sh\nexec '%s' browse -cert '%s' \"$@\"\n", ps.self, ca)
	if err := os.WriteFile(browser, []byte(script), 0o700); err != nil {
		return nil, "", err
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "POMERIUM_CLI_NO_KEYRING=1"}
	cli := filepath.Join(bin, "pomerium-cli")
	auth := exec.CommandContext(ctx, cli, "auth", "https://"+addr, "--browser-cmd", browser, "--alternate-ca-path", ca)
	auth.Env = env
	if out, err := auth.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("pomerium-cli auth: %w\n%s", err, out)
	}
	local, err := freePort()
	if err != nil {
		return nil, "", err
	}
	args := append([]string{"tcp", "tcp+https://" + addr + "/bench.internal:7100", "--listen", local, "--alternate-ca-path", ca}, extra...)
	p, err := ps.start(ctx, cli, env, func() error { return echoOnce(local) }, args...)
	if err != nil {
		return nil, "", err
	}
	p.name = "client-" + name
	return p, local, nil
}

// echoOnce opens one connection to addr and checks a byte comes back.
func echoOnce(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte{1}); err != nil {
		return err
	}
	_, err = io.ReadFull(c, make([]byte, 1))
	return err
}
