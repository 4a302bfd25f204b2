package recorder

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/secrets"
)

var _ llm.StreamingModel = (*Recorder)(nil)

// A RecordedDelta is one delta of a streamed interaction and when the
// caller received it, as an offset from the start of the call.
type RecordedDelta struct {
	At time.Duration
	llm.Delta
}

// SeparateStreams makes streamed and unstreamed calls distinct requests:
// a Stream call matches only interactions recorded by Stream, a Complete
// call only interactions recorded by Complete. By default they match each
// other, since they ask the model the same thing: Complete answered from
// a streamed interaction returns its response (or error), and Stream
// answered from an unstreamed one delivers the response as one delta.
func SeparateStreams() Option { return func(c *config) { c.separateStreams = true } }

// PaceStreams makes replay deliver the deltas of a streamed interaction
// at their recorded pace, waiting before each delta the time that passed
// before it when it was recorded, to test timeouts and user interfaces.
// By default replay delivers them at once.
func PaceStreams() Option { return func(c *config) { c.paceStreams = true } }

// Stream answers req as Complete does, and delivers the answer's deltas
// to yield as they come: live, the live model's (a model that cannot
// stream delivers its answer as one delta, see llm.Stream); replayed,
// the recorded deltas, in the recorded order, then the recorded response
// or failure, so a stream recorded as failed mid-way replays the same
// deltas and then the same *llm.Error (its Partial holding them).
// An interaction recorded by Complete replays as one delta.
//
// In Record and RecordMissing mode the delta sequence is recorded with
// each delta's offset from the start of the call. If yield returns an
// error, the call stops and returns it, and nothing is recorded: the
// caller stopped listening, which is not the model's answer.
func (r *Recorder) Stream(ctx context.Context, req llm.Request, yield func(llm.Delta) error) (llm.Response, error) {
	if yield == nil {
		yield = func(llm.Delta) error { return nil }
	}
	return r.call(ctx, req, yield)
}

// callLive calls the live model, streamed when yield is set, and returns
// the deltas it delivered with their offsets from start. refused says
// that yield stopped the stream.
func (r *Recorder) callLive(ctx context.Context, req llm.Request, start time.Time, yield func(llm.Delta) error) (
	resp llm.Response, deltas []RecordedDelta, refused bool, err error) {
	if yield == nil {
		resp, err = r.live.Complete(ctx, req)
		return resp, nil, false, err
	}
	deltas = []RecordedDelta{}
	resp, err = llm.Stream(ctx, r.live, req, func(d llm.Delta) error {
		deltas = append(deltas, RecordedDelta{At: r.cfg.now().Sub(start), Delta: d.Clone()})
		if err := yield(d); err != nil {
			refused = true
			return err
		}
		return nil
	})
	return resp, deltas, refused, err
}

// replayTo answers a call from a recorded interaction.
func (r *Recorder) replayTo(ctx context.Context, in *Interaction, yield func(llm.Delta) error) (llm.Response, error) {
	if yield == nil {
		return replay(in)
	}
	if !in.Streamed {
		resp, err := replay(in)
		if err != nil {
			return resp, err
		}
		if err := yield(resp.Delta()); err != nil {
			return llm.Response{}, err
		}
		return resp, nil
	}
	var prev time.Duration
	for _, d := range in.Deltas {
		if r.cfg.paceStreams && d.At > prev {
			if err := r.sleep(ctx, d.At-prev); err != nil {
				return llm.Response{}, err
			}
		}
		prev = max(prev, d.At)
		if err := yield(d.Delta.Clone()); err != nil {
			return llm.Response{}, err
		}
	}
	return replay(in)
}

