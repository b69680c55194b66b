package request

import "strings"

// Common words have no postings. A word found in a large share of all
// requests — a function word ("của", "không"), the boilerplate of a
// petition ("đề nghị phường xử lý"), of an address ("nhà số … đường") —
// is a third of a request's postings and never the word a search is
// driven by: a search walks its rarest word's postings, and a search made
// only of common words reads the scope's requests newest first, where
// such words match densely. search_fold keeps every word, so the LIKE
// conditions that make each result exact still match them; the planner
// (planSearch) neither counts nor walks nor checks the postings of a
// common word, nor expands a prefix that starts a common word.
//
// The list is folded (vntext) and fixed: changing it changes which words
// the stored postings hold, so a word may only be added (postings an
// older version wrote for it are then never read).
var commonWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`
		va cua co la cac duoc cho khong nguoi trong nhung mot voi da nay de ra khi den tu thi theo
		cung nhu nhieu ve lam se tai do lai con dang vao bi roi hay phai moi nen neu rat ma o
		thuoc sau truoc tren duoi ngay nam thang gio luc toi chung ong ba anh chi em ho minh gi
		nao dau sao viec van them hon
		nghi xu ly kien y gop phan giai quyet som
		nha so duong phuong xa quan huyen khu pho to dan ap thon
	`) {
		m[w] = true
	}
	return m
}()

// postedTerms returns the distinct words of a search_fold that have
// postings: foldTerms without the common words.
func postedTerms(fold string) []string {
	ts := foldTerms(fold)
	out := ts[:0]
	for _, t := range ts {
		if !commonWords[t] {
			out = append(out, t)
		}
	}
	return out
}

// startsCommon reports whether prefix starts a common word: its postings
// then do not hold every word it stands for.
func startsCommon(prefix string) bool {
	for w := range commonWords {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}
