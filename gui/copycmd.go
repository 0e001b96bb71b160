package gui

import (
	"fmt"

	"github.com/porthole-dev/porthole/connections"
	"github.com/porthole-dev/porthole/internal/shellquote"
)

// cliCommand is the pomerium-cli command that runs connection c in a
// terminal as the app runs it: `pomerium-cli tcp` (or udp) with the
// destination, local address, Pomerium URL and every TLS option the
// connection uses, so a pasted command works without a remembered server
// profile. Each word is quoted for a POSIX shell; a value with terminal
// controls is refused rather than copied.
func cliCommand(c connections.Connection, runningAddr string) (string, error) {
	verb := "tcp"
	if c.UDP() {
		verb = "udp"
	}
	words := []string{"pomerium-cli", verb, c.Destination}
	listen := c.ListenAddr
	if listen == "" {
		listen = runningAddr // the port the app picked, so clients keep theirs
	}
	if listen != "" {
		words = append(words, "--listen", listen)
	}
	if c.PomeriumURL != "" {
		words = append(words, "--pomerium-url", c.PomeriumURL)
	}
	t := c.TLS
	if t.CAFile != "" {
		words = append(words, "--alternate-ca-path", t.CAFile)
	}
	if t.CACert != "" {
		words = append(words, "--ca-cert", t.CACert)
	}
	if t.ClientCertFile != "" {
		words = append(words, "--client-cert", t.ClientCertFile)
	}
	if t.ClientKeyFile != "" {
		words = append(words, "--client-key", t.ClientKeyFile)
	}
	if t.DisableVerification {
		words = append(words, "--disable-tls-verification")
	}
	line, err := shellquote.Join(words...)
	if err != nil {
		return "", fmt.Errorf("connection %q cannot be written as a command: %w", c.Name, err)
	}
	return line, nil
}

// copyCommand puts connection id's pomerium-cli command on the clipboard.
func (w *MainWindow) copyCommand(id string) {
	c, ok := w.ctrl.Connection(id)
	if !ok {
		return
	}
	line, err := cliCommand(c, w.ctrl.State(id).Addr)
	if err != nil {
		w.showError(err)
		return
	}
	w.app.Clipboard().SetContent(line)
	w.lastInfo = "Copied: " + line
}
