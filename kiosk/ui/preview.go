package ui

import (
	"context"
	"image"
	"image/color"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
)

var (
	previewBackground = color.NRGBA{R: 0x20, G: 0x24, B: 0x2a, A: 0xff}
	qrColour          = color.NRGBA{R: 0x00, G: 0xc8, B: 0xff, A: 0xff}
	faceColour        = color.NRGBA{R: 0x30, G: 0xe0, B: 0x60, A: 0xff}
	arrowColour       = color.NRGBA{R: 0xff, G: 0xd0, B: 0x20, A: 0xff}
)

// turn is the way the liveness prompt asks the citizen to turn their head.
type turn int

const (
	turnNone turn = iota
	turnLeft      // to the citizen's own left
	turnRight
)

// turnOf maps a liveness prompt's code to a turn.
func turnOf(code string) turn {
	switch code {
	case liveness.PromptTurnLeft.Code:
		return turnLeft
	case liveness.PromptTurnRight.Code:
		return turnRight
	}
	return turnNone
}

// Preview is the live camera picture with the QR outline and the face box drawn over it in
// the frame's own coordinates, scaled with the picture.
type Preview struct {
	Image   *canvas.Image
	Outline [4]*canvas.Line
	Face    *canvas.Rectangle
	Status  *widget.Label // "no camera" and the like, over the picture
	// Arrow is the head-turn prompt drawn over the picture: a shaft and two barbs.
	Arrow [3]*canvas.Line
	// Mirror shows the picture as a mirror would, for the citizen watching themselves turn:
	// the citizen's own left is then the screen's left, where the arrow points.
	Mirror bool
	turn   turn
	frame  image.Point
	quad   []image.Point
	box    image.Rectangle
	root   *fyne.Container
	lay    *previewLayout
}

func newPreview() *Preview {
	p := &Preview{Image: canvas.NewImageFromImage(nil), Face: canvas.NewRectangle(color.Transparent),
		Status: widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})}
	p.Image.FillMode = canvas.ImageFillContain
	p.Image.ScaleMode = canvas.ImageScaleFastest // the preview is redrawn at camera rate
	p.Face.StrokeColor = faceColour
	p.Face.StrokeWidth = 4
	p.Face.Hide()
	objs := []fyne.CanvasObject{canvas.NewRectangle(previewBackground), p.Image}
	for i := range p.Outline {
		p.Outline[i] = canvas.NewLine(qrColour)
		p.Outline[i].StrokeWidth = 4
		p.Outline[i].Hide()
		objs = append(objs, p.Outline[i])
	}
	objs = append(objs, p.Face)
	for i := range p.Arrow {
		p.Arrow[i] = canvas.NewLine(arrowColour)
		p.Arrow[i].StrokeWidth = 12
		p.Arrow[i].Hide()
		objs = append(objs, p.Arrow[i])
	}
	p.lay = &previewLayout{p: p}
	p.root = container.New(p.lay, objs...)
	return p
}

// SetFrame shows a camera frame.
func (p *Preview) SetFrame(img image.Image) {
	if img == nil {
		return
	}
	if p.Mirror {
		img = mirrored(img)
	}
	p.Image.Image = img
	p.Image.Refresh()
	// The overlay depends only on the frame's size and the widget's: a frame of the size
	// already laid out needs no new layout.
	if sz := img.Bounds().Size(); sz != p.frame || p.root.Size() != p.lay.size {
		p.frame = sz
		p.relayout()
	}
}

// SetOutline draws the QR candidate's corners (none hides it).
func (p *Preview) SetOutline(pts []image.Point) {
	if slices.Equal(pts, p.quad) {
		return
	}
	p.quad = append(p.quad[:0], pts...)
	p.relayout()
}

// SetFace draws the face box (an empty rectangle hides it).
func (p *Preview) SetFace(r image.Rectangle) {
	if r == p.box || (r.Empty() && p.box.Empty()) {
		return
	}
	p.box = r
	p.relayout()
}

