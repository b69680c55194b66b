package media

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/apperr"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x += 7 {
		img.Set(x, h/2, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegWithGPS returns a JPEG carrying an EXIF segment with a GPS tag, as a
// phone camera writes.
func jpegWithGPS(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 40, 30)), nil); err != nil {
		t.Fatal(err)
	}
	exif := []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08GPSLatitude 10.7725 GPSLongitude 106.6929")
	seg := append([]byte{0xFF, 0xE1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	raw := b.Bytes()
	return append(append(append([]byte{}, raw[:2]...), seg...), raw[2:]...)
}

func TestSaveResizesAndStripsMetadata(t *testing.T) {
	s, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Save(bytes.NewReader(pngOf(t, 3200, 1000)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 1600 || p.Height != 500 {
		t.Fatalf("resized: got %dx%d, want 1600x500", p.Width, p.Height)
	}
	in := jpegWithGPS(t)
	if !bytes.Contains(in, []byte("GPSLatitude")) {
		t.Fatal("fixture lacks its GPS tag")
	}
	q, err := s.Save(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(q.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, _ := io.ReadAll(f)
	if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("GPS")) {
		t.Fatalf("stored photo: got metadata kept (%d bytes), want none", len(out))
	}
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("stored photo: got %v, want a JPEG", err)
	}
	again, err := s.Save(bytes.NewReader(in))
	if err != nil || again.Name != q.Name {
		t.Fatalf("same photo again: got %q (%v), want the same name %q", again.Name, err, q.Name)
	}
}

func TestSaveRefusesWhatIsNotAPhoto(t *testing.T) {
	s, _ := NewStore(t.TempDir())
	big := append(pngOf(t, 10, 10), make([]byte, MaxBytes)...)
	for name, body := range map[string][]byte{
		"text":      []byte("<html>not an image</html>"),
		"too large": big,
		"truncated": pngOf(t, 50, 50)[:60],
	} {
		_, err := s.Save(bytes.NewReader(body))
		if apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
}

func TestOpenRefusesPathsOutsideTheStore(t *testing.T) {
	s, _ := NewStore(t.TempDir())
	for _, name := range []string{"../etc/passwd", "x.jpg", strings.Repeat("A", 32) + ".jpg", strings.Repeat("0", 32) + ".jpg"} {
		if _, err := s.Open(name); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("open %q: got %v, want not found", name, err)
		}
	}
	if _, err := os.Stat(s.dir); err != nil {
		t.Fatal(err)
	}
}
