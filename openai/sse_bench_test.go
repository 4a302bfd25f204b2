package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	oai "github.com/openai/openai-go/v3"
)

// BenchmarkSSEGuard measures what checking the event stream line by line
// costs, on the recorded Ollama stream (68 KB, 300 events), beside what
// decoding its chunks costs the SDK on every streamed call anyway:
//
//	go test ./openai -run '^$' -bench SSEGuard -benchmem -count 5
func BenchmarkSSEGuard(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "wire", "ollama-chat-stream.sse"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("guard", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := io.Copy(io.Discard, newSSEGuard(io.NopCloser(bytes.NewReader(body)))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk-decode", func(b *testing.B) {
		var events [][]byte
		for _, line := range bytes.Split(body, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok && !bytes.Equal(d, []byte("[DONE]")) {
				events = append(events, d)
			}
		}
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			for _, e := range events {
				var c oai.ChatCompletionChunk
				if err := json.Unmarshal(e, &c); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
