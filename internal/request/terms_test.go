package request

import (
	"context"
	"fmt"
	"testing"

	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
)

// BenchmarkIndexTerms times what the index adds to one intake: the
// search_fold of a typical report and its postings, 64 intakes a
// transaction as under group commit.
//
//	go test -run '^$' -bench BenchmarkIndexTerms -benchtime 20000x ./internal/request/
func BenchmarkIndexTerms(b *testing.B) {
	const text = "Nhà số 14 hẻm 42 Lê Lợi đang đổ sàn tầng 4, không có giấy phép, tiếng ồn từ 6 giờ sáng đến 10 giờ đêm, đề nghị phường kiểm tra xử lý. 14 Lê Lợi Xây dựng trái phép, sai phép"
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i += 64 {
				err := d.Write(ctx, func(tx *db.Tx) error {
					for j := i; j < min(i+64, b.N); j++ {
						fold := searchFold(text)
						if err := indexTerms(ctx, tx, int64(j+1), int64(j), fmt.Sprintf("/1/2/%d/", j%100), fold); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
