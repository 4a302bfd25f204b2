package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/artana-go/go-artana/artana/llm"
	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

var _ llm.StreamingModel = (*Model)(nil)

// Stream sends req as a streamed Chat Completions request (stream: true,
// with stream_options.include_usage so that the usage arrives at the end)
// and calls yield with each piece of the answer as it arrives: one
// llm.Delta per chunk that carries text, reasoning (Ollama's and
// vLLM's "reasoning" / "reasoning_content"), tool-call fragments (with
// their index, and their id and name on a call's first fragment) or the
// usage. Chunks are assembled with the SDK's ChatCompletionAccumulator,
// which merges tool-call fragments by index, and the assembled answer is
// turned into the response exactly as Complete turns a whole one.
//
// Failures are classified as Complete classifies them, and in addition:
// an error event inside a 200 stream, and a stream that ends without
// "data: [DONE]" or is cut off, are transient; a malformed line or an
// unknown event type is permanent. Both kinds carry a *StreamError (or,
// for an error event, an *APIError) naming the line. A stream that fails
// after deltas were delivered keeps them in the error's Partial and is
// not retried, so that yield never sees a piece twice; one that fails
// before the first delta is retried like a failed Complete. The attempt
// timeout (WithAttemptTimeout) bounds a whole streamed attempt.
//
// If yield returns an error, the stream is closed and that error is
// returned as it is.
func (m *Model) Stream(ctx context.Context, req llm.Request, yield func(llm.Delta) error) (llm.Response, error) {
	if err := m.CheckConfig(); err != nil {
		return llm.Response{}, &llm.Error{Class: llm.ClassPermanent, Message: "not configured (nothing was sent)", Err: err}
	}
	params, err := m.buildParams(req)
	if err != nil {
		return llm.Response{}, err
	}
	params.StreamOptions = oai.ChatCompletionStreamOptionsParam{IncludeUsage: oai.Bool(true)}
	for attempt := 1; ; attempt++ {
		s := &streamAttempt{m: m, req: req, yield: yield}
		cc, err := s.run(ctx, params)
		if s.yieldErr != nil {
			return llm.Response{}, s.yieldErr
		}
		if err == nil {
			resp, err := m.response(req, cc)
			if me, ok := errors.AsType[*llm.Error](err); ok && len(s.delivered) > 0 {
				me.Partial = s.delivered
			}
			return resp, err
		}
		me := s.classify(ctx, err)
		if len(s.delivered) > 0 {
			me.Partial = s.delivered
			me.Message += fmt.Sprintf(" (after %d streamed deltas; not retried, the caller has seen them)", len(s.delivered))
			return llm.Response{}, me
		}
		if err := m.retryAfterFailure(ctx, req, attempt, me); err != nil {
			return llm.Response{}, err
		}
	}
}

// streamAttempt is one streamed HTTP call.
type streamAttempt struct {
	m         *Model
	req       llm.Request
	yield     func(llm.Delta) error
	res       *http.Response
	guard     *sseGuard
	chunks    int // events the SDK decoded into chunks
	delivered []llm.Delta
	yieldErr  error
}

// run makes the call and returns the assembled answer.
func (s *streamAttempt) run(ctx context.Context, params oai.ChatCompletionNewParams) (*oai.ChatCompletion, error) {
	m := s.m
	if m.cfg.attemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.cfg.attemptTimeout)
		defer cancel()
	}
	guard := option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		res, err := next(r)
		if err == nil && res != nil && res.StatusCode/100 == 2 && res.Body != nil {
			s.guard = newSSEGuard(res.Body)
			res.Body = s.guard
		}
		return res, err
	})
	opts := append(m.reqOpts[:len(m.reqOpts):len(m.reqOpts)], option.WithResponseInto(&s.res), guard, m.scrubBody())
	stream := m.client.Chat.Completions.NewStreaming(ctx, params, opts...)
	defer stream.Close()

	var acc oai.ChatCompletionAccumulator
	for stream.Next() {
		chunk := stream.Current()
		s.chunks++
		if !acc.AddChunk(chunk) {
			return nil, &StreamError{Line: s.guard.lineOfEvent(s.chunks - 1), Text: short([]byte(chunk.RawJSON())), Kind: ErrMalformedLine}
		}
		d := s.delta(&chunk)
		if d.IsZero() {
			continue
		}
		s.delivered = append(s.delivered, d)
		if err := s.yield(d); err != nil {
			s.yieldErr = err
			return nil, err
		}
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return &acc.ChatCompletion, nil
}

