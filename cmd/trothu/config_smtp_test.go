package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSMTPConfig(t *testing.T) {
	t.Setenv("TROTHU_SECRET_KEY", "")
	pw := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pw, []byte("mật-khẩu\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TROTHU_SMTP_PASSWORD_FILE", pw)
	c := Config{Data: t.TempDir(), LogFormat: "text", SMTPURL: "smtp://thongbao@mail.example.vn", SMTPFrom: "UBND Phường <ubnd@example.vn>"}
	if err := c.finish(); err != nil {
		t.Fatalf("finish: %v", err)
	}
	m := c.Mail
	if m == nil || m.Addr != "mail.example.vn:587" || m.Username != "thongbao" || m.Password != "mật-khẩu" || m.From != "ubnd@example.vn" {
		t.Errorf("mailer: got %+v, want mail.example.vn:587, user thongbao, the file's password, from ubnd@example.vn", m)
	}
	c = Config{Data: t.TempDir(), LogFormat: "text", SMTPURL: "https://mail.example.vn"}
	if err := c.finish(); err == nil || !strings.Contains(err.Error(), "--smtp-url") {
		t.Errorf("https SMTP URL: got %v, want an --smtp-url error", err)
	}
	c = Config{Data: t.TempDir(), LogFormat: "text"}
	if err := c.finish(); err != nil || c.Mail != nil {
		t.Errorf("no SMTP URL: got %+v, %v; want no mailer", c.Mail, err)
	}
}
