package sheet_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/trothu/trothu/internal/sheet"
)

var header = []string{"Địa chỉ", "Chủ hộ", "Số nhân khẩu"}
var rows = [][]sheet.Cell{{"12 Lê Lợi", "Nguyễn Văn Học", 4}, {"5 <Đề Thám> & co", "Trần Thị \"Hoa\"", int64(1)}}

func TestCSVHasBOMAndRoundTrips(t *testing.T) {
	var b bytes.Buffer
	if err := sheet.WriteCSV(&b, header, rows); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if !strings.HasPrefix(s, "\ufeff") {
		t.Fatalf("csv: got %q, want a byte-order mark first", s[:10])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(s, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 3 || recs[2][1] != `Trần Thị "Hoa"` || recs[1][2] != "4" {
		t.Errorf("csv: got %v, %v; want the rows back", recs, err)
	}
}

func TestXLSXIsWellFormed(t *testing.T) {
	var b bytes.Buffer
	if err := sheet.WriteXLSX(&b, "Hộ chưa nhận: tổ 1", header, rows); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatalf("xlsx is not a zip: %v", err)
	}
	want := map[string]bool{"[Content_Types].xml": false, "_rels/.rels": false, "xl/workbook.xml": false, "xl/_rels/workbook.xml.rels": false, "xl/styles.xml": false, "xl/worksheets/sheet1.xml": false}
	var sheetXML string
	for _, f := range z.File {
		if _, ok := want[f.Name]; !ok {
			t.Errorf("unexpected part %s", f.Name)
			continue
		}
		want[f.Name] = true
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(rc)
		rc.Close()
		// Every part is well-formed XML.
		dec := xml.NewDecoder(bytes.NewReader(raw))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s is not well-formed: %v", f.Name, err)
			}
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			sheetXML = string(raw)
		}
	}
	for n, seen := range want {
		if !seen {
			t.Errorf("missing part %s", n)
		}
	}
	for _, s := range []string{`<c r="C2"><v>4</v></c>`, "5 &lt;Đề Thám&gt; &amp; co", `<c r="A1" s="1" t="inlineStr">`} {
		if !strings.Contains(sheetXML, s) {
			t.Errorf("sheet1.xml: got %s, want it to contain %s", sheetXML, s)
		}
	}
}
