package gui

import (
	"context"
	"net/url"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// accountsView is the sidebar's "Accounts" area: per known server, who
// is signed in there, with Sign in or Sign out.
type accountsView struct {
	w    *MainWindow
	box  *fyne.Container
	none *widget.Label
	rows map[string]*accountRow // by host
	// relayout lays the sidebar out again when the area changed size.
	relayout func()

	mu      sync.Mutex
	loading bool
	again   bool // a reload was asked while one ran
	loads   int  // reloads shown, for tests
}

// accountRow is one server in the account area.
type accountRow struct {
	acct   Account
	host   *widget.Label
	who    *wordLabel        // whole words: an email is cut, never broken
	link   *widget.Hyperlink // the sign-in page while a sign-in waits
	button *widget.Button    // "Sign in" or "Sign out"
	busy   bool              // a sign-in or sign-out is under way
	cancel context.CancelFunc
}

func newAccountsView(w *MainWindow) *accountsView {
	v := &accountsView{w: w, rows: map[string]*accountRow{}, none: widget.NewLabel("No servers yet.")}
	v.none.Importance = widget.LowImportance
	v.box = container.NewVBox(v.none)
	return v
}

// object is the area with its heading, for the sidebar.
func (v *accountsView) object() fyne.CanvasObject {
	heading := widget.NewLabelWithStyle("Accounts", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVBox(widget.NewSeparator(), heading, v.box)
}

// reload reads the servers and tokens in the background (the keyring may
// be slow) and shows them; reloads asked meanwhile fold into one more.
func (v *accountsView) reload() {
	v.mu.Lock()
	if v.loading {
		v.again = true
		v.mu.Unlock()
		return
	}
	v.loading = true
	v.mu.Unlock()
	go func() {
		for {
			f := v.w.cliFactory()
			profiles, _ := f.Profiles() // unreadable: the connections' servers still show
			accts := v.w.ctrl.Accounts(profiles)
			v.w.do(func() { v.show(accts) })
			v.mu.Lock()
			if !v.again {
				v.loading = false
				v.mu.Unlock()
				return
			}
			v.again = false
			v.mu.Unlock()
		}
	}()
}

// show renders accts, keeping the rows of servers busy signing in or out.
func (v *accountsView) show(accts []Account) {
	v.loads++
	rows := make(map[string]*accountRow, len(accts))
	objs := make([]fyne.CanvasObject, 0, len(accts))
	for _, a := range accts {
		r := v.rows[a.Host]
		if r == nil {
			r = v.newRow()
		}
		if !r.busy {
			r.set(a)
		}
		rows[a.Host] = r
		objs = append(objs, container.NewVBox(r.host, r.who, r.link, container.NewHBox(r.button)))
	}
	for host, r := range v.rows {
		if rows[host] == nil && r.cancel != nil {
			r.cancel()
		}
	}
	v.rows = rows
	if len(objs) == 0 {
		objs = append(objs, v.none)
	}
	v.box.Objects = objs
	v.box.Refresh()
	if v.relayout != nil {
		v.relayout()
	}
}

func (v *accountsView) newRow() *accountRow {
	r := &accountRow{
		host: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		who:  newWordLabel(),
		link: widget.NewHyperlink("Open the sign-in page", nil),
	}
	r.host.Truncation = fyne.TextTruncateEllipsis
	r.link.OnTapped = func() {
		if r.link.URL != nil {
			_ = v.w.app.OpenURL(r.link.URL)
		}
	}
	r.link.Hide()
	r.button = widget.NewButton("", func() { v.act(r) })
	return r
}

func (r *accountRow) set(a Account) {
	r.acct = a
	r.host.SetText(a.Host)
	r.who.setFull(accountText(a))
	r.link.Hide()
	if a.SignedIn() {
		r.button.SetText("Sign out")
	} else {
		r.button.SetText("Sign in")
	}
	r.button.Enable()
}

// signInTimeout bounds a sign-in started from the account area.
const signInTimeout = 10 * time.Minute

// act signs in or out of the row's server in the background.
func (v *accountsView) act(r *accountRow) {
	if r.busy {
		return
	}
	r.busy = true
	r.button.Disable()
	a := r.acct
	if a.SignedIn() {
		r.who.setFull("signing out…")
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			warning, err := v.w.ctrl.SignOut(ctx, a)
			v.w.do(func() {
				r.busy = false
				switch {
				case err != nil:
					v.w.showError(err)
				case warning != "":
					v.w.showInfo("Signed out of "+a.Host, warning)
				default:
					v.w.lastInfo = "Signed out of " + a.Host
				}
				v.reload()
			})
		}()
		return
	}
	r.who.setFull("signing in… finish in your browser")
	ctx, cancel := context.WithTimeout(context.Background(), signInTimeout)
	r.cancel = cancel
	notify := func(signInURL string) {
		v.w.do(func() {
			if u, err := url.Parse(signInURL); err == nil && r.busy {
				r.link.SetURL(u)
				r.link.Show()
			}
		})
	}
	go func() {
		defer cancel()
		err := v.w.ctrl.SignInTo(ctx, a, notify)
		v.w.do(func() {
			r.busy, r.cancel = false, nil
			if err != nil && ctx.Err() == nil {
				v.w.showError(err)
			}
			v.reload()
		})
	}()
}
