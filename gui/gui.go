// Package gui is pomerium-desktop, the Fyne desktop app: saved
// connections grouped by tag, import from a routes portal or a file,
// connect and disconnect with live status, per-connection logs, and a
// system tray menu. Its state lives in a Controller (plain Go, no Fyne);
// MainWindow renders it.
//
//	ctrl := &gui.Controller{Store: connections.NewStore(path), Tokens: cache}
//	w := gui.NewMainWindow(app.NewWithID(gui.AppID), ctrl, gui.Options{})
//	w.Window().ShowAndRun()
//
// For tests only, PORTHOLE_DESKTOP_INSPECT=<socket path> (EnvInspect)
// makes the app answer "tree" on that 0600 unix socket, in a directory
// private to the user, with the visible widgets as JSON (InspectTree):
// the Xvfb tests drive the real window with xdotool and find text and
// positions there. Unset, nothing is opened.
package gui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/porthole-dev/porthole/authflow"
	"github.com/porthole-dev/porthole/cli/version"
	"github.com/porthole-dev/porthole/connections"
)

// AppID is the Fyne application id (preferences, notifications, the
// .desktop file's name).
const AppID = "dev.porthole.desktop"

// EnvNoKeyring=1 keeps tokens in a 0600 file instead of the OS keyring,
// as for pomerium-cli.
const EnvNoKeyring = "POMERIUM_CLI_NO_KEYRING"

// Main runs the desktop app and returns the exit code.
func Main(args []string) int {
	fs := flag.NewFlagSet("pomerium-desktop", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	store := fs.String("connections", connections.DefaultPath(), "the saved connections `file` (shared with pomerium-cli; env "+connections.EnvPath+")")
	noKeyring := fs.Bool("no-keyring", os.Getenv(EnvNoKeyring) == "1", "keep tokens in a 0600 file instead of the OS keyring (env "+EnvNoKeyring+"=1)")
	browserCmd := fs.String("browser-cmd", "", "`command` that opens sign-in URLs (the URL is its last argument); default: the desktop's browser")
	noAutostart := fs.Bool("no-autostart", false, "do not start the connections marked \"start at launch\"")
	showVersion := fs.Bool("version", false, "print the version and commit, then exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "pomerium-desktop: unexpected argument %q (see -h)\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Printf("pomerium-desktop %s\n", version.String())
		return 0
	}
	if *store == "" {
		fmt.Fprintln(os.Stderr, "pomerium-desktop: no user config dir: set $HOME or "+connections.EnvPath)
		return 1
	}

	useSessionBus() // before anything asks for the bus
	if err := displayProblem(os.Getenv, dialDisplay); err != nil {
		fmt.Fprintln(os.Stderr, "pomerium-desktop: "+err.Error())
		return 1
	}
	return runApp(*store, *noKeyring, *browserCmd, *noAutostart)
}

// quitOnSignal quits the app on SIGINT/SIGTERM from the start: Fyne's
// driver catches them too, but only once its loop runs, and a signal
// before that killed the app without stopping its listeners.
func quitOnSignal(a fyne.App, quitting *atomic.Bool) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		quitting.Store(true)
		fyne.Do(a.Quit)
	}()
}

// runApp opens the window and serves until the app quits. A display that
// vanishes between the check and GLFW's start makes GLFW panic; that
// becomes the same one-line message, not a stack trace.
func runApp(store string, noKeyring bool, browserCmd string, noAutostart bool) (code int) {
	var ctrl *Controller
	var quitting atomic.Bool
	defer func() {
		if r := recover(); r != nil {
			// Fyne 2.7's loop can still hand a mouse move to a window it
			// is closing (nil GLFW window) while the app quits: the quit
			// was asked for, so finish it rather than show a stack.
			if _, ok := r.(runtime.Error); ok && quitting.Load() {
				ctrl.StopAll()
				code = 0
				return
			}
			if !strings.Contains(fmt.Sprint(r), "GLFW") && !strings.Contains(fmt.Sprint(r), "X11") {
				panic(r)
			}
			fmt.Fprintf(os.Stderr, "pomerium-desktop: no display: %v (run it inside a desktop session, or use pomerium-cli in a terminal)\n", r)
			code = 1
		}
	}()
	inspectLn, err := openInspect(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pomerium-desktop: "+err.Error())
		return 1
	}
	repairUserPreferences() // before Fyne reads it
	log.SetOutput(&fyneNoise{w: os.Stderr})
	a := app.NewWithID(AppID)
	a.SetIcon(iconResource)
	ctrl = &Controller{
		Store:  connections.NewStore(store),
		Tokens: authflow.NewCache(authflow.CacheOptions{Stderr: os.Stderr, NoKeyring: noKeyring}),
		OpenURL: func(_ context.Context, signInURL string) error {
			u, err := url.Parse(signInURL)
			if err != nil {
				return fmt.Errorf("sign-in URL: %w", err)
			}
			// Not through the UI goroutine: the desktop drivers only start a
			// command, and Stop on the UI goroutine waits for the connection
			// that is signing in here.
			return a.OpenURL(u)
		},
		Stderr: os.Stderr,
	}
	if browserCmd != "" {
		ctrl.OpenURL = authflow.CommandOpener(browserCmd)
	}
	// Autostart begins once the window is wired to the controller, so a
	// connection that fails at launch shows in its row and sends a
	// notification like any other failure.
	w := NewMainWindow(a, ctrl, Options{Autostart: !noAutostart, BeforeQuit: func() { quitting.Store(true) }})
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go ctrl.WatchStore(watchCtx, 2*time.Second)
	if inspectLn != nil {
		defer inspectWindow(watchCtx, inspectLn, w)()
	}
	w.Window().SetMaster()
	quitOnSignal(a, &quitting)
	w.Window().Show()
	a.Run()
	ctrl.StopAll()
	return 0
}
