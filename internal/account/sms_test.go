package account

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOTPText(t *testing.T) {
	want := "Mã xác thực trothu của bạn là 123456. Mã có hiệu lực trong 5 phút. Không chia sẻ mã này cho ai."
	if got := otpText("123456", 5*time.Minute); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestHTTPSender(t *testing.T) {
	var got struct{ To, Text string }
	var auth, ctype string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, ctype = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Errorf("body: %v", err)
		}
		w.WriteHeader(status)
		w.Write([]byte("quota exceeded"))
	}))
	defer srv.Close()
	h := HTTPSender{URL: srv.URL, Token: "tok"}
	if err := h.Send(context.Background(), "+84912345678", "xin chào"); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got.To != "+84912345678" || got.Text != "xin chào" || auth != "Bearer tok" || ctype != "application/json" {
		t.Fatalf("request: got to=%q text=%q auth=%q type=%q", got.To, got.Text, auth, ctype)
	}
	status = http.StatusTooManyRequests
	err := h.Send(context.Background(), "+84912345678", "x")
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "quota exceeded") {
		t.Fatalf("non-2xx: got %v, want an error naming 429 and the body", err)
	}
}

func TestHTTPSenderTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	h := HTTPSender{URL: srv.URL, Client: &http.Client{Timeout: 50 * time.Millisecond}}
	if err := h.Send(context.Background(), "+84912345678", "x"); err == nil {
		t.Fatal("slow gateway: got nil error, want a timeout")
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	l := LogSender{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := l.Send(context.Background(), "+84912345678", otpText("654321", 5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "654321") || strings.Contains(out, "912345678") {
		t.Fatalf("log %q: want the code and a masked phone", out)
	}
}
