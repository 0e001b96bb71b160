package gui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// EnvInspect names a unix socket on which the app answers "tree" with
// the window's visible widgets as JSON (InspectTree). It exists for the
// Xvfb tests, which drive the real app with xdotool and need to find text
// that Fyne draws as pixels. Unset (the default) opens nothing. The
// socket's directory must be private (0700, ours): the socket itself is
// made 0600 and there is no network listener.
const EnvInspect = "PORTHOLE_DESKTOP_INSPECT"

// InspectTree is the inspection answer: the window's canvas and the
// visible widgets, content first, then each overlay (dialogs) in order.
type InspectTree struct {
	Title string        `json:"title"`
	Scale float32       `json:"scale"` // pixels per Fyne unit
	W     float32       `json:"w"`     // canvas size, Fyne units
	H     float32       `json:"h"`
	Nodes []InspectNode `json:"nodes"`
}

// InspectNode is one visible widget. X, Y, W, H are in Fyne units from
// the canvas's top left (multiply by Scale for pixels).
type InspectNode struct {
	Type        string   `json:"type"` // label, button, entry, check, ...
	Text        string   `json:"text,omitempty"`
	Placeholder string   `json:"placeholder,omitempty"`
	FormLabel   string   `json:"formLabel,omitempty"` // the widget.Form item it is in
	Row         string   `json:"row,omitempty"`       // the connection row it is in
	Layer       int      `json:"layer"`               // 0 content, 1.. overlays (top is last)
	X           float32  `json:"x"`
	Y           float32  `json:"y"`
	W           float32  `json:"w"`
	H           float32  `json:"h"`
	Onscreen    bool     `json:"onscreen"` // some of it inside its scrollers and the canvas
	Disabled    bool     `json:"disabled,omitempty"`
	Checked     bool     `json:"checked,omitempty"`
	Focused     bool     `json:"focused,omitempty"`
	Importance  string   `json:"importance,omitempty"`
	Color       string   `json:"color,omitempty"` // fill of shapes (the status dot)
	Items       []string `json:"items,omitempty"` // accordion titles, radio options
	Open        []bool   `json:"open,omitempty"`  // accordion items open
	Length      int      `json:"length,omitempty"`
}

// inspectable is one of our own widgets, whose parts live in its renderer
// where the walk cannot see them; row names the connection row it is
// ("" inside one).
type inspectable interface {
	inspectChildren() (row string, children []fyne.CanvasObject)
}

func (r *connRow) inspectChildren() (string, []fyne.CanvasObject) {
	return r.name.Text, []fyne.CanvasObject{r.dot, r.name, r.tags, r.more, r.dest, r.listen, r.status, r.signIn, r.toggle}
}

func (c *tagChip) inspectChildren() (string, []fyne.CanvasObject) {
	return "", []fyne.CanvasObject{c.text}
}

type rect struct{ x, y, w, h float32 }

func (a rect) intersect(b rect) rect {
	x0, y0 := max(a.x, b.x), max(a.y, b.y)
	x1, y1 := min(a.x+a.w, b.x+b.w), min(a.y+a.h, b.y+b.h)
	return rect{x0, y0, max(0, x1-x0), max(0, y1-y0)}
}

func (a rect) empty() bool { return a.w <= 0 || a.h <= 0 }

// inspectWalk collects what a canvas shows. abs finds an object's
// position on the canvas (the driver's, which knows renderer layouts).
type inspectWalk struct {
	abs     func(fyne.CanvasObject) fyne.Position
	focused fyne.Focusable
	nodes   []InspectNode
}

type walkCtx struct {
	layer     int
	clip      rect
	row, form string
}

// Inspect describes what c shows now. Call it on the UI goroutine.
func Inspect(c fyne.Canvas, title string, abs func(fyne.CanvasObject) fyne.Position) InspectTree {
	size := c.Size()
	t := InspectTree{Title: title, Scale: c.Scale(), W: size.Width, H: size.Height}
	iw := &inspectWalk{abs: abs, focused: c.Focused()}
	all := rect{0, 0, size.Width, size.Height}
	if c.Content() != nil {
		iw.walk(c.Content(), walkCtx{clip: all})
	}
	for i, o := range c.Overlays().List() {
		iw.walk(o, walkCtx{layer: i + 1, clip: all})
	}
	t.Nodes = iw.nodes
	return t
}

