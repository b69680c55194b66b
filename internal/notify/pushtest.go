package notify

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// TestEndpoint is a local push service for tests: it holds a browser's
// subscription keys, checks each request's VAPID authorization (RFC 8292)
// and decrypts its body (RFC 8291) as a browser would.
type TestEndpoint struct {
	Server *httptest.Server
	key    *ecdh.PrivateKey
	auth   []byte

	mu       sync.Mutex
	Messages [][]byte // decrypted payloads, in arrival order
	Errors   []error  // requests that failed to verify or decrypt
}

// NewTestEndpoint starts the endpoint; Close it when done.
func NewTestEndpoint() (*TestEndpoint, error) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	auth := make([]byte, 16)
	if _, err := rand.Read(auth); err != nil {
		return nil, err
	}
	e := &TestEndpoint{key: key, auth: auth}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	return e, nil
}

// Close stops the endpoint.
func (e *TestEndpoint) Close() { e.Server.Close() }

// Subscription is what the browser would send to trothu.
func (e *TestEndpoint) Subscription() Subscription {
	return Subscription{Endpoint: e.Server.URL + "/push/abc", P256dh: base64.RawURLEncoding.EncodeToString(e.key.PublicKey().Bytes()),
		Auth: base64.RawURLEncoding.EncodeToString(e.auth)}
}

// Received returns the decrypted messages and the failures so far.
func (e *TestEndpoint) Received() ([][]byte, []error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([][]byte(nil), e.Messages...), append([]error(nil), e.Errors...)
}

func (e *TestEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	msg, err := e.check(r, body)
	e.mu.Lock()
	if err != nil {
		e.Errors = append(e.Errors, err)
	} else {
		e.Messages = append(e.Messages, msg)
	}
	e.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (e *TestEndpoint) check(r *http.Request, body []byte) ([]byte, error) {
	if r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
		return nil, errors.New("missing Content-Encoding: aes128gcm or TTL")
	}
	if err := VerifyVAPID(r.Header.Get("Authorization"), e.Server.URL, time.Now()); err != nil {
		return nil, err
	}
	return Decrypt(e.key, e.auth, body)
}

// VerifyVAPID checks a "vapid t=JWT, k=KEY" header for the push service at
// origin: an ES256 signature by KEY, the audience and an expiry within 24 h.
func VerifyVAPID(header, origin string, now time.Time) error {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return errors.New("vapid: scheme")
	}
	var tok, k string
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			tok = v
		} else if v, ok := strings.CutPrefix(part, "k="); ok {
			k = v
		}
	}
	kb, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return errors.New("vapid: k")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), kb)
	if err != nil {
		return errors.New("vapid: k is not a P-256 key")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("vapid: t is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("vapid: signature")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("vapid: bad signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("vapid: claims")
	}
	var c struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return errors.New("vapid: claims")
	}
	if c.Aud != origin || c.Exp < now.Unix() || c.Exp > now.Add(24*time.Hour).Unix() || c.Sub == "" {
		return errors.New("vapid: claims aud/exp/sub")
	}
	return nil
}

// Open decrypts a body encrypted for the endpoint's subscription.
func (e *TestEndpoint) Open(body []byte) ([]byte, error) { return Decrypt(e.key, e.auth, body) }
