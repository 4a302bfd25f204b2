package recorder_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/recorder"
)

// BenchmarkTransport compares one Chat Completions call (the tool loop's
// second turn, 5 messages) answered by a Transport in replay with the same
// call to a loopback httptest server, in one run:
//
//	go test ./recorder -run '^$' -bench BenchmarkTransport -benchmem
func BenchmarkTransport(b *testing.B) {
	const batch = 100 // interactions per cassette; each replays once
	for _, c := range []struct{ name, req string }{
		{"json", "openai-chat-tool-loop-turn2.request.json"},
		{"stream", "openai-chat-stream.request.json"},
	} {
		body := wire(b, c.req)
		srv := wireServer(b, map[string]string{"json": "openai-chat-tool-loop-turn2.json", "stream": "openai-chat-stream.sse"}[c.name])
		url := srv.URL + "/v1/chat/completions"
		path := filepath.Join(b.TempDir(), c.name+".cassette")
		tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
		if err != nil {
			b.Fatal(err)
		}
		for range batch {
			if _, _, err := post(b, tr.Client(), url, body); err != nil {
				b.Fatal(err)
			}
		}
		if err := tr.Close(); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/replay", func(b *testing.B) {
			var tr *recorder.Transport
			var client *http.Client
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%batch == 0 {
					b.StopTimer()
					if tr != nil {
						tr.Close()
					}
					if tr, err = recorder.OpenTransport(path, nil, recorder.AllowUnused()); err != nil {
						b.Fatal(err)
					}
					client = tr.Client()
					b.StartTimer()
				}
				if _, _, err := post(b, client, url, body); err != nil {
					b.Fatal(err)
				}
			}
			tr.Close()
		})
		b.Run(c.name+"/loopback", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := post(b, srv.Client(), url, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
