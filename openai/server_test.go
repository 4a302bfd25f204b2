package openai_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/openai"
	"github.com/google/go-cmp/cmp"
)

// testKey is shaped like a real OpenAI project key, so that a leak would
// be caught by both the exact and the pattern scrubbers' tests.
const testKey = "sk-proj-Zk3v9QmTtW8xLp2rNcY7bH4sJd6fGa1eUo5iKq0MzXyVwRtPlOnAbCdEfGh"

// A reply is what the fake server answers to one request.
type reply struct {
	status int
	file   string // body from testdata/wire/
	body   string // literal body, if no file
	header map[string]string
	reset  bool // reset the connection instead of answering
	hang   bool // answer nothing until the client gives up
}

// fakeServer serves replies in order (the last one repeats) and keeps
// every request it got.
type fakeServer struct {
	*httptest.Server
	t       testing.TB
	mu      sync.Mutex
	replies []reply
	bodies  [][]byte
	auth    []string
	paths   []string
}

func newServer(t testing.TB, replies ...reply) *fakeServer {
	t.Helper()
	s := &fakeServer{t: t, replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, body)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.paths = append(s.paths, r.URL.Path)
	rep := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()

	switch {
	case rep.reset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			s.t.Errorf("hijack: %v", err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		_ = conn.Close()
		return
	case rep.hang:
		<-r.Context().Done()
		return
	}
	data := []byte(rep.body)
	if rep.file != "" {
		data = readWire(s.t, rep.file)
	}
	w.Header().Set("Content-Type", "application/json")
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(data)
}

func (s *fakeServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

// sent returns the n-th request body, decoded.
func (s *fakeServer) sent(n int) map[string]any {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= len(s.bodies) {
		s.t.Fatalf("request %d was never sent (%d requests)", n, len(s.bodies))
	}
	return decodeJSON(s.t, s.bodies[n])
}

// authAt returns the Authorization header of the n-th request.
func (s *fakeServer) authAt(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auth[n]
}

func readWire(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "wire", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

func decodeJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// sleeps records the waits between attempts instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newModel returns a Model talking to srv with the test key, recording
// its waits in sl and without jitter.
func newModel(t testing.TB, srv *fakeServer, sl *sleeps, opts ...openai.Option) *openai.Model {
	t.Helper()
	base := []openai.Option{
		openai.WithBaseURL(srv.URL + "/v1"),
		openai.WithAPIKey(testKey),
		openai.WithSleep(sl.sleep),
		openai.WithJitter(func(d time.Duration) time.Duration { return d }),
	}
	m, err := openai.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// checkRequest compares the request the Model sent with the recorded one,
// field by field, after dropping the fields named in skip (fields our
// request model has no counterpart for).
func checkRequest(t *testing.T, srv *fakeServer, n int, recorded string, skip ...string) {
	t.Helper()
	want := decodeJSON(t, readWire(t, recorded))
	for _, k := range skip {
		if _, ok := want[k]; !ok {
			t.Fatalf("%s has no field %q to skip", recorded, k)
		}
		delete(want, k)
	}
	got := srv.sent(n)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request body differs from %s (-recorded +sent):\n%s", recorded, diff)
	}
	srv.mu.Lock()
	p := srv.paths[n]
	srv.mu.Unlock()
	if !strings.HasSuffix(p, "/v1/chat/completions") {
		t.Errorf("request went to %s, want .../v1/chat/completions", p)
	}
}

func ptr[T any](v T) *T { return &v }
