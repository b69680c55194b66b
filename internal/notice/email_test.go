package notice_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/notice"
	"github.com/trothu/trothu/internal/notify"
)

// smtpMsg is one message the test SMTP server accepted.
type smtpMsg struct {
	from string
	to   []string
	data string
}

// smtpServer is a minimal SMTP server on 127.0.0.1: enough of RFC 5321 for
// net/smtp (EHLO without extensions, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
// It answers the first failFirst DATA commands with 451, a temporary
// failure.
type smtpServer struct {
	ln        net.Listener
	mu        sync.Mutex
	msgs      []smtpMsg
	failFirst int
	wg        sync.WaitGroup
}

func newSMTPServer(t *testing.T, failFirst int) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, failFirst: failFirst}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = io.WriteString(c, line+"\r\n") }
	say("220 test.local ESMTP")
	var m smtpMsg
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		arg := func(prefix string) string {
			v := strings.TrimSpace(line[min(len(line), len(prefix)):])
			return strings.Trim(v, "<>")
		}
		switch verb {
		case "EHLO", "HELO":
			say("250 test.local")
		case "MAIL":
			m = smtpMsg{from: arg("MAIL FROM:")}
			say("250 OK")
		case "RCPT":
			m.to = append(m.to, arg("RCPT TO:"))
			say("250 OK")
		case "DATA":
			s.mu.Lock()
			fail := s.failFirst > 0
			if fail {
				s.failFirst--
			}
			s.mu.Unlock()
			if fail {
				say("451 4.3.0 try again later")
				continue
			}
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 OK queued")
		case "RSET", "NOOP":
			say("250 OK")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func (s *smtpServer) messages() []smtpMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// grant records a role grant in the database, where the email job looks.
func grant(t *testing.T, d *db.DB, p *account.Principal) {
	t.Helper()
	ctx := context.Background()
	g := p.Grants[0]
	if err := d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO role_grants(account_id, role, unit_id, unit_path, created_at) VALUES (?, ?, ?, ?, 1)", p.AccountID, string(g.Role), g.UnitID, g.UnitPath)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestEmailToOfficials(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d, 3)
		srv := newSMTPServer(t, 1)
		mailer, err := notify.ParseSMTPURL("smtp://"+srv.ln.Addr().String(), "", "UBND Phường <ubnd@phuong.example.vn>")
		if err != nil {
			t.Fatal(err)
		}
		nt, err := notify.New(ctx, d, notify.Config{SMS: w.sms, Mail: mailer, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		w.start(t, nt)
		to3Head := w.account(t, "Tổ trưởng tổ 3", account.RoleGroupHead, w.to3, pTo3, 0)
		emails := map[*account.Principal]string{
			w.official:  "can-bo@phuong.example.vn", // ward: covers khu phố 2
			to3Head:     "to-truong-3@example.vn",   // tổ 3, inside khu phố 2
			w.kpHead:    "truong-kp1@example.vn",    // khu phố 1: not targeted
			w.volunteer: "tinh-nguyen@example.vn",   // not an official role
			w.outsider:  "nguoi-dan@example.vn",     // a resident of tổ 3
		}
		for p, e := range emails {
			grant(t, d, p)
			if got, err := nt.SetEmail(ctx, p, " "+e+" "); err != nil || got != e {
				t.Fatalf("set email: got %q, %v; want %q", got, err, e)
			}
		}
		if _, err := nt.SetEmail(ctx, w.groupHead, "not an address"); err == nil {
			t.Errorf("malformed email: got no error, want invalid")
		}
		n, err := w.svc.Create(ctx, w.official, notice.Input{UnitID: w.kp2, Title: "Cắt điện khu phố 2", Body: "Thứ Bảy từ 8 giờ đến 11 giờ, điện lực bảo trì đường dây.", Priority: notice.Urgent})
		if err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		// The server refused the first message: that send failed and its job
		// waits for a retry.
		r, err := w.svc.Reach(ctx, w.official, n.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Channels[notify.ChannelEmail]; got["failed"] != 1 || got["sent"] != 1 {
			t.Errorf("email counts after the first attempt: got %v, want 1 sent, 1 failed", got)
		}
		w.clk.Add(time.Hour)
		w.drain(t)
		r, err = w.svc.Reach(ctx, w.official, n.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Channels[notify.ChannelEmail]; got["sent"] != 2 || got["failed"] != 0 {
			t.Errorf("email counts after the retry: got %v, want 2 sent, 0 failed", got)
		}
		msgs := srv.messages()
		var rcpts []string
		for _, m := range msgs {
			rcpts = append(rcpts, m.to...)
			if m.from != "ubnd@phuong.example.vn" {
				t.Errorf("MAIL FROM: got %q, want ubnd@phuong.example.vn", m.from)
			}
			pm, err := mail.ReadMessage(strings.NewReader(m.data))
			if err != nil {
				t.Fatalf("message: %v", err)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
			if want := "[Thông báo khẩn] Cắt điện khu phố 2 — Khu phố 2"; err != nil || subject != want {
				t.Errorf("subject: got %q, %v; want %q", subject, err, want)
			}
			if to := pm.Header.Get("To"); to != m.to[0] {
				t.Errorf("To header: got %q, want %q", to, m.to[0])
			}
			body, _ := io.ReadAll(pm.Body)
			for _, want := range []string{"Thứ Bảy từ 8 giờ đến 11 giờ, điện lực bảo trì đường dây.", "Người gửi: Cán bộ Phường", "/notices/"} {
				if !strings.Contains(string(body), want) {
					t.Errorf("body: got %q, want it to contain %q", body, want)
				}
			}
		}
		slices.Sort(rcpts)
		if want := []string{"can-bo@phuong.example.vn", "to-truong-3@example.vn"}; !slices.Equal(rcpts, want) {
			t.Errorf("recipients: got %v, want %v", rcpts, want)
		}
		// A later run of the same notice sends nothing again.
		if got := mustCount(t, d, "SELECT COUNT(*) FROM notify_sends WHERE notice_id = ? AND channel = 'email'", n.ID); got != 2 {
			t.Errorf("email sends recorded: got %d, want 2", got)
		}
	})
}
