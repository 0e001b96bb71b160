// Command demohelper is what scripts/demo.sh needs beyond bash, so the
// demo runs on a machine with only Go: a headless "browser" that follows
// a sign-in URL (cookie jar, trusting the dev CA), a free-port finder, a
// TCP round-trip check and a JSON field picker for the API's answers.
//
//	demohelper browse URL          (DEMO_CA=<ca.pem>)
//	demohelper freeport
//	demohelper echo ADDR MESSAGE
//	demohelper jsonget PATH < answer.json   (PATH: idToken, 0.id, name=echo.to.0)
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demohelper:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: demohelper browse URL | freeport | echo ADDR MESSAGE")
	}
	switch args[0] {
	case "browse":
		if len(args) < 2 {
			return errors.New("browse needs a URL")
		}
		return browse(args[len(args)-1])
	case "freeport":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("finding a free port: %w", err)
		}
		defer ln.Close()
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		return nil
	case "echo":
		if len(args) != 3 {
			return errors.New("echo needs ADDR MESSAGE")
		}
		return echo(args[1], args[2])
	case "jsonget":
		if len(args) != 2 {
			return errors.New("jsonget needs PATH")
		}
		return jsonGet(os.Stdin, args[1])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// browse GETs u following redirects the way a browser would, ending at
// the CLI's loopback callback.
func browse(u string) error {
	pool := x509.NewCertPool()
	if ca := os.Getenv("DEMO_CA"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return fmt.Errorf("reading DEMO_CA: %w", err)
		}
		pool.AppendCertsFromPEM(pem)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 60 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(u)
	if err != nil {
		return fmt.Errorf("browsing %s: %w", u, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	fmt.Fprintf(os.Stderr, "demohelper browse: finished at %s://%s%s (%s)\n", resp.Request.URL.Scheme, resp.Request.URL.Host, resp.Request.URL.Path, resp.Status)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sign-in ended with %s", resp.Status)
	}
	return nil
}

// echo sends message through addr, half-closes and expects it back.
func echo(addr, message string) error {
	var conn net.Conn
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		if conn, err = net.DialTimeout("tcp", addr, 5*time.Second); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the CLI may still be binding its listener
	}
	if err != nil {
		return fmt.Errorf("dialing %s: %w", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(conn, message); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	got := make([]byte, len(message))
	if _, err := io.ReadFull(conn, got); err != nil {
		return fmt.Errorf("reading the echo: %w", err)
	}
	if !bytes.Equal(got, []byte(message)) {
		return fmt.Errorf("echo: got %q; want %q", got, message)
	}
	fmt.Println(string(got))
	return nil
}

// jsonGet prints the string or number at path in the JSON document on r:
// dot-separated segments, each an object key, an array index, or k=v for
// the first array element whose field k is v.
func jsonGet(r io.Reader, path string) error {
	var v any
	if err := json.NewDecoder(io.LimitReader(r, 8<<20)).Decode(&v); err != nil {
		return fmt.Errorf("jsonget: reading JSON: %w", err)
	}
	for _, seg := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[seg]
		case []any:
			if k, want, ok := strings.Cut(seg, "="); ok {
				v = nil
				for _, e := range t {
					if m, _ := e.(map[string]any); m != nil && m[k] == want {
						v = m
						break
					}
				}
				break
			}
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return fmt.Errorf("jsonget: %s: no element %q", path, seg)
			}
			v = t[i]
		default:
			v = nil
		}
		if v == nil {
			return fmt.Errorf("jsonget: %s: nothing at %q", path, seg)
		}
	}
	switch t := v.(type) {
	case string:
		fmt.Println(t)
	case float64, bool:
		fmt.Println(t)
	default:
		return fmt.Errorf("jsonget: %s is not a string or number", path)
	}
	return nil
}
