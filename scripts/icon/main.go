// Command icon draws the extension's marketplace icon, media/icon.png: a 128x128 key in front of a
// cloud on a rounded AWS-orange square. It uses only the standard library and is deterministic, so
// running it again gives the same bytes.
//
//	go run ./scripts/icon [-o media/icon.png]
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

const size = 128

// A shape reports how much of the pixel at (x, y) it covers, from 0 to 1.
type shape func(x, y float64) float64

// sample averages a shape over a 4x4 grid inside the pixel, for anti-aliased edges.
func sample(s shape, px, py int) float64 {
	const n = 4
	var sum float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			sum += s(float64(px)+(float64(i)+0.5)/n, float64(py)+(float64(j)+0.5)/n)
		}
	}
	return sum / (n * n)
}

func inside(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) float64 { return inside(math.Hypot(x-cx, y-cy) <= r) }
}

func rect(x0, y0, x1, y1 float64) shape {
	return func(x, y float64) float64 { return inside(x >= x0 && x < x1 && y >= y0 && y < y1) }
}

func roundedRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) float64 {
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return inside(x >= x0 && x < x1 && y >= y0 && y < y1 && math.Hypot(x-cx, y-cy) <= r)
	}
}

func union(shapes ...shape) shape {
	return func(x, y float64) float64 {
		for _, s := range shapes {
			if s(x, y) > 0 {
				return 1
			}
		}
		return 0
	}
}

func minus(a, b shape) shape {
	return func(x, y float64) float64 { return inside(a(x, y) > 0 && b(x, y) == 0) }
}

// over paints c onto img wherever s covers, blending by coverage.
func over(img *image.NRGBA, s shape, c color.NRGBA) {
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			a := sample(s, px, py) * float64(c.A) / 255
			if a == 0 {
				continue
			}
			d := img.NRGBAAt(px, py)
			da := float64(d.A) / 255
			oa := a + da*(1-a)
			mix := func(sc, dc uint8) uint8 {
				return uint8(math.Round((float64(sc)*a + float64(dc)*da*(1-a)) / oa))
			}
			img.SetNRGBA(px, py, color.NRGBA{mix(c.R, d.R), mix(c.G, d.G), mix(c.B, d.B), uint8(math.Round(oa * 255))})
		}
	}
}

func draw() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	orange := color.NRGBA{0xFF, 0x99, 0x00, 0xFF}
	navy := color.NRGBA{0x23, 0x2F, 0x3E, 0xFF}
	cloud := color.NRGBA{0xFF, 0xFF, 0xFF, 0xE6}

	over(img, roundedRect(0, 0, size, size, 22), orange)
	// The cloud: three bumps on a flat base, in the upper half.
	over(img, union(
		circle(44, 50, 17),
		circle(66, 40, 23),
		circle(88, 52, 15),
		roundedRect(27, 50, 103, 67, 8),
	), cloud)
	// The key: a ring bow on the left, a shaft to the right, two teeth hanging down.
	bow := minus(circle(38, 88, 18), circle(38, 88, 8))
	shaft := rect(52, 83, 108, 93)
	teeth := union(rect(88, 93, 96, 106), rect(100, 93, 108, 102))
	over(img, union(bow, shaft, teeth), navy)
	return img
}

func main() {
	out := flag.String("o", "media/icon.png", "where to write the PNG")
	flag.Parse()
	f, err := os.Create(*out)
	if err == nil {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(f, draw())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "icon:", err)
		os.Exit(1)
	}
}
