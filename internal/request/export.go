package request

import (
	"context"
	"strconv"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/workcal"
)

// Export returns the queue p may export as rows (a header first), at most
// max requests, for CSV or XLSX. It needs account.ActExportRequests on
// every scope exported; the export is audited. Errors as Queue.
func (s *Service) Export(ctx context.Context, p *account.Principal, f Filter, max int) ([][]string, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if len(p.Scopes(account.ActExportRequests)) == 0 {
		return nil, apperr.ErrForbidden
	}
	if f.UnitID != 0 {
		u, err := s.areas.Unit(ctx, f.UnitID)
		if err != nil {
			return nil, err
		}
		if err := account.Authorize(p, account.ActExportRequests, u.Path); err != nil {
			return nil, err
		}
	}
	rows := [][]string{{"Mã", "Ngày gửi", "Loại", "Trạng thái", "Đơn vị", "Cơ quan xử lý", "Địa chỉ", "Nội dung", "Người xử lý", "Hạn tiếp nhận", "Hạn xử lý", "Quá hạn", "Chuyển lên"}}
	f.Limit = 200
	for len(rows)-1 < max {
		page, err := s.Queue(ctx, p, f)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Items {
			if !p.Can(account.ActExportRequests, r.UnitPath) && (r.EscalatedPath == "" || !p.Can(account.ActExportRequests, r.EscalatedPath)) {
				continue
			}
			overdue := ""
			if r.Overdue {
				overdue = "x"
			}
			rows = append(rows, []string{strconv.FormatInt(r.ID, 10), r.CreatedAt.In(workcal.Zone).Format("02/01/2006 15:04"), r.TypeName,
				r.Status.Label("vi"), r.UnitName, r.Agency, r.Address, r.Description, r.AssigneeName,
				r.AckDue.In(workcal.Zone).Format("02/01/2006 15:04"), r.ResolveDue.In(workcal.Zone).Format("02/01/2006 15:04"), overdue, r.EscalatedTo})
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
	}
	if len(rows)-1 > max {
		rows = rows[:max+1]
	}
	err := audit.Record(ctx, s.d, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: audit.DataExported, SubjectType: "requests",
		Detail: strconv.Itoa(len(rows)-1) + " yêu cầu", UnitPath: p.Scopes(account.ActExportRequests)[0]})
	return rows, err
}
