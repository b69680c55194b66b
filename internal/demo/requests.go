package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/request"
)

// demoRequests are the requests the demo ward starts with: what residents
// of Bến Thành might send, filed by the ward official as walk-ins and
// calls, in different states.
var demoRequests = []struct {
	typ, desc, addr string
	kp, to          int
	dLat, dLon      float64
	then            []request.Change
	attrs           map[string]string
}{
	{"xay_dung_trai_phep", "Nhà số 48 đang đổ sàn tầng 5, không treo giấy phép xây dựng.", "48 Lê Lợi", 1, 1, 0.0004, 0.0003, nil, map[string]string{"stage": "frame"}},
	{"xay_dung_trai_phep", "Công trình cơi nới ban công lấn ra vỉa hè.", "115 Nguyễn Huệ", 1, 2, -0.0006, 0.0008, []request.Change{{Action: "acknowledge"}, {Action: "reply", Body: "Đội trật tự đô thị đã ghi nhận, sẽ kiểm tra hiện trường."}}, nil},
	{"lan_chiem_kenh_rach", "Đổ xà bần xuống rạch phía sau chợ vào ban đêm.", "Hẻm 22 Lê Thánh Tôn", 2, 1, 0.0011, -0.0004, []request.Change{{Action: "acknowledge"}, {Action: "start"}}, nil},
	{"ve_sinh_moi_truong", "Rác tồn đọng ba ngày ở đầu hẻm, bốc mùi.", "Đầu hẻm 40 Nguyễn Trãi", 2, 2, -0.0009, -0.0007, []request.Change{{Action: "acknowledge"}, {Action: "resolve", Body: "Tổ vệ sinh đã thu gom, bổ sung lịch thu rác sáng thứ Hai."}}, nil},
	{"ve_sinh_moi_truong", "Nước thải quán ăn chảy tràn ra lòng đường.", "72 Bùi Viện", 2, 3, 0.0002, 0.0012, nil, nil},
	{"ha_tang", "Đèn đường trước số 20 tắt cả tuần, buổi tối rất tối.", "20 Phạm Ngũ Lão", 1, 3, 0.0007, -0.0010, []request.Change{{Action: "acknowledge"}, {Action: "schedule", Body: "Điện lực sẽ thay bóng đèn."}}, map[string]string{"kind": "light"}},
	{"ha_tang", "Nắp cống bị vỡ, nguy hiểm cho người đi xe máy.", "Góc Đề Thám – Cống Quỳnh", 2, 1, -0.0013, 0.0005, []request.Change{{Action: "acknowledge"}, {Action: "resolve", Body: "Đã thay nắp cống mới."}}, map[string]string{"kind": "drain"}},
	{"ha_tang", "Mưa lớn là ngập nửa bánh xe, nước rút chậm.", "Nguyễn Thái Học", 1, 1, 0.0001, -0.0002, nil, map[string]string{"kind": "flood"}},
	{"tieng_on", "Quán karaoke hát đến 1 giờ sáng nhiều đêm liền.", "Hẻm 9 Lê Lợi", 1, 1, 0.0003, 0.0001, nil, nil},
	{"tieng_on", "Xưởng mộc chạy máy từ 5 giờ sáng.", "31 Trần Hưng Đạo", 2, 2, 0.0008, 0.0009, []request.Change{{Action: "acknowledge"}, {Action: "resolve", Body: "Tổ trưởng đã nhắc nhở, chủ xưởng cam kết làm từ 7 giờ."}}, nil},
	{"an_ninh_trat_tu", "Nhóm thanh niên tụ tập đua xe mỗi tối thứ Bảy.", "Công viên 23/9", 1, 2, -0.0003, -0.0012, []request.Change{{Action: "acknowledge"}, {Action: "note", Body: "Đã báo tổ tuần tra."}}, nil},
	{"hanh_chinh_cong", "Hồ sơ đăng ký hộ kinh doanh nộp hơn hai tuần chưa có kết quả.", "", 2, 3, 0, 0, []request.Change{{Action: "acknowledge"}, {Action: "reply", Body: "Bộ phận một cửa đang xử lý, dự kiến trả kết quả thứ Sáu."}}, nil},
	{"gop_y_khac", "Đề nghị bố trí thêm ghế đá ở công viên cho người già.", "", 1, 3, 0, 0, []request.Change{{Action: "not_ours", Body: "Việc này do Công ty Công viên cây xanh quản lý; phường đã chuyển kiến nghị."}}, nil},
	{"gop_y_khac", "Đề nghị họp tổ dân phố vào buổi tối để người đi làm tham dự.", "", 2, 1, 0, 0, []request.Change{{Action: "acknowledge"}, {Action: "resolve", Body: "Từ tháng sau họp tổ lúc 19 giờ."}}, nil},
}

