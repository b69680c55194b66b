// Package sheet writes tables for people to open in a spreadsheet: CSV
// (UTF-8 with a byte-order mark, so Excel shows Vietnamese correctly) and a
// minimal valid XLSX (Office Open XML: one worksheet of inline strings and
// numbers) built on archive/zip and encoding/xml. It is a leaf: any room or
// the web layer may use it.
package sheet

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Cell is a value: string, an integer type or float64. Anything else is
// written with fmt.Sprint.
type Cell = any

// WriteCSV writes header and rows as CSV with a UTF-8 byte-order mark.
func WriteCSV(w io.Writer, header []string, rows [][]Cell) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, 0, len(header))
	for _, r := range rows {
		rec = rec[:0]
		for _, c := range r {
			rec = append(rec, text(c))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func text(c Cell) string {
	switch v := c.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func number(c Cell) (string, bool) {
	switch v := c.(type) {
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

const (
	contentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`
	rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	workbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`
	styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs></styleSheet>`
)

// WriteXLSX writes header (in bold, frozen) and rows as a one-sheet XLSX
// workbook named sheetName (at most 31 characters are kept).
func WriteXLSX(w io.Writer, sheetName string, header []string, rows [][]Cell) error {
	z := zip.NewWriter(w)
	put := func(name, body string) error {
		f, err := z.Create(name)
		if err != nil {
			return err
		}
		_, err = io.WriteString(f, body)
		return err
	}
	name := []rune(strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return ' '
		}
		return r
	}, sheetName))
	if len(name) > 31 {
		name = name[:31]
	}
	if len(name) == 0 {
		name = []rune("Sheet1")
	}
	workbook := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="` + esc(string(name)) + `" sheetId="1" r:id="rId1"/></sheets></workbook>`
	for _, p := range [][2]string{{"[Content_Types].xml", contentTypes}, {"_rels/.rels", rootRels}, {"xl/workbook.xml", workbook},
		{"xl/_rels/workbook.xml.rels", workbookRels}, {"xl/styles.xml", styles}} {
		if err := put(p[0], p[1]); err != nil {
			return err
		}
	}
	f, err := z.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	b := bufio.NewWriter(f)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>`)
	hdr := make([]Cell, len(header))
	for i, h := range header {
		hdr[i] = h
	}
	writeRow(b, 1, hdr, true)
	for i, r := range rows {
		writeRow(b, i+2, r, false)
	}
	b.WriteString(`</sheetData></worksheet>`)
	if err := b.Flush(); err != nil {
		return err
	}
	return z.Close()
}

func writeRow(b *bufio.Writer, n int, cells []Cell, bold bool) {
	b.WriteString(`<row r="` + strconv.Itoa(n) + `">`)
	for i, c := range cells {
		ref := colName(i) + strconv.Itoa(n)
		style := ""
		if bold {
			style = ` s="1"`
		}
		if v, ok := number(c); ok {
			b.WriteString(`<c r="` + ref + `"` + style + `><v>` + v + `</v></c>`)
			continue
		}
		b.WriteString(`<c r="` + ref + `"` + style + ` t="inlineStr"><is><t xml:space="preserve">` + esc(text(c)) + `</t></is></c>`)
	}
	b.WriteString(`</row>`)
}

// colName returns the spreadsheet column of index i: A, …, Z, AA, ….
func colName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

func esc(s string) string {
	var b strings.Builder
	// Characters XML 1.0 cannot carry are dropped.
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r != 0xFFFE && r != 0xFFFF) {
			return r
		}
		return -1
	}, s)
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
