package recorder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/llm"
)

// FuzzDecodeInteraction checks that any body either is refused or
// round-trips: decoded, encoded and decoded again, it encodes to the same
// bytes and has the same fingerprint.
func FuzzDecodeInteraction(f *testing.F) {
	f.Add([]byte(`{"latency":"250ms","request":{"messages":[{"content":"hi","role":"user"}],"model":"m","options":{"temperature":0.5},"prompt":"hi","step_key":"s"},"response":{"output_json":"{}","tool_calls":[{"arguments_json":"{}","tool_name":"t"}],"usage":{"completion_tokens":1,"cost_usd":0.1,"prompt_tokens":2}}}`))
	f.Add([]byte(`{"error":{"class":"transient","message":"slow down","retry_after":"2s","status":429},"latency":"1s","request":{"messages":[],"model":"m","options":{},"prompt":""}}`))
	f.Add([]byte(`{"latency":"1s","request":{"messages":null,"model":"m","options":{},"output_schema":{"type":"object"},"prompt":"","tools":[{"description":"d","name":"n","schema":{}}]},"response":{"output_json":"","usage":{"completion_tokens":0,"cost_usd":0,"prompt_tokens":0}}}`))
	f.Add([]byte(`{"latency":"60ms","request":{"messages":[],"model":"m","options":{},"prompt":"p"},"response":{"output_json":"\"Hi\"","usage":{"completion_tokens":1,"cost_usd":0,"prompt_tokens":2}},"stream":{"deltas":[{"at":"10ms","text":"H"},{"at":"20ms","reasoning":"r","tool_calls":[{"arguments_json":"{","id":"c","index":0,"tool_name":"t"}]},{"at":"30ms","usage":{"completion_tokens":1,"cost_usd":0,"prompt_tokens":2}}]}}`))
	f.Add([]byte(`{"error":{"class":"transient","message":"cut","status":200},"latency":"1s","request":{"messages":[],"model":"m","options":{},"prompt":""},"stream":{"deltas":[]}}`))
	f.Add([]byte(`{"http":{"body":"{\"data\":[]}","header":{"Content-Type":"application/json"},"status":200},"latency":"1ms","request":{"http":{"body":{"b":1,"a":[1.5]},"method":"POST","path":"/v1/messages","query":"x=1"},"messages":[],"model":"","options":{},"prompt":""},"response":{"output_json":"","usage":{"completion_tokens":0,"cost_usd":0,"prompt_tokens":0}}}`))
	f.Add([]byte(`{"http":{"body_base64":"AP8=","status":503},"latency":"1ms","request":{"http":{"api":"openai.chat_completions","extra":{"top_p":0.5}},"messages":[{"content":"hi","role":"user"}],"model":"m","options":{},"prompt":"hi"},"error":{"class":"transient","message":"x","status":503}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeInteraction(body)
		if err != nil {
			return
		}
		enc, err := encodeInteraction(&in)
		old, oldErr := oldMarshal(toWire(&in))
		if (err != nil) != (oldErr != nil) || !bytes.Equal(enc, old) {
			t.Fatalf("the writer's bytes changed:\n now %s (%v)\n was %s (%v)", enc, err, old, oldErr)
		}
		if err != nil {
			return // e.g. an output schema that is not JSON
		}
		req, err := canonicalCall(&in.Request, in.HTTP)
		oldReq, oldErr := oldMarshal(toWireRequest(&in.Request, in.HTTP))
		if err != nil || oldErr != nil || !bytes.Equal(req, oldReq) {
			t.Fatalf("the fingerprinted request text changed:\n now %s (%v)\n was %s (%v)", req, err, oldReq, oldErr)
		}
		again, err := decodeInteraction(enc)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		enc2, err := encodeInteraction(&again)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("not stable:\n%s\n%s", enc, enc2)
		}
		fp1, err1 := fingerprintCall(&in.Request, in.HTTP)
		fp2, err2 := fingerprintCall(&again.Request, again.HTTP)
		if err1 != nil || err2 != nil || fp1 != fp2 {
			t.Fatalf("fingerprints differ: %s %v, %s %v", fp1, err1, fp2, err2)
		}
		// What the writer writes: the request's text in the body is its
		// canonical form, so its hash is the fingerprint Open can skip.
		raw, ok := requestText(enc)
		want, err := canonicalCall(&in.Request, in.HTTP)
		if !ok || err != nil || !bytes.Equal(raw, want) {
			t.Fatalf("request text of %s = %s (%v), want %s (%v)", enc, raw, ok, want, err)
		}
		if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != fp2 {
			t.Fatalf("hash of the request text differs from the fingerprint of the decoded request")
		}
		if raw, ok := requestText(body); ok && !bytes.Contains(body, raw) {
			t.Fatalf("request text %s is not in %s", raw, body)
		}
	})
}

// FuzzDecodeTool checks that any tool record body either is refused or
// round-trips: decoded and encoded, it decodes to the same execution.
func FuzzDecodeTool(f *testing.F) {
	f.Add([]byte(`{"arguments_json":"{\"order\":\"A-17\"}","effect_id":"rf-1","latency":"8µs","outcome":"success","result_json":"{\"id\":\"A-17\"}","tool":"lookup_order"}`))
	f.Add([]byte(`{"arguments_json":"{}","error_message":"already refunded","latency":"1ms","outcome":"permanent_error","tool":"refund"}`))
	f.Add([]byte(`{"arguments_json":"{}","latency":"1s","outcome":"maybe","tool":"refund"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeTool(body)
		if err != nil {
			return
		}
		enc, err := encodeTool(&in)
		if err != nil {
			t.Fatalf("encode %+v: %v", in, err)
		}
		again, err := decodeTool(enc)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		if again != in {
			t.Fatalf("round trip changed %+v into %+v", in, again)
		}
	})
}

// FuzzHTTPRequests checks that the Transport's request parsers never
// panic and that what they understand can be recorded: it encodes,
// decodes to the same request and fingerprints alike.
func FuzzHTTPRequests(f *testing.F) {
	for _, name := range []string{
		"../openai/testdata/wire/openai-chat-tool-loop-turn2.request.json",
		"../openai/testdata/wire/openai-chat-json-schema.request.json",
		"../openai/testdata/wire/openai-chat-stream.request.json",
		"testdata/wire/anthropic-messages-tool-loop-turn2.request.json",
		"testdata/wire/anthropic-messages-stream-tool-loop-turn1.request.json",
	} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for api, parse := range map[string]func([]byte) (llm.Request, bool, json.RawMessage, bool){
			APIChat: chatRequest, APIMessages: messagesRequest,
		} {
			req, streamed, extra, ok := parse(body)
			if !ok {
				continue
			}
			in := Interaction{Request: req, Streamed: streamed, HTTP: &HTTPExchange{API: api, Extra: extra, Status: 200}}
			if streamed {
				in.Deltas = []RecordedDelta{}
			}
			enc, err := encodeInteraction(&in)
			if err != nil {
				continue // e.g. a schema that is not JSON
			}
			again, err := decodeInteraction(enc)
			if err != nil {
				t.Fatalf("%s: re-decode of %s: %v", api, enc, err)
			}
			fp1, err1 := fingerprintCall(&in.Request, in.HTTP)
			fp2, err2 := fingerprintCall(&again.Request, again.HTTP)
			if err1 != nil || err2 != nil || fp1 != fp2 {
				t.Fatalf("%s: fingerprints differ after a round trip: %v %v\n%s", api, err1, err2, enc)
			}
		}
	})
}

