package notify

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/trothu/trothu/internal/db"
)

// Subscription is a browser's push subscription (PushSubscription.toJSON):
// the push service endpoint, the browser's P-256 public key and its 16-byte
// authentication secret, both base64url.
type Subscription struct {
	Endpoint string `json:"endpoint"`
	P256dh   string `json:"p256dh"`
	Auth     string `json:"auth"`
}

// VAPID is the application server's key pair (RFC 8292), generated on first
// start and kept in the settings table.
type VAPID struct {
	key     *ecdsa.PrivateKey
	Subject string // "mailto:…" or an https URL, sent in the JWT's sub claim
}

const vapidSetting = "notify.vapid_private_key"

// LoadVAPID returns the deployment's VAPID key, generating and storing it
// the first time. Concurrent first starts agree on one key (the first
// insert wins). It returns the database's error.
func LoadVAPID(ctx context.Context, d *db.DB, subject string) (*VAPID, error) {
	var raw string
	err := d.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", vapidSetting).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		k, gerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		b, gerr := k.Bytes()
		if gerr != nil {
			return nil, gerr
		}
		enc := base64.RawURLEncoding.EncodeToString(b)
		err = d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", vapidSetting, enc)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("store vapid key: %w", err)
		}
		err = d.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", vapidSetting).Scan(&raw)
	}
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b)
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	if subject == "" {
		subject = "mailto:admin@trothu.invalid"
	}
	return &VAPID{key: k, Subject: subject}, nil
}

// PublicKey returns the uncompressed public key, base64url: the
// applicationServerKey a browser subscribes with.
func (v *VAPID) PublicKey() string {
	b, _ := v.key.PublicKey.Bytes() // a valid P-256 key always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

// Authorization returns the "vapid t=JWT, k=KEY" header value for a push
// service at endpoint (RFC 8292 §3), valid for 12 hours.
func (v *VAPID) Authorization(endpoint string, now time.Time) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("push endpoint %q is not a URL", endpoint)
	}
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	claims, err := json.Marshal(map[string]any{"aud": u.Scheme + "://" + u.Host, "exp": now.Add(12 * time.Hour).Unix(), "sub": v.Subject})
	if err != nil {
		return "", err
	}
	signing := head + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, v.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + signing + "." + base64.RawURLEncoding.EncodeToString(sig) + ", k=" + v.PublicKey(), nil
}

// recordSize is the aes128gcm record size: one record holds the whole
// (small) message.
const recordSize = 4096

// Encrypt encrypts plaintext for the subscription with the aes128gcm
// content coding of RFC 8188 as Web Push uses it (RFC 8291): an ephemeral
// ECDH key agreed with the browser's key, mixed with its auth secret. It
// returns the request body, or an error for a malformed subscription or a
// message too long for one record.
func Encrypt(sub Subscription, plaintext []byte) ([]byte, error) {
	uaPub, err := b64(sub.P256dh)
	if err != nil {
		return nil, fmt.Errorf("p256dh: %w", err)
	}
	auth, err := b64(sub.Auth)
	if err != nil || len(auth) != 16 {
		return nil, errors.New("auth: want 16 bytes base64url")
	}
	if len(plaintext)+1+16 > recordSize {
		return nil, errors.New("push message too long")
	}
	uaKey, err := ecdh.P256().NewPublicKey(uaPub)
	if err != nil {
		return nil, fmt.Errorf("p256dh: %w", err)
	}
	asKey, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		return nil, err
	}
	cek, nonce, err := deriveKeys(asKey, uaKey, uaPub, asKey.PublicKey().Bytes(), auth, salt)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	asPub := asKey.PublicKey().Bytes()
	var out bytes.Buffer
	out.Write(salt)
	_ = binary.Write(&out, binary.BigEndian, uint32(recordSize))
	out.WriteByte(byte(len(asPub)))
	out.Write(asPub)
	padded := append(append([]byte{}, plaintext...), 0x02) // last-record delimiter, no padding
	out.Write(gcm.Seal(nil, nonce, padded, nil))
	return out.Bytes(), nil
}

// Decrypt reverses Encrypt with the browser's private key and auth secret.
// Browsers do this themselves; trothu uses it in tests and in the test
// push endpoint.
func Decrypt(uaKey *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("aes128gcm: short header")
	}
	salt := body[:16]
	idlen := int(body[20])
	if len(body) < 21+idlen {
		return nil, errors.New("aes128gcm: short key id")
	}
	asPub := body[21 : 21+idlen]
	asKey, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, fmt.Errorf("aes128gcm: key id: %w", err)
	}
	cek, nonce, err := deriveKeys(uaKey, asKey, uaKey.PublicKey().Bytes(), asPub, auth, salt)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, body[21+idlen:], nil)
	if err != nil {
		return nil, fmt.Errorf("aes128gcm: %w", err)
	}
	i := bytes.LastIndexByte(plain, 0x02)
	if i < 0 || len(bytes.Trim(plain[i+1:], "\x00")) != 0 {
		return nil, errors.New("aes128gcm: bad padding")
	}
	return plain[:i], nil
}

// deriveKeys is RFC 8291 §3.3–3.4 and RFC 8188 §2.2: own is this side's
// private key, peer the other side's public key.
func deriveKeys(own *ecdh.PrivateKey, peer *ecdh.PublicKey, uaPub, asPub, auth, salt []byte) (cek, nonce []byte, err error) {
	secret, err := own.ECDH(peer)
	if err != nil {
		return nil, nil, err
	}
	prkKey, err := hkdf.Extract(sha256.New, secret, auth)
	if err != nil {
		return nil, nil, err
	}
	info := "WebPush: info\x00" + string(uaPub) + string(asPub)
	ikm, err := hkdf.Expand(sha256.New, prkKey, info, 32)
	if err != nil {
		return nil, nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	if cek, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16); err != nil {
		return nil, nil, err
	}
	nonce, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	return cek, nonce, err
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func b64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// ErrGone is returned by Push when the push service says the subscription
// no longer exists (404 or 410): the caller should forget it.
var ErrGone = errors.New("push subscription expired")

// Pusher sends Web Push messages.
type Pusher struct {
	VAPID  *VAPID
	Client *http.Client
	Now    func() time.Time
}

// Push encrypts payload for sub and posts it to the push service with the
// given time to live and urgency ("very-low", "low", "normal", "high").
// Topic, when set, lets the push service replace an undelivered message of
// the same topic (so a retried send is not shown twice). It returns ErrGone
// for an expired subscription and an error for any other non-2xx answer.
func (p *Pusher) Push(ctx context.Context, sub Subscription, payload []byte, ttl time.Duration, urgency, topic string) error {
	body, err := Encrypt(sub, payload)
	if err != nil {
		return err
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	authz, err := p.VAPID.Authorization(sub.Endpoint, now())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.Itoa(int(ttl.Seconds())))
	if urgency != "" {
		req.Header.Set("Urgency", urgency)
	}
	if topic != "" {
		req.Header.Set("Topic", topic)
	}
	req.Header.Set("Authorization", authz)
	c := p.Client
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		return ErrGone
	case res.StatusCode < 200 || res.StatusCode > 299:
		return fmt.Errorf("push service answered %d", res.StatusCode)
	}
	return nil
}