// seedRequests adds the demo requests; it does nothing when they are already there.
func seedRequests(ctx context.Context, env Env) error {
	if env.Requests == nil {
		return nil
	}
	ward, err := env.Areas.UnitByCode(ctx, area.LevelCommune, WardCode)
	if err != nil {
		return err
	}
	var n int
	if err := env.DB.QueryRow(ctx, "SELECT COUNT(*) FROM requests WHERE ward_id = ?", ward.ID).Scan(&n); err != nil || n > 0 {
		return err
	}
	official, err := requestPrincipal(ctx, env.Accounts, "0900000002")
	if err != nil {
		return err
	}
	groups := map[[2]int]area.Unit{}
	kps, err := env.Areas.Children(ctx, ward.ID, false)
	if err != nil {
		return err
	}
	for k := 1; k <= 2; k++ {
		kp, err := findChild(kps, fmt.Sprintf("Khu phố %d", k))
		if err != nil {
			return err
		}
		tos, err := env.Areas.Children(ctx, kp.ID, false)
		if err != nil {
			return err
		}
		for g := 1; g <= 3; g++ {
			to, err := findChild(tos, fmt.Sprintf("Tổ %d", g))
			if err != nil {
				return err
			}
			groups[[2]int{k, g}] = to.Unit
		}
	}
	const lat0, lon0 = 10.772555, 106.692987
	names := []string{"Nguyễn Văn Tư", "Trần Thị Năm", "Lê Văn Sáu", "Phạm Thị Bảy", "Võ Văn Tám"}
	var ids []int64
	for round := 0; round < 2; round++ {
		for i, dr := range demoRequests {
			in := request.Input{TypeCode: dr.typ, Description: dr.desc, Address: dr.addr, UnitID: groups[[2]int{dr.kp, dr.to}].ID, Attrs: dr.attrs,
				OnBehalf: true, ReporterName: names[(i+round)%len(names)], ReporterPhone: fmt.Sprintf("0971%06d", 500000+10*i+round)}
			if dr.dLat != 0 {
				lat, lon := lat0+dr.dLat+float64(round)*0.0002, lon0+dr.dLon
				in.Lat, in.Lon = &lat, &lon
			}
			r, err := env.Requests.Submit(ctx, official, in)
			if err != nil {
				return fmt.Errorf("demo request %d: %w", i, err)
			}
			// Spread them over the past weeks; the second round is older.
			if err := env.Requests.Backdate(ctx, r.ID, time.Duration(i*7+round*240+2)*time.Hour); err != nil {
				return err
			}
			for _, c := range dr.then {
				if c.Action == "schedule" {
					c.ScheduledAt = time.Now().Add(48 * time.Hour)
				}
				if _, err := env.Requests.Handle(ctx, official, r.ID, c); err != nil {
					return fmt.Errorf("demo request %d %s: %w", i, c.Action, err)
				}
			}
			ids = append(ids, r.ID)
		}
	}
	// The second round's copy of the first report is a duplicate of it.
	if _, err := env.Requests.Handle(ctx, official, ids[len(demoRequests)], request.Change{Action: "merge", MergeInto: ids[0]}); err != nil {
		return err
	}
	// A noise report in Khu phố 1 › Tổ 1 three days old and untouched: its
	// deadlines have passed, and the job queue escalates it to Khu phố 1
	// (and then the ward) as soon as the server runs.
	r, err := env.Requests.Submit(ctx, official, request.Input{TypeCode: "tieng_on", Description: "Loa kẹo kéo mở hết cỡ trong hẻm mỗi tối, đã nhắc nhưng không giảm.",
		UnitID: groups[[2]int{1, 1}].ID, OnBehalf: true, ReporterName: "Đỗ Thị Chín", Address: "Hẻm 5 Lê Lợi"})
	if err != nil {
		return err
	}
	if err := env.Requests.Backdate(ctx, r.ID, 72*time.Hour); err != nil {
		return err
	}
	if env.Log != nil {
		env.Log.Info("demo requests seeded", "requests", len(ids)+1)
	}
	return nil
}

// requestPrincipal builds the principal of a seeded account, with its grants.
func requestPrincipal(ctx context.Context, accounts *account.Service, phone string) (*account.Principal, error) {
	a, err := accounts.AccountByPhone(ctx, phone)
	if err != nil {
		return nil, err
	}
	gs, err := accounts.Grants(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return &account.Principal{AccountID: a.ID, Name: a.Name, Phone: a.Phone, Grants: gs, Lang: "vi"}, nil
}
