package openai_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
	"github.com/openai/openai-go/v3/option"
)

// otherKey is a credential the request did not carry: the model echoes it
// from its prompt, say.
const otherKey = "sk-live-OtherKeyNotConfigured0123456789abcd"

func successBody(content string) string {
	return fmt.Sprintf(`{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%q,"refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, content)
}

// The secrets a request carried (the key, extra headers' values) are
// scrubbed from successful answers always; key-shaped strings the request
// did not carry only with WithOutputScrubbing.
func TestSuccessfulAnswerScrubbing(t *testing.T) {
	content := `{"a":"` + testKey + `","b":"header-secret-0123456","c":"` + otherKey + `","d":"plain text, basic words, the bearer of bad news"}`
	for _, scrubOutputs := range []bool{false, true} {
		srv := newServer(t, reply{status: 200, body: successBody(content)})
		opts := []openai.Option{openai.WithRequestOptions(option.WithHeader("X-Tenant-Token", "header-secret-0123456"))}
		if scrubOutputs {
			opts = append(opts, openai.WithOutputScrubbing())
		}
		m := newModel(t, srv, &sleeps{}, opts...)
		resp, err := m.Complete(context.Background(), llm.Request{Model: "m", Prompt: "p"})
		if err != nil {
			t.Fatal(err)
		}
		out := resp.OutputJSON
		if strings.Contains(out, testKey) || strings.Contains(out, "header-secret-0123456") {
			t.Errorf("scrubOutputs=%v: the request's secrets reach the output: %s", scrubOutputs, out)
		}
		if got := strings.Contains(out, otherKey); got == scrubOutputs {
			t.Errorf("scrubOutputs=%v: output %s", scrubOutputs, out)
		}
		if !strings.Contains(out, "plain text, basic words, the bearer of bad news") {
			t.Errorf("scrubOutputs=%v: ordinary text changed: %s", scrubOutputs, out)
		}
	}
}

// Every field of an error answer is scrubbed: message, type, code, param.
func TestErrorFieldsScrubbed(t *testing.T) {
	body := fmt.Sprintf(`{"error":{"message":"bad key %s","type":"%s","code":"Bearer %s","param":"api_key=%s"}}`, otherKey, testKey, testKey, "zzzz9999")
	srv := newServer(t, reply{status: 400, body: body})
	m := newModel(t, srv, &sleeps{}, openai.WithRetries(0, time.Millisecond, time.Millisecond))
	_, err := m.Complete(context.Background(), llm.Request{Model: "m", Prompt: "p"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{testKey, otherKey, "zzzz9999"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error holds %s: %v", s, err)
		}
	}
	var ae *openai.APIError
	if !errors.As(err, &ae) || ae.Type != "[REDACTED]" || !strings.Contains(ae.Code, "[REDACTED]") {
		t.Errorf("APIError %+v, want its fields scrubbed", ae)
	}
}
