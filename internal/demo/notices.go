package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/notice"
)

// principalOf returns the demo account's principal, grants included.
func principalOf(ctx context.Context, env Env, phone string) (*account.Principal, error) {
	a, err := env.Accounts.AccountByPhone(ctx, phone)
	if err != nil {
		return nil, fmt.Errorf("demo account %s: %w", phone, err)
	}
	gs, err := env.Accounts.Grants(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return &account.Principal{AccountID: a.ID, Name: a.Name, Phone: a.Phone, ResidentID: a.ResidentID, Grants: gs}, nil
}

// seedNotices adds three announcements at three levels (ward, khu phố 1,
// tổ 1) with a local note and partial reach, so the reach pages show
// something real. It does nothing when notices exist already.
func seedNotices(ctx context.Context, env Env) error {
	if env.Notices == nil {
		return nil
	}
	var n int
	if err := env.DB.QueryRow(ctx, "SELECT COUNT(*) FROM notices").Scan(&n); err != nil || n > 0 {
		return err
	}
	ward, err := env.Areas.UnitByCode(ctx, area.LevelCommune, WardCode)
	if err != nil {
		return err
	}
	kids, err := env.Areas.Children(ctx, ward.ID, false)
	if err != nil {
		return err
	}
	kp1, err := findChild(kids, "Khu phố 1")
	if err != nil {
		return err
	}
	gk, err := env.Areas.Children(ctx, kp1.ID, false)
	if err != nil {
		return err
	}
	to1, err := findChild(gk, "Tổ 1")
	if err != nil {
		return err
	}
	leader, err := principalOf(ctx, env, "0900000003")
	if err != nil {
		return err
	}
	kpHead, err := principalOf(ctx, env, "0900000004")
	if err != nil {
		return err
	}
	groupHead, err := principalOf(ctx, env, "0900000005")
	if err != nil {
		return err
	}
	week := time.Now().Add(7 * 24 * time.Hour)
	sends := []struct {
		p     *account.Principal
		in    notice.Input
		share int // of every 10 households, how many acknowledged
	}{
		{leader, notice.Input{UnitID: ward.ID, Title: "Lịch tiêm chủng mở rộng tháng này", Priority: notice.Important, AckRequired: true, ExpiresAt: &week,
			Body: "Trạm y tế phường tổ chức tiêm chủng mở rộng cho trẻ dưới 5 tuổi vào sáng thứ Bảy và Chủ nhật, 7 giờ 30 – 11 giờ, tại trạm y tế phường. Mang theo sổ tiêm chủng. Chi tiết: https://vnvc.vn"}, 7},
		{kpHead, notice.Input{UnitID: kp1.ID, Title: "Phun thuốc diệt muỗi phòng sốt xuất huyết",
			Body: "Sáng Chủ nhật tuần này đội y tế sẽ phun thuốc diệt muỗi trong khu phố 1. Bà con vui lòng mở cửa, che đậy thức ăn và nước uống."}, 5},
		{groupHead, notice.Input{UnitID: to1.ID, Title: "Họp tổ dân phố tháng này", AckRequired: true,
			Body: "Mời đại diện các hộ dự họp tổ lúc 19 giờ thứ Sáu tại nhà văn hoá khu phố 1. Nội dung: vệ sinh môi trường, an ninh trật tự."}, 6},
	}
	for i, s := range sends {
		nt, err := env.Notices.Create(ctx, s.p, s.in)
		if err != nil {
			return fmt.Errorf("demo notice: %w", err)
		}
		if i == 0 {
			if _, err := env.Notices.AddNote(ctx, groupHead, nt.ID, to1.ID, "Tổ 1: tổ trưởng sẽ đến tận nhà nhắc các hộ có trẻ nhỏ."); err != nil {
				return fmt.Errorf("demo note: %w", err)
			}
		}
		if err := partialReach(ctx, env.DB, nt.ID, s.share); err != nil {
			return err
		}
	}
	if env.Log != nil {
		env.Log.Info("demo notices seeded", "notices", len(sends))
	}
	return nil
}

// partialReach marks most households delivered, many seen and share in
// ten acknowledged, in one statement each, leaving the demo residents'
// own households (0900000010, 0900000011) for a person to try.
func partialReach(ctx context.Context, d *db.DB, noticeID int64, share int) error {
	now := db.Millis(time.Now())
	return d.Write(ctx, func(tx *db.Tx) error {
		keep := `household_id NOT IN (SELECT household_id FROM residents WHERE phone IN ('+84900000010', '+84900000011', '0900000010', '0900000011'))`
		if _, err := tx.Exec(ctx, `UPDATE notice_deliveries SET delivered_at = COALESCE(delivered_at, ?) WHERE notice_id = ? AND household_id % 10 <> 0 AND `+keep, now, noticeID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE notice_deliveries SET seen_at = ? WHERE notice_id = ? AND household_id % 10 < ? AND household_id % 10 <> 0 AND `+keep, now, noticeID, share+1); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE notice_deliveries SET acked_at = ?, ack_name = 'Thành viên hộ' WHERE notice_id = ? AND household_id % 10 < ? AND household_id % 10 <> 0 AND `+keep, now, noticeID, share)
		return err
	})
}