// delta is the piece of the answer a chunk carries (of the first choice:
// the kernel asks for one).
func (s *streamAttempt) delta(c *oai.ChatCompletionChunk) llm.Delta {
	var d llm.Delta
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue
		}
		d.Text += ch.Delta.Content
		d.Reasoning += reasoning(&ch.Delta)
		for _, tc := range ch.Delta.ToolCalls {
			d.ToolCalls = append(d.ToolCalls, llm.ToolCallDelta{
				Index: int(tc.Index), ID: tc.ID, ToolName: tc.Function.Name, ArgumentsJSON: tc.Function.Arguments,
			})
		}
	}
	if c.JSON.Usage.Valid() {
		u := llm.Usage{
			PromptTokens:       c.Usage.PromptTokens,
			CompletionTokens:   c.Usage.CompletionTokens,
			CachedPromptTokens: c.Usage.PromptTokensDetails.CachedTokens,
		}
		price, _ := lookupPrice(s.m.prices, s.req.Model, c.Model)
		u.CostUSD = price.Cost(u.PromptTokens, u.CachedPromptTokens, u.CompletionTokens)
		d.Usage = &u
	}
	return d
}

// reasoning returns the reasoning text of a delta, which OpenAI-compatible
// servers send in a field the SDK does not know.
func reasoning(d *oai.ChatCompletionChunkChoiceDelta) string {
	raw := d.RawJSON()
	if !strings.Contains(raw, `"reasoning`) {
		return ""
	}
	var r struct {
		Reasoning        string `json:"reasoning"`
		ReasoningContent string `json:"reasoning_content"`
	}
	_ = json.Unmarshal([]byte(raw), &r)
	if r.Reasoning != "" {
		return r.Reasoning
	}
	return r.ReasoningContent
}

// classify turns a failed stream into a *llm.Error.
func (s *streamAttempt) classify(ctx context.Context, err error) *llm.Error {
	m := s.m
	if se, ok := errors.AsType[*StreamError](err); ok {
		class := llm.ClassTransient
		msg := "the stream broke off"
		if errors.Is(se.Kind, ErrMalformedLine) || errors.Is(se.Kind, ErrUnknownEvent) {
			class, msg = llm.ClassPermanent, "the endpoint's event stream cannot be read (is it an OpenAI-compatible Chat Completions endpoint?)"
		}
		if ctx.Err() != nil && errors.Is(se.Kind, ErrStreamCut) {
			return m.classify(ctx, ctx.Err(), nil)
		}
		if errors.Is(se.Kind, ErrStreamCut) && errors.Is(se.Cause, context.DeadlineExceeded) {
			return m.classify(ctx, se.Cause, nil)
		}
		c := *se
		if c.Cause != nil {
			c.Cause = m.safeErr(c.Cause)
		}
		c.Text = m.scrub.scrub(c.Text)
		return &llm.Error{Class: class, Message: msg, Err: &c}
	}
	if se, ok := errors.AsType[*ssestream.StreamError](err); ok {
		var body struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Code    string `json:"code"`
				Param   string `json:"param"`
			} `json:"error"`
		}
		_ = json.Unmarshal(se.Event.Data, &body)
		e := &APIError{StatusCode: http.StatusOK, Type: body.Error.Type, Code: body.Error.Code, Param: body.Error.Param,
			Message: m.scrub.scrub(body.Error.Message)}
		where := ""
		if line := s.guard.lineOfEvent(s.chunks); line > 0 {
			where = fmt.Sprintf(" (event stream line %d)", line)
		}
		typ := e.Type
		if typ == "" {
			typ = "error"
		}
		return &llm.Error{Class: llm.ClassTransient, StatusCode: http.StatusOK,
			Message: "the stream reported " + typ + where + ": " + e.Error(), Err: e}
	}
	return m.classify(ctx, err, s.res)
}
