package request

import (
	"context"

	"github.com/trothu/trothu/internal/db"
)

// indexIntake writes the search postings of a batch of new requests in
// one statement (terms.go), in their own transaction.
func indexIntake(ctx context.Context, tx *db.Tx, rows []*intakeRow) error {
	ps := make([]posting, 0, len(rows))
	for _, r := range rows {
		ps = append(ps, posting{id: r.id, created: r.at, path: r.path, terms: foldTerms(r.fold)})
	}
	return insertPostings(ctx, tx, ps)
}