// FuzzHTTPStreams checks that whatever event stream an endpoint sends,
// what the Transport records of it can be read back: the stream parsers
// never panic and the interaction they make decodes.
func FuzzHTTPStreams(f *testing.F) {
	for _, name := range []string{
		"../openai/testdata/wire/openai-chat-stream-tool-calls.sse",
		"../openai/testdata/wire/openai-chat-stream-error-midstream.sse",
		"testdata/wire/anthropic-messages-stream-tool-loop-turn1.sse",
		"testdata/wire/anthropic-messages-stream-error-overloaded.sse",
	} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		raw, events, err := readEvents(bytes.NewReader(body), func() time.Duration { return time.Millisecond }, func(b []byte) []byte { return b })
		if err != nil || !bytes.Equal(raw, body) {
			t.Fatalf("readEvents kept %d of %d bytes: %v", len(raw), len(body), err)
		}
		for api, parse := range map[string]func([]sseEvent) ([]RecordedDelta, llm.Response, *llm.Error, bool){
			APIChat: func(ev []sseEvent) ([]RecordedDelta, llm.Response, *llm.Error, bool) {
				return chatStream(ev, false)
			},
			APIMessages: messagesStream,
		} {
			deltas, resp, serr, ok := parse(events)
			if !ok {
				continue
			}
			in := Interaction{Request: llm.Request{Model: "m"}, Streamed: true, Deltas: deltas, Response: resp, Err: serr,
				HTTP: &HTTPExchange{API: api, Status: 200, ResponseBody: raw}}
			if serr != nil {
				in.Response = llm.Response{}
			}
			enc, err := encodeInteraction(&in)
			if err != nil {
				t.Fatalf("%s: encode: %v", api, err)
			}
			if _, err := decodeInteraction(enc); err != nil {
				t.Fatalf("%s: what was recorded cannot be read: %v\n%s", api, err, enc)
			}
		}
	})
}
