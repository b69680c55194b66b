package notify_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/notify"
)

// TestPushDecryptsAtTestEndpoint: a message trothu pushes arrives at a
// local push service with a valid VAPID signature and decrypts (RFC 8291)
// with the browser's keys to exactly what was sent; the VAPID key is made
// once and kept.
func TestPushDecryptsAtTestEndpoint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ep, err := notify.NewTestEndpoint()
		if err != nil {
			t.Fatal(err)
		}
		defer ep.Close()
		s, err := notify.New(ctx, d, notify.Config{})
		if err != nil {
			t.Fatal(err)
		}
		again, err := notify.New(ctx, d, notify.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if s.VAPIDPublicKey() != again.VAPIDPublicKey() || len(s.VAPIDPublicKey()) != 87 {
			t.Errorf("VAPID key: got %q then %q, want one 65-byte key kept", s.VAPIDPublicKey(), again.VAPIDPublicKey())
		}
		want := notify.Message{Title: "Khẩn: cúp điện", Body: "Khu phố 1 cúp điện từ 8 giờ đến 11 giờ.", URL: "/notices/7", Urgent: true}
		if err := s.Push(ctx, ep.Subscription(), want); err != nil {
			t.Fatalf("push: %v", err)
		}
		msgs, errs := ep.Received()
		if len(errs) != 0 || len(msgs) != 1 {
			t.Fatalf("endpoint: got %d messages, errors %v; want 1 and none", len(msgs), errs)
		}
		var got notify.Message
		if err := json.Unmarshal(msgs[0], &got); err != nil {
			t.Fatalf("payload %q: %v", msgs[0], err)
		}
		if got != want {
			t.Errorf("decrypted: got %+v, want %+v", got, want)
		}
	})
}

func TestEncryptRoundTripAndTamper(t *testing.T) {
	ep, err := notify.NewTestEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	body, err := notify.Encrypt(ep.Subscription(), []byte("xin chào"))
	if err != nil {
		t.Fatal(err)
	}
	// 16 salt + 4 rs + 1 idlen + 65 key + 8 text + 1 delimiter + 16 tag
	if len(body) != 16+4+1+65+len("xin chào")+1+16 {
		t.Errorf("body length: got %d, want %d", len(body), 16+4+1+65+len("xin chào")+1+16)
	}
	plain, err := ep.Open(body)
	if err != nil || string(plain) != "xin chào" {
		t.Errorf("round trip: got %q, %v; want xin chào", plain, err)
	}
	body[len(body)-1] ^= 1
	if _, err := ep.Open(body); err == nil {
		t.Error("tampered body: got nil error, want an authentication failure")
	}
	if _, err := notify.Encrypt(notify.Subscription{Endpoint: "x", P256dh: "bad", Auth: "bad"}, nil); err == nil {
		t.Error("encrypt for a malformed subscription: got nil error, want one")
	}
}

func TestSubscribeValidates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, err := notify.New(ctx, d, notify.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Subscribe(ctx, nil, notify.Subscription{}); err == nil {
			t.Error("anonymous subscribe: got nil, want an error")
		}
		p := &account.Principal{AccountID: 1}
		if err := s.Subscribe(ctx, p, notify.Subscription{Endpoint: "ftp://x", P256dh: "a", Auth: "b"}); err == nil {
			t.Error("bad endpoint: got nil, want an error")
		}
	})
}