func (r *Recorder) sleep(ctx context.Context, d time.Duration) error {
	if r.cfg.sleep != nil {
		return r.cfg.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// partial returns the deltas a failed streamed interaction delivered, as
// the replayed error's Partial.
func partial(in *Interaction) []llm.Delta {
	if len(in.Deltas) == 0 {
		return nil
	}
	out := make([]llm.Delta, len(in.Deltas))
	for i, d := range in.Deltas {
		out[i] = d.Delta.Clone()
	}
	return out
}

// wireStream is the recorded form of a streamed call: its deltas in order,
// each with its offset ("at") as a Go duration.
type wireStream struct {
	Deltas []wireDelta `json:"deltas"`
}

type wireDelta struct {
	At string `json:"at"`
	llm.Delta
}

func toWireStream(in *Interaction) *wireStream {
	if !in.Streamed {
		return nil
	}
	w := &wireStream{Deltas: make([]wireDelta, len(in.Deltas))}
	for i, d := range in.Deltas {
		w.Deltas[i] = wireDelta{At: d.At.String(), Delta: d.Delta}
	}
	return w
}

// setStream reads the recorded stream of an interaction.
func (in *Interaction) setStream(w *wireStream) error {
	if w == nil {
		return nil
	}
	in.Streamed = true
	in.Deltas = make([]RecordedDelta, len(w.Deltas))
	var prev time.Duration
	for i, d := range w.Deltas {
		at, err := time.ParseDuration(d.At)
		if err != nil || at < prev {
			return fmt.Errorf("stream delta %d: bad offset %q: want a duration, not before the delta before it (%v)", i, d.At, prev)
		}
		if d.IsZero() {
			return fmt.Errorf("stream delta %d (at %s) is empty: a delta carries text, reasoning, tool-call fragments or usage", i, d.At)
		}
		for j, c := range d.ToolCalls {
			if c.Index < 0 {
				return fmt.Errorf("stream delta %d: tool call fragment %d has index %d; want >= 0", i, j, c.Index)
			}
		}
		prev = at
		in.Deltas[i] = RecordedDelta{At: at, Delta: d.Delta}
	}
	return nil
}

// scrubDeltas applies secrets.Redact to the text of every delta. A secret
// split across deltas is in none of them alone, so the joined text (and
// reasoning, and each call's arguments) is scrubbed too; when that changes
// it, the changed middle goes to the first fragment it overlaps and the
// fragments keep the unchanged text around it, so that the secret reaches
// no cassette while the delta sequence keeps its shape. A text delta left
// with nothing is dropped.
func scrubDeltas(in *Interaction) {
	var text, reasoning []*string
	args := map[int][]*string{}
	var order []int
	for i := range in.Deltas {
		d := &in.Deltas[i].Delta
		d.Text = secrets.Redact(d.Text)
		d.Reasoning = secrets.Redact(d.Reasoning)
		text, reasoning = append(text, &d.Text), append(reasoning, &d.Reasoning)
		for j := range d.ToolCalls {
			c := &d.ToolCalls[j]
			c.ID = secrets.Redact(c.ID)
			c.ArgumentsJSON = secrets.Redact(c.ArgumentsJSON)
			if _, ok := args[c.Index]; !ok {
				order = append(order, c.Index)
			}
			args[c.Index] = append(args[c.Index], &c.ArgumentsJSON)
		}
	}
	scrubJoined(text)
	scrubJoined(reasoning)
	for _, i := range order {
		scrubJoined(args[i])
	}
	kept := in.Deltas[:0]
	for _, d := range in.Deltas {
		if !d.IsZero() {
			kept = append(kept, d)
		}
	}
	in.Deltas = kept
}

// scrubJoined scrubs the text the pieces make together, rewriting the
// pieces when a secret spans several of them.
func scrubJoined(pieces []*string) {
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(*p)
	}
	orig := b.String()
	clean := secrets.Redact(orig)
	if clean == orig {
		return
	}
	pre := 0
	for pre < len(orig) && pre < len(clean) && orig[pre] == clean[pre] {
		pre++
	}
	suf := 0
	for suf < len(orig)-pre && suf < len(clean)-pre && orig[len(orig)-1-suf] == clean[len(clean)-1-suf] {
		suf++
	}
	mid, end := clean[pre:len(clean)-suf], len(orig)-suf
	placed := false
	pos := 0
	for _, p := range pieces {
		s, e := pos, pos+len(*p)
		pos = e
		var nb strings.Builder
		if s < pre {
			nb.WriteString(orig[s:min(e, pre)])
		}
		if !placed && e >= pre {
			nb.WriteString(mid)
			placed = true
		}
		if e > end {
			nb.WriteString(orig[max(s, end):e])
		}
		*p = nb.String()
	}
}