func (iw *inspectWalk) rectOf(o fyne.CanvasObject) rect {
	p, s := iw.abs(o), o.Size()
	if l, ok := o.(*widget.Label); ok && l.Text != "" && (s.Width == 0 || s.Height == 0) {
		// A dialog's title is never resized by its layout; Fyne draws it
		// at its minimum size.
		s = l.MinSize()
	}
	return rect{p.X, p.Y, s.Width, s.Height}
}

func (iw *inspectWalk) walk(o fyne.CanvasObject, ctx walkCtx) {
	if o == nil || !o.Visible() {
		return
	}
	switch v := o.(type) {
	case *fyne.Container:
		for _, ch := range v.Objects {
			iw.walk(ch, ctx)
		}
	case *container.Scroll:
		ctx.clip = ctx.clip.intersect(iw.rectOf(v))
		iw.walk(v.Content, ctx)
	case *container.Split:
		iw.walk(v.Leading, ctx)
		iw.walk(v.Trailing, ctx)
	case *widget.PopUp:
		iw.walk(v.Content, ctx)
	case *widget.Form:
		for _, it := range v.Items {
			c := ctx
			c.form = it.Text
			iw.walk(it.Widget, c)
		}
	case *widget.Accordion:
		n := iw.node("accordion", v, ctx)
		for _, it := range v.Items {
			n.Items, n.Open = append(n.Items, it.Title), append(n.Open, it.Open)
		}
		iw.add(n)
		for _, it := range v.Items {
			if it.Open {
				iw.walk(it.Detail, ctx)
			}
		}
	case inspectable:
		row, children := v.inspectChildren()
		if row != "" {
			ctx.row = row
		}
		for _, ch := range children {
			iw.walk(ch, ctx)
		}
	default:
		if n, ok := iw.leaf(o, ctx); ok {
			iw.add(n)
		}
	}
}

// leaf describes the widgets that show text or state.
func (iw *inspectWalk) leaf(o fyne.CanvasObject, ctx walkCtx) (InspectNode, bool) {
	switch v := o.(type) {
	case *wordLabel:
		n := iw.node("label", v, ctx)
		n.Text, n.Importance = v.Text, importanceName(v.Importance)
		return n, true
	case *widget.Label:
		n := iw.node("label", v, ctx)
		n.Text, n.Importance = v.Text, importanceName(v.Importance)
		return n, true
	case *widget.Button:
		n := iw.node("button", v, ctx)
		n.Text, n.Disabled, n.Importance = v.Text, v.Disabled(), importanceName(v.Importance)
		return n, true
	case *widget.Entry:
		n := iw.node("entry", v, ctx)
		n.Text, n.Placeholder, n.Disabled = v.Text, v.PlaceHolder, v.Disabled()
		if v.Password {
			n.Text = strings.Repeat("•", len([]rune(v.Text)))
		}
		return n, true
	case *widget.Check:
		n := iw.node("check", v, ctx)
		n.Text, n.Checked, n.Disabled = v.Text, v.Checked, v.Disabled()
		return n, true
	case *widget.Hyperlink:
		n := iw.node("hyperlink", v, ctx)
		n.Text = v.Text
		return n, true
	case *widget.RadioGroup:
		n := iw.node("radio", v, ctx)
		n.Text, n.Items, n.Disabled = v.Selected, v.Options, v.Disabled()
		return n, true
	case *widget.Select:
		n := iw.node("select", v, ctx)
		n.Text, n.Items, n.Disabled = v.Selected, v.Options, v.Disabled()
		return n, true
	case *widget.List:
		n := iw.node("list", v, ctx)
		if v.Length != nil {
			n.Length = v.Length()
		}
		return n, true
	case *widget.RichText:
		n := iw.node("richtext", v, ctx)
		n.Text = v.String()
		return n, true
	case *canvas.Text:
		n := iw.node("text", v, ctx)
		n.Text = v.Text
		return n, true
	case *canvas.Circle:
		n := iw.node("circle", v, ctx)
		n.Color = hexColor(v.FillColor)
		return n, true
	case *widget.Separator, *canvas.Rectangle, *canvas.Image, *widget.Icon, *layout.Spacer:
		return InspectNode{}, false
	}
	return iw.node(fmt.Sprintf("%T", o), o, ctx), true
}

