package account

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/trothu/trothu/internal/vntext"
)

// SMSSender delivers a text message to a phone number in +84… form. It
// returns an error when the message was not accepted for delivery.
type SMSSender interface {
	Send(ctx context.Context, phone, text string) error
}

// LogSender is the default SMSSender for deployments without a gateway: it
// writes each message, code included, to the log at level Info. It is the
// only way to read codes in that case, so keep such logs private.
type LogSender struct {
	Logger *slog.Logger // default slog.Default()
}

// Send logs the message. It never fails.
func (l LogSender) Send(ctx context.Context, phone, text string) error {
	lg := l.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg.InfoContext(ctx, "sms (no gateway configured)", "to", vntext.MaskPhone(phone), "text", text)
	return nil
}

// HTTPSender posts each message as JSON {"to","text"} to a generic SMS
// gateway, with "Authorization: Bearer Token" when Token is set.
type HTTPSender struct {
	URL    string
	Token  string
	Client *http.Client // default: a client with a 10 s timeout
}

// Send posts the message. It returns an error when the gateway cannot be
// reached within the timeout or answers with a status other than 2xx.
func (h HTTPSender) Send(ctx context.Context, phone, text string) error {
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	body, err := json.Marshal(struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}{phone, text})
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("sms gateway: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // best effort: only for the error text
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms gateway: status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// otpText is the message carrying a one-time code.
func otpText(code string, ttl time.Duration) string {
	return fmt.Sprintf("Mã xác thực trothu của bạn là %s. Mã có hiệu lực trong %d phút. Không chia sẻ mã này cho ai.",
		code, int((ttl+time.Minute-1)/time.Minute))
}