// SetTurn draws the head-turn arrow (turnNone hides it).
func (p *Preview) SetTurn(t turn) {
	if t == p.turn {
		return
	}
	p.turn = t
	p.relayout()
}

// mirrored is img flipped left to right.
func mirrored(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(b.Dx()-1-x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

func (p *Preview) relayout() {
	p.lay.Layout(p.root.Objects, p.root.Size())
	for _, l := range p.Outline {
		l.Refresh()
	}
	for _, l := range p.Arrow {
		l.Refresh()
	}
	p.Face.Refresh()
}

// run shows the kiosk's camera frames until ctx ends; frames come from the camera bus, so
// a slow UI only skips frames and never holds the scanner back.
func (p *Preview) run(ctx context.Context, frames <-chan app.Frame) {
	for {
		select {
		case <-ctx.Done():
			return
		case f, ok := <-frames:
			if !ok {
				return
			}
			fyne.Do(func() { p.SetFrame(f.Image) })
		}
	}
}

func (p *Preview) view() fyne.CanvasObject {
	return container.NewStack(p.root, container.NewCenter(p.Status))
}

// previewLayout maps frame coordinates onto the picture as ImageFillContain draws it.
type previewLayout struct {
	p    *Preview
	size fyne.Size // of the last layout
}

func (l *previewLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(320, 180) }

func (l *previewLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.size = size
	for _, o := range objs[:2] { // background and picture fill the area
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	p := l.p
	l.layoutArrow(size)
	if p.frame.X == 0 || p.frame.Y == 0 {
		for _, ln := range p.Outline {
			ln.Hide()
		}
		p.Face.Hide()
		return
	}
	scale := min(size.Width/float32(p.frame.X), size.Height/float32(p.frame.Y))
	offX := (size.Width - scale*float32(p.frame.X)) / 2
	offY := (size.Height - scale*float32(p.frame.Y)) / 2
	at := func(pt image.Point) fyne.Position {
		if p.Mirror {
			pt.X = p.frame.X - pt.X
		}
		return fyne.NewPos(offX+scale*float32(pt.X), offY+scale*float32(pt.Y))
	}
	if len(p.quad) >= 4 {
		for i, ln := range p.Outline {
			ln.Position1 = at(p.quad[i])
			ln.Position2 = at(p.quad[(i+1)%4])
			ln.Show()
		}
	} else {
		for _, ln := range p.Outline {
			ln.Hide()
		}
	}
	if p.box.Empty() {
		p.Face.Hide()
		return
	}
	corner := p.box.Min
	if p.Mirror {
		corner.X = p.box.Max.X
	}
	p.Face.Move(at(corner))
	p.Face.Resize(fyne.NewSize(scale*float32(p.box.Dx()), scale*float32(p.box.Dy())))
	p.Face.Show()
}

// layoutArrow puts the turn arrow on the side the citizen turns to, pointing outwards: the
// citizen's left is the screen's left as they face it (and, mirrored, where their picture
// turns).
func (l *previewLayout) layoutArrow(size fyne.Size) {
	p := l.p
	if p.turn == turnNone {
		for _, a := range p.Arrow {
			a.Hide()
		}
		return
	}
	cy := size.Height / 2
	reach := size.Width * 0.2
	barb := min(reach/2, size.Height/6)
	tip, tail := size.Width*0.06, size.Width*0.06+reach
	dir := float32(1) // the barbs go back from the tip towards the tail
	if p.turn == turnRight {
		tip, tail, dir = size.Width-tip, size.Width-tail, -1
	}
	shaft, up, down := p.Arrow[0], p.Arrow[1], p.Arrow[2]
	shaft.Position1, shaft.Position2 = fyne.NewPos(tail, cy), fyne.NewPos(tip, cy)
	up.Position1, up.Position2 = fyne.NewPos(tip, cy), fyne.NewPos(tip+dir*barb, cy-barb)
	down.Position1, down.Position2 = fyne.NewPos(tip, cy), fyne.NewPos(tip+dir*barb, cy+barb)
	for _, a := range p.Arrow {
		a.Show()
	}
}
