package app

import (
	"context"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/notify"
)

// wireNotices builds the delivery channels (generating the Web Push VAPID
// key on first start) and the notice room, whose delivery, schedule and
// re-notification jobs register on a.Jobs, and the next daily digest is
// queued. Realtime events go through
// a.Broker when there is one.
func (a *App) wireNotices(ctx context.Context) error {
	sms := a.cfg.SMS
	if sms == nil {
		sms = account.LogSender{Logger: a.Log}
	}
	nt, err := notify.New(ctx, a.DB, notify.Config{SMS: sms, Mail: a.cfg.Mail, Logger: a.Log})
	if err != nil {
		return err
	}
	var pub notice.Publisher
	if a.Broker != nil {
		if p, ok := any(a.Broker).(notice.Publisher); ok {
			pub = p
		}
	}
	a.Notices = notice.New(a.DB, a.Areas, a.Jobs, notice.Config{Now: a.Now, Logger: a.Log, Publisher: pub, Notify: nt, Sessions: a.Accounts})
	return a.Notices.ScheduleDigest(ctx)
}