func (iw *inspectWalk) node(typ string, o fyne.CanvasObject, ctx walkCtx) InspectNode {
	r := iw.rectOf(o)
	n := InspectNode{Type: typ, Layer: ctx.layer, Row: ctx.row, FormLabel: ctx.form,
		X: r.x, Y: r.y, W: r.w, H: r.h, Onscreen: !r.intersect(ctx.clip).empty()}
	if f, ok := o.(fyne.Focusable); ok && iw.focused != nil && f == iw.focused {
		n.Focused = true
	}
	return n
}

func (iw *inspectWalk) add(n InspectNode) { iw.nodes = append(iw.nodes, n) }

func importanceName(i widget.Importance) string {
	switch i {
	case widget.LowImportance:
		return "low"
	case widget.HighImportance:
		return "high"
	case widget.DangerImportance:
		return "danger"
	case widget.WarningImportance:
		return "warning"
	case widget.SuccessImportance:
		return "success"
	}
	return ""
}

func hexColor(c color.Color) string {
	if c == nil {
		return ""
	}
	r, g, b, a := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x%02x", r>>8, g>>8, b>>8, a>>8)
}

// inspectMaxRequest bounds a request line; inspectTimeout bounds one
// exchange, so a stuck client cannot hold a goroutine.
const (
	inspectMaxRequest = 64
	inspectTimeout    = 30 * time.Second
)

// listenInspect opens the inspection socket at path: its directory must
// be private to us, the socket is 0600.
func listenInspect(path string) (net.Listener, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%s=%q: give an absolute socket path", EnvInspect, path)
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvInspect, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 || ok && int(st.Uid) != os.Getuid() {
		return nil, fmt.Errorf("%s: the directory %s must be yours and private (chmod 700)", EnvInspect, filepath.Dir(path))
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvInspect, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("%s: %w", EnvInspect, err)
	}
	return ln, nil
}

// serveInspect answers requests on ln until ctx ends: "tree" gets the
// JSON of dump (run on the UI goroutine by do), anything else an error
// object. One request per connection.
func serveInspect(ctx context.Context, ln net.Listener, do func(func()), dump func() InspectTree) {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go answerInspect(c, do, dump)
	}
}

func answerInspect(c net.Conn, do func(func()), dump func() InspectTree) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(inspectTimeout))
	line, err := bufio.NewReaderSize(io.LimitReader(c, inspectMaxRequest), inspectMaxRequest).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return
	}
	enc := json.NewEncoder(c)
	if strings.TrimSpace(line) != "tree" {
		_ = enc.Encode(map[string]string{"error": "unknown request: send \"tree\""})
		return
	}
	var t InspectTree
	do(func() { t = dump() })
	_ = enc.Encode(t)
}

// openInspect opens the inspection socket when EnvInspect is set
// (getenv); nil when it is not. Open it before building the window, so a
// bad setting fails the start before anything runs.
func openInspect(getenv func(string) string) (net.Listener, error) {
	if path := getenv(EnvInspect); path != "" {
		return listenInspect(path)
	}
	return nil, nil
}

// inspectWindow serves ln for w until ctx ends; stop also removes the
// socket.
func inspectWindow(ctx context.Context, ln net.Listener, w *MainWindow) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		serveInspect(ctx, ln, fyne.DoAndWait, func() InspectTree {
			return Inspect(w.win.Canvas(), w.win.Title(), w.app.Driver().AbsolutePositionForObject)
		})
	}()
	return func() {
		cancel()
		<-done
		_ = os.Remove(ln.Addr().String())
	}
}
