package quality

import (
	"errors"
	"fmt"
	"math"
)

// Point is a position in frame pixels.
type Point struct{ X, Y float64 }

func (p Point) sub(q Point) Point     { return Point{p.X - q.X, p.Y - q.Y} }
func (p Point) dot(q Point) float64   { return p.X*q.X + p.Y*q.Y }
func (p Point) len() float64          { return math.Hypot(p.X, p.Y) }
func mid(a, b Point) Point            { return Point{(a.X + b.X) / 2, (a.Y + b.Y) / 2} }
func (p Point) finite() bool          { return !math.IsNaN(p.X+p.Y) && !math.IsInf(p.X+p.Y, 0) }
func (p Point) scale(f float64) Point { return Point{p.X * f, p.Y * f} }
func (p Point) add(q Point) Point     { return Point{p.X + q.X, p.Y + q.Y} }
func rot90(p Point) Point             { return Point{-p.Y, p.X} }
func (p Point) unit() Point           { return p.scale(1 / p.len()) }
func angleDeg(p Point) float64        { return math.Atan2(p.Y, p.X) * 180 / math.Pi }
func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
func toDeg(rad float64) float64       { return rad * 180 / math.Pi }

// Landmarks are dlib's 5 face points in its order: the outer and inner corner of the eye on
// the image's right (0, 1), the outer and inner corner of the eye on the image's left (2, 3),
// and the base of the nose (4). FromShape makes them from a 5- or 68-point model's output.
type Landmarks [5]Point

// Errors for landmarks that cannot be read.
var (
	// ErrDegenerate: the landmarks do not describe a face (eyes on top of each other, NaN).
	ErrDegenerate = errors.New("degenerate landmarks")
	// ErrShapeSize: the landmark model gives a number of points that is neither dlib's 5
	// nor its 68 (the wrong file under the landmark model's name).
	ErrShapeSize = errors.New("landmark model gives neither 5 nor 68 points")
)

// from68 are the points of dlib's 68-point (iBUG 300-W) shape that dlib's 5-point model
// predicts, in Landmarks order: the corners 45 and 42 of the eye on the image's right
// (points 42–47), the corners 36 and 39 of the eye on the image's left (36–41), and the nose
// base 33. Corners rather than the mean of each eye's 6 points, and the base rather than the
// tip (30), so that both models give one geometry and the pose constants fit both.
var from68 = [5]int{45, 42, 36, 39, 33}

// FromShape reads the Landmarks from a landmark model's points, 5 or 68 of them.
func FromShape(pts []Point) (Landmarks, error) {
	var l Landmarks
	switch len(pts) {
	case len(l):
		copy(l[:], pts)
	case 68:
		for i, j := range from68 {
			l[i] = pts[j]
		}
	default:
		return l, fmt.Errorf("%w: got %d", ErrShapeSize, len(pts))
	}
	return l, nil
}

// Pose is the head geometry read from the landmarks.
type Pose struct {
	// IOD is the distance between the eye centres in pixels: the face's size.
	IOD float64
	// Roll is the in-plane tilt of the eye line in degrees, positive clockwise on screen.
	Roll float64
	// Yaw is the estimated head turn in degrees. Positive means the nose moved towards the
	// image's right: in an unmirrored camera image, the citizen turned to their own left.
	Yaw float64
	// EyeCentre is the midpoint between the eye centres.
	EyeCentre Point
}

// noseDepth is the distance of the nose base in front of the line between the eye centres,
// in units of the inter-eye distance (anthropometric average about 0.3; 0.35 fits dlib's
// 5-point template). Under a turn by θ the nose base moves across the eye line by
// noseDepth·sin θ while the eye line shortens by cos θ, so θ = atan(offset / noseDepth).
// It is an estimate good to several degrees: enough to ask for and check a head turn.
const noseDepth = 0.35

// EstimatePose computes size, roll and yaw from the 5 landmarks.
func EstimatePose(l Landmarks) (Pose, error) {
	for _, p := range l {
		if !p.finite() {
			return Pose{}, ErrDegenerate
		}
	}
	right := mid(l[0], l[1]) // eye on the image's right
	left := mid(l[2], l[3])
	axis := right.sub(left)
	iod := axis.len()
	if iod < 1 {
		return Pose{}, ErrDegenerate
	}
	centre := mid(left, right)
	u := axis.unit()
	// Offset of the nose base along the eye line, relative to the eye distance.
	offset := l[4].sub(centre).dot(u) / iod
	// The nose must lie below the eye line (in the face's own frame).
	if l[4].sub(centre).dot(rot90(u)) <= 0 {
		return Pose{}, ErrDegenerate
	}
	return Pose{
		IOD:       iod,
		Roll:      angleDeg(axis),
		Yaw:       toDeg(math.Atan(offset / noseDepth)),
		EyeCentre: centre,
	}, nil
}

// SyntheticLandmarks builds the landmarks of a face at centre with inter-eye distance iod,
// rolled by roll degrees and turned by yaw degrees, using the same model EstimatePose
// inverts. It serves tests and the liveness simulator.
func SyntheticLandmarks(centre Point, iod, roll, yaw float64) Landmarks {
	th := yaw * math.Pi / 180
	// Face frame: x along the eye line (towards the image's right eye), y down the face.
	halfEye := 0.5 * math.Cos(th)
	eyeHalfWidth := 0.17 // half the width of one eye, in IOD units
	pts := [5]Point{
		{halfEye + eyeHalfWidth*math.Cos(th), 0},
		{halfEye - eyeHalfWidth*math.Cos(th), 0},
		{-halfEye - eyeHalfWidth*math.Cos(th), 0},
		{-halfEye + eyeHalfWidth*math.Cos(th), 0},
		{noseDepth * math.Sin(th), 0.62},
	}
	r := roll * math.Pi / 180
	c, s := math.Cos(r), math.Sin(r)
	var l Landmarks
	for i, p := range pts {
		p = p.scale(iod)
		l[i] = centre.add(Point{p.X*c - p.Y*s, p.X*s + p.Y*c})
	}
	return l
}
