package demo

import (
	"context"
	"fmt"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/group"
)

// seedGroups gives each demo tổ its automatic group with some history and
// the ward an announce-only group run by the commune official. It does
// nothing when groups exist already.
func seedGroups(ctx context.Context, env Env) error {
	if env.Groups == nil {
		return nil
	}
	var n int
	if err := env.DB.QueryRow(ctx, "SELECT COUNT(*) FROM community_groups").Scan(&n); err != nil || n > 0 {
		return err
	}
	ward, err := env.Areas.UnitByCode(ctx, area.LevelCommune, WardCode)
	if err != nil {
		return err
	}
	official, err := principalOf(ctx, env, "0900000002")
	if err != nil {
		return err
	}
	head, err := principalOf(ctx, env, "0900000005")
	if err != nil {
		return err
	}
	police, err := principalOf(ctx, env, "0900000006")
	if err != nil {
		return err
	}
	volunteer, err := principalOf(ctx, env, "0900000007")
	if err != nil {
		return err
	}
	g := env.Groups

	wg, err := g.Create(ctx, official, group.Input{UnitID: ward.ID, Name: "Phường Bến Thành — Thông báo", AnnounceOnly: true,
		Description: "Kênh thông báo chính thức của UBND phường. Bà con trả lời bên dưới mỗi tin để hỏi thêm."})
	if err != nil {
		return fmt.Errorf("demo groups: %w", err)
	}
	pin, err := post(ctx, g, official, wg.ID, 0, "UBND phường Bến Thành thông báo: từ ngày 01/12 tiếp nhận đăng ký cấp căn cước lưu động tại nhà cho người cao tuổi, người khuyết tật. Bà con đăng ký với tổ trưởng tổ dân phố.")
	if err != nil {
		return err
	}
	if err := g.Pin(ctx, official, wg.ID, pin, true); err != nil {
		return err
	}
	if _, err := post(ctx, g, official, wg.ID, 0, "Lịch tiêm chủng mở rộng: sáng thứ Bảy, 7 giờ 30 đến 11 giờ, tại Trạm y tế phường. Nhớ mang theo sổ tiêm của bé."); err != nil {
		return err
	}
	if _, err := post(ctx, g, official, wg.ID, 0, "Chủ nhật này phường ra quân tổng vệ sinh các tuyến hẻm. Mời bà con cùng tham gia từ 6 giờ sáng."); err != nil {
		return err
	}

	kps, err := env.Areas.Children(ctx, ward.ID, false)
	if err != nil {
		return err
	}
	for _, kp := range kps {
		tos, err := env.Areas.Children(ctx, kp.ID, false)
		if err != nil {
			return err
		}
		for _, to := range tos {
			owner := official
			if kp.Name == "Khu phố 1" && to.Name == "Tổ 1" {
				owner = head
			}
			tg, err := g.Create(ctx, owner, group.Input{UnitID: to.ID, Name: to.Name + " — " + kp.Name,
				Description: "Nhóm của cư dân " + to.Name + ", " + kp.Name + ": thông báo, hỏi đáp, góp ý, giúp nhau."})
			if err != nil {
				return fmt.Errorf("demo groups: %w", err)
			}
			if _, err := post(ctx, g, owner, tg.ID, 0, "Chào cả nhà! Đây là nhóm chính thức của "+to.Name+". Mọi thông báo, góp ý xin gửi ở đây; tin nhắn được lưu lại và có người phụ trách trả lời."); err != nil {
				return err
			}
			if owner == head {
				if err := seedTo1(ctx, g, head, police, volunteer, tg.ID); err != nil {
					return err
				}
			}
		}
	}
	if env.Log != nil {
		env.Log.Info("demo groups seeded")
	}
	return nil
}

// seedTo1 gives Tổ 1's group the kind of history the seed story tells of.
func seedTo1(ctx context.Context, g *group.Service, head, police, volunteer *account.Principal, gid int64) error {
	if _, err := post(ctx, g, police, gid, 0, "Công an phường nhắc bà con khoá cửa cẩn thận, không để xe máy ngoài hẻm qua đêm. Thấy người lạ khả nghi xin báo ngay cho tổ trưởng."); err != nil {
		return err
	}
	// The volunteer lives a level up: she joins by the tổ head's invite.
	inv, err := g.CreateInvite(ctx, head, gid, 0)
	if err != nil {
		return err
	}
	if _, err := g.AcceptInvite(ctx, volunteer, inv.Token); err != nil {
		return err
	}
	offer, err := post(ctx, g, volunteer, gid, 0, "Hộ nào đang cách ly hoặc neo đơn cần mua nhu yếu phẩm thì nhắn cô Kiều, cô đi chợ giúp nhé.")
	if err != nil {
		return err
	}
	if _, err := post(ctx, g, head, gid, offer, "Cảm ơn cô Kiều! Tổ sẽ gửi danh sách các hộ neo đơn cho cô."); err != nil {
		return err
	}
	_, err = post(ctx, g, head, gid, 0, "Tối thứ Bảy 19 giờ họp tổ tại nhà văn hoá khu phố: bàn về lắp đèn chiếu sáng hẻm 12.")
	return err
}

func post(ctx context.Context, g *group.Service, p *account.Principal, gid, replyTo int64, body string) (int64, error) {
	m, err := g.Post(ctx, p, gid, group.PostInput{Body: body, ReplyTo: replyTo})
	if err != nil {
		return 0, fmt.Errorf("demo message: %w", err)
	}
	return m.ID, nil
}
