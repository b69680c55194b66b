package notice

import (
	"encoding/json"
	"math"
	"testing"
)

// TestIDEvent: the hand-written event data decodes to the id, as the
// map it replaced did.
func TestIDEvent(t *testing.T) {
	for _, id := range []int64{0, 7, 1234567890123, math.MaxInt64, -1} {
		var got struct {
			ID *int64 `json:"id"`
		}
		raw := idEvent(id)
		if err := json.Unmarshal(raw, &got); err != nil || got.ID == nil || *got.ID != id {
			t.Errorf("idEvent(%d) = %s: decoded %v, %v", id, raw, got.ID, err)
		}
		want, _ := json.Marshal(map[string]any{"id": id})
		if string(raw) != string(want) {
			t.Errorf("idEvent(%d) = %s, want %s", id, raw, want)
		}
	}
}
