package web

import (
	"html/template"
	"regexp"
	"strings"
	"time"
)

// noticeFuncs are the template functions of the notice pages.
var noticeFuncs = template.FuncMap{
	// ms turns an optional time into the Unix milliseconds "time" shows.
	"ms": func(t *time.Time) int64 {
		if t == nil {
			return 0
		}
		return t.UnixMilli()
	},
	"tms":      func(t time.Time) int64 { return t.UnixMilli() },
	"linkify":  linkify,
	"prioList": func() []string { return []string{"normal", "important", "urgent"} },
	"kb":       func(n int64) int64 { return (n + 1023) / 1024 },
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"']+[^\s<>"'.,;:!?)\]]`)

// linkify shows plain text with its web addresses as links and its line
// breaks kept; everything else is escaped.
func linkify(s string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range linkRE.FindAllStringIndex(s, -1) {
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		u := template.HTMLEscapeString(s[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `" rel="noopener noreferrer nofollow">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(strings.ReplaceAll(b.String(), "\n", "<br>\n")) // #nosec: every part is escaped above
}
