package notify

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// ParseSMTPURL returns the Mailer for an smtp://[user@]host[:port] URL
// (port 587 by default), the password to authenticate user with, and the
// From address (default "trothu@HOST"). It returns an error for another
// scheme, a missing host or a malformed From address.
func ParseSMTPURL(raw, password, from string) (*Mailer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	if u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, fmt.Errorf("smtp url %q: want smtp://[user@]host[:port]", u.Redacted())
	}
	port := u.Port()
	if port == "" {
		port = "587"
	}
	m := &Mailer{Addr: net.JoinHostPort(u.Hostname(), port), From: from, Password: password}
	if u.User != nil {
		m.Username = u.User.Username()
		if p, ok := u.User.Password(); ok && m.Password == "" {
			m.Password = p
		}
	}
	if m.From == "" {
		m.From = "trothu@" + u.Hostname()
	}
	a, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("smtp from %q: %w", m.From, err)
	}
	m.From = a.Address
	return m, nil
}

// sendMail delivers one UTF-8 plain-text message with net/smtp, using
// STARTTLS when the server offers it and PLAIN authentication when a user
// name is set.
func sendMail(ctx context.Context, m *Mailer, to, subject, body string) error {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(30 * time.Second)
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	_ = conn.SetDeadline(dl)
	host, _, _ := net.SplitHostPort(m.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	msg := "From: " + m.From + "\r\nTo: " + to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", subject) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	if _, err := w.Write([]byte(msg)); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return c.Quit()
}
