package realtime

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// subject carries every instance's events; each instance delivers the
// events of the others to its own subscribers.
const subject = "trothu.events"

type natsBus struct {
	nc  *nats.Conn
	sub *nats.Subscription
}

// connectNATS connects to url and delivers the other instances' events
// to b. It returns an error when NATS cannot be reached.
func connectNATS(url string, b *Broker) (*natsBus, error) {
	nc, err := nats.Connect(url,
		nats.Name("trothu"),
		nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { b.log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	nb := &natsBus{nc: nc}
	nb.sub, err = nc.Subscribe(subject, func(m *nats.Msg) {
		var env envelope
		if err := json.Unmarshal(m.Data, &env); err != nil {
			b.log.Warn("nats: malformed event", "err", err)
			return
		}
		if env.Origin == b.origin {
			return // delivered locally when it was published
		}
		b.deliver(env.Topic, env.Name, env.Data)
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("subscribe to NATS: %w", err)
	}
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS: %w", err)
	}
	return nb, nil
}

func (n *natsBus) publish(env envelope) error {
	raw, err := json.Marshal(env)
	if err != nil {
		return err
	}
	return n.nc.Publish(subject, raw)
}

func (n *natsBus) close() {
	_ = n.sub.Unsubscribe() // the connection closes next anyway
	n.nc.Close()
}
