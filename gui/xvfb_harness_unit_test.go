package gui

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"
	"testing"
)

// TestScreenshotProblem: the screenshot check finds a widget's ink where
// the tree puts it, and nowhere else.
func TestScreenshotProblem(t *testing.T) {
	// 200x100 pixels at scale 2 (a 100x50 canvas), dark, with "text"
	// (light pixels) at pixels 20..60 x 10..30: canvas 10..30 x 5..15.
	img := image.NewRGBA(image.Rect(0, 0, 200, 100))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{23, 23, 23, 255}), image.Point{}, draw.Src)
	for y := 10; y < 30; y += 2 {
		for x := 20; x < 60; x += 3 {
			img.Set(x, y, color.RGBA{200, 200, 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	label := func(x, y float32) InspectTree {
		return InspectTree{Scale: 2, W: 100, H: 50, Nodes: []InspectNode{{Type: "label", Text: "hi", X: x, Y: y, W: 25, H: 12, Onscreen: true}}}
	}
	hi := []match{{typ: "label", text: "hi", layer: anyLayer}}
	for _, tc := range []struct {
		name  string
		tree  InspectTree
		inked []match
		want  string // in the problem; "" for none
	}{
		{"text where the tree says", label(8, 4), hi, ""},
		{"tree says elsewhere", label(60, 30), hi, "0 ink pixels"},
		{"widget missing", label(8, 4), []match{{typ: "button", text: "Save", layer: anyLayer}}, "nothing shown"},
		{"another window size", InspectTree{Scale: 1, W: 100, H: 50}, nil, "want the canvas's 100x50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := screenshotProblem(buf.Bytes(), tc.tree, tc.inked)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}
